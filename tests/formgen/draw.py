"""The geometry of a family's sheet: where every cell, printed text and value slot goes.

Sections are stacked top to bottom; ``fit_sheet`` shrinks the row height until the whole
form fits on A4 at 300 dpi. Nothing here draws pixels (see ``paint``).
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from ocr.generate import A4

from tests.formgen.family import FamilyLayout, mayor_of
from tests.formgen.geometry import Cell, Label, LabelRole, Rect, Sheet, Slot, SlotKind, text_rect, text_width

PAGE_BOTTOM = A4[1] - 130  # keep clear of the scanner's bottom edge
MIN_ROW = 84
ERAS_BY_FIELD: dict[str, tuple[tuple[str, ...], ...]] = {
    # Pre-printed era choices a municipality would print for each date (one is circled).
    "recipient_birth_date": (("昭和", "平成"), ("昭和", "平成", "令和")),
    "child": (("平成", "令和"),),
    "submission_date": (("令和",),),
}


class Builder:
    """Accumulates one sheet; helpers return the rects they used so callers can stack them."""

    def __init__(self, lay: FamilyLayout, rh: int) -> None:
        self.lay = lay
        self.font = lay.print_font
        self.rh = rh
        self.sheet = Sheet()
        self.x0 = lay.margin
        self.width = A4[0] - 2 * lay.margin
        scale = rh / lay.row_height
        self.ls = min(lay.label_size, int(rh * 0.34))  # label size
        self.vs = min(lay.value_size, int(rh * 0.44))  # value (handwriting) size
        self.gap = max(30, int(lay.gap * scale))
        self.section_no = 0

    # ---------------------------------------------------------------- primitives

    def cell(self, r: Rect, shaded: bool = False) -> Rect:
        self.sheet.cells.append(Cell(r, shaded and self.lay.shade is not None))
        return r

    def text(self, x: int, y: int, text: str, size: int, role: LabelRole = "label", field: str = "") -> Rect:
        r = text_rect(self.font, size, x, y, text)
        self.sheet.labels.append(Label((x, y), r, text, size, role, field))
        return r

    def text_in(self, r: Rect, text: str, size: int, *, align: Literal["left", "center"] = "center", pad: int = 14,
                role: LabelRole = "label", field: str = "") -> Rect:
        """Text vertically centred in *r*, shrunk until it fits its width."""
        while text_width(self.font, size, text) > r.w - 2 * pad and size > 20:
            size -= 2
        tw = text_width(self.font, size, text)
        ink = text_rect(self.font, size, 0, 0, text)
        x = r.x + (r.w - tw) // 2 if align == "center" else r.x + pad
        y = r.y + (r.h - ink.h) // 2 - ink.y
        return self.text(x, y, text, size, role, field)

    def label_cell(self, r: Rect, text: str, field: str = "") -> None:
        self.cell(r, shaded=True)
        self.text_in(r, text, self.ls, field=field)

    def slot(self, field: str, kind: SlotKind, r: Rect, box: Rect, *, size: int | None = None, index: int = 0, option: str = "",
             align: Literal["left", "center"] = "left") -> None:
        self.sheet.slots.append(Slot(field, kind, r, box, self.vs if size is None else size, index, option, align))

    def heading(self, y: int, section: str) -> int:
        self.section_no += 1
        text = self.lay.headings[section]
        if self.lay.numbered_headings:
            text = f"{self.section_no}　{text}"
        size = self.ls + 4
        self.text(self.x0, y, text, size, role="heading")
        return y + size + 26

    # ---------------------------------------------------------------- value areas

    def value_area(self, field: str, box: Rect, area: Rect) -> None:
        """The slots of *field* inside *area*, which lies in the printed *box*."""
        arr = self.lay.arrangement
        if field.endswith("birth_date") or field == "submission_date":
            key = "child" if field.startswith("children.") else field
            self.date(field, box, area, ERAS_BY_FIELD[key][self.lay.family_id % len(ERAS_BY_FIELD[key])])
        elif field == "my_number" and arr["my_number"] == "digit_boxes":
            self.digits(field, area, (4, 4, 4), hyphen=False)
        elif field == "postal_code" and arr["postal_code"] == "digit_boxes":
            self.digits(field, area, (3, 4), hyphen=True)
        elif field == "address" and arr["postal_code"] == "in_address":
            line = Rect(area.x, area.y, area.w, area.h * 2 // 5)
            mark = self.text_in(Rect(line.x, line.y, 80, line.h), "〒", self.ls, align="left")
            pw = int(self.vs * 5.2)
            self.slot("postal_code", "text", Rect(mark.right + 10, line.y, pw, line.h), box, size=int(self.vs * 0.9))
            self.slot(field, "text", Rect(area.x, line.bottom, area.w, area.h - line.h), box)
        else:
            self.slot(field, "text", area, box)

    def digits(self, field: str, area: Rect, groups: tuple[int, ...], *, hyphen: bool) -> None:
        """One box per digit, grouped; the boxes fill the area's height from its left edge."""
        n = sum(groups)
        sep = int(area.h * 0.5) if hyphen else int(area.h * 0.22)
        bw = min(int(area.h * 0.82), (area.w - sep * (len(groups) - 1) - 10) // n)
        x, i = area.x, 0
        for g, count in enumerate(groups):
            if g:
                if hyphen:
                    self.sheet.hyphens.append(Rect(x + sep // 4, area.y + area.h // 2 - 2, sep // 2, 4))
                x += sep
            for _ in range(count):
                r = self.cell(Rect(x, area.y, bw, area.h))
                self.slot(field, "char", r.inset(4), r, index=i, align="center", size=min(self.vs + 4, int(area.h * 0.6)))
                x += bw
                i += 1

    def date(self, field: str, box: Rect, area: Rect, eras: Sequence[str]) -> None:
        if self.lay.arrangement["dates"] == "written":
            self.slot(field, "text", area, box)
            return
        # Pre-printed: 「昭和・平成・令和　　年　　月　　日」, numbers written in the gaps, era circled.
        size = min(self.ls, int(area.h * 0.42))
        era_text = "・".join(eras)
        pad = 16
        unit = text_width(self.font, size, "年")

        def one_line_gap(s: int) -> int:
            # Leave a margin at the right too: the printed 日 must not touch the cell's line.
            return (area.w - 2 * pad - text_width(self.font, s, era_text) - 3 * text_width(self.font, s, "年") - 60) // 3

        two_lines = one_line_gap(size) < 2 * size and area.h >= 4 * size
        while not two_lines and one_line_gap(size) < int(1.8 * size) and size > 22:
            size -= 2
        unit = text_width(self.font, size, "年")
        if two_lines:
            top = Rect(area.x, area.y, area.w, area.h // 2)
            ymd = Rect(area.x, area.y + area.h // 2, area.w, area.h - area.h // 2)
            ex = area.x + (area.w - text_width(self.font, size, era_text)) // 2
            g = min(int(3.2 * size), (area.w - 2 * pad - 3 * unit - 40) // 3)
            gx = area.x + (area.w - 3 * (g + unit + 4)) // 2
        else:
            top = ymd = area
            ex = area.x + pad
            g = min(one_line_gap(size), int(3.2 * size))
            gx = ex + text_width(self.font, size, era_text) + 20
        ink = text_rect(self.font, size, 0, 0, "令和年")
        ty = top.y + (top.h - ink.h) // 2 - ink.y
        for j, era in enumerate(eras):
            if j:
                ex = self.text(ex, ty, "・", size, role="era").right + 2
            r = self.text(ex, ty, era, size, role="era")
            if len(eras) > 1:
                self.slot(field, "era", r, box, option=era)
            ex = r.right + 2
        yy = ymd.y + (ymd.h - ink.h) // 2 - ink.y
        parts: tuple[tuple[SlotKind, str], ...] = (("year", "年"), ("month", "月"), ("day", "日"))
        for kind, unit_text in parts:
            gap_rect = Rect(gx, ymd.y + 4, g, ymd.h - 8)
            self.slot(field, kind, gap_rect, box, align="center", size=min(self.vs, int(ymd.h * 0.7)))
            r = self.text(gx + g, yy, unit_text, size, role="era")
            gx = r.right + 4

    def options(self, field: str, box: Rect, area: Rect, options: Sequence[tuple[str, str]], style: Literal["tick", "circle"],
                *, numbered: bool = False) -> None:
        """Printed options (text, value) across *area*: a tick box before each, or text to circle."""
        size = self.ls
        cb = min(42, int(area.h * 0.45))
        texts = [f"{i + 1}．{t}" if numbered else t for i, (t, _v) in enumerate(options)]
        lead = cb + 16 if style == "tick" else 0
        widths = [lead + text_width(self.font, size, t) for t in texts]
        spare = area.w - sum(widths) - 60
        g = max(40, min(110, spare // max(1, len(options))))
        x = area.x + (30 if style == "tick" else 70)  # a circle must not cross the cell's line
        ink = text_rect(self.font, size, 0, 0, "国")
        ty = area.y + (area.h - ink.h) // 2 - ink.y
        for t, (_label, value), w in zip(texts, options, widths):
            if style == "tick":
                r = self.cell(Rect(x, area.y + (area.h - cb) // 2, cb, cb))
                self.slot(field, "check", r, box, option=value)
                self.text(x + lead, ty, t, size, role="option")
            else:
                r = self.text(x, ty, t, size, role="option")
                self.slot(field, "circle", r, box, option=value)
            x += w + g

    # ---------------------------------------------------------------- header and footer

    def top(self) -> int:
        lay = self.lay
        fy = 110
        fn = text_width(self.font, 30, lay.form_number)
        self.text(self.x0 + self.width - fn if lay.form_number_right else self.x0, fy, lay.form_number, 30, role="form_number")
        size = 72 if len(lay.title) <= 12 else 64
        tw = text_width(self.font, size, lay.title)
        y = fy + 70
        self.text(self.x0 + (self.width - tw) // 2 if lay.title_centered else self.x0 + 40, y, lay.title, size, role="title")
        y += size + 50
        if lay.notes and lay.notes_at_top:
            y = self.notes(y)
        return y

    def dated_rows(self, y: int) -> int:
        """Submission date (with room for the 受付 stamp at its right) and the addressee."""
        lay, rh = self.lay, self.rh
        stamp = int(rh + self.gap * 0.9) if lay.arrangement["stamp"] == "stamp" else 0
        lw = max(220, text_width(self.font, self.ls, lay.labels["submission_date"]) + 40)
        sub_w = lw + (820 if lay.arrangement["dates"] == "preprinted" else 640)
        sub_x = self.x0 + self.width - sub_w - (stamp + 30 if stamp else 0)
        if lay.arrangement["addressed_to"] == "line":
            addr_text = f"（{lay.labels['addressed_to']}）"
            addr_w = text_width(self.font, self.ls + 4, addr_text + "　長野市長　様") + 200
        else:
            alw = max(200, text_width(self.font, self.ls, lay.labels["addressed_to"]) + 40)
            addr_w = alw + 560
        same_row = self.x0 + addr_w + 60 <= sub_x
        # Date row first (it sits at the right, where forms put it).
        self.label_cell(Rect(sub_x, y, lw, rh), lay.labels["submission_date"], field="submission_date")
        box = self.cell(Rect(sub_x + lw, y, sub_w - lw, rh))
        self.value_area("submission_date", box, box)
        if stamp:
            self.sheet.stamp = Rect(sub_x + sub_w + 30, y + rh // 2 - stamp // 2, stamp, stamp)
        ay = y if same_row else y + rh + max(self.gap // 2, stamp // 2 - rh // 2 + 20)
        if lay.arrangement["addressed_to"] == "line":
            size = self.ls + 4
            ink = text_rect(self.font, size, 0, 0, "国")
            ty = ay + (rh - ink.h) // 2 - ink.y
            r = self.text(self.x0 + 20, ty, addr_text, size)
            r = self.text(r.right + 60, ty, mayor_of(lay), size, role="printed_value", field="addressed_to")
            self.text(r.right + 40, ty, "様", size)
        else:
            self.label_cell(Rect(self.x0, ay, alw, rh), lay.labels["addressed_to"], field="addressed_to")
            box = self.cell(Rect(self.x0 + alw, ay, addr_w - alw, rh))
            self.slot("addressed_to", "text", box, box)
        return ay + rh + self.gap

    def notes(self, y: int) -> int:
        size = 27
        for note in self.lay.notes:
            self.text(self.x0 + 10, y, note, size, role="note")
            y += size + 14
        return y + self.gap // 2

    def office_box(self, y: int) -> int:
        cells = self.lay.office_cells
        hh, bh = 56, 120
        lw = 360
        self.label_cell(Rect(self.x0, y, lw, hh + bh), "※市町村記入欄")
        cw = min(300, (self.width - lw) // len(cells))
        x = self.x0 + self.width - cw * len(cells)
        for name in cells:
            self.cell(Rect(x, y, cw, hh), shaded=True)
            self.text_in(Rect(x, y, cw, hh), name, 28)
            self.cell(Rect(x, y + hh, cw, bh))
            x += cw
        return y + hh + bh

    # ---------------------------------------------------------------- identity

    def _need(self, f: str) -> int:
        """Width a field's value needs (before its label)."""
        vs, arr = self.vs, self.lay.arrangement
        if f in ("recipient_kana", "address") or (f == "my_number" and arr["my_number"] == "digit_boxes"):
            return self.width  # always a row of its own
        if f == "recipient_birth_date":
            return 820 if arr["dates"] == "preprinted" else int(vs * 8.5) + 80
        if f == "postal_code" and arr["postal_code"] == "digit_boxes":
            return int(self.rh * 0.82 * 7) + 100
        chars = {"recipient_number": 4.5, "recipient_name": 7, "spouse_name": 7, "postal_code": 5, "phone": 8, "my_number": 7.5}[f]
        return int(vs * chars) + 90

    def _pack(self, label_w: dict[str, int], max_cols: int) -> list[tuple[str, ...]]:
        rows: list[tuple[str, ...]] = []
        cur: list[str] = []
        for f in self.lay.identity_order:
            need = label_w[f] + self._need(f)
            if cur and (len(cur) >= max_cols or sum(label_w[c] + self._need(c) for c in cur) + need > self.width):
                rows.append(tuple(cur))
                cur = []
            cur.append(f)
            if need >= self.width:
                rows.append(tuple(cur))
                cur = []
        if cur:
            rows.append(tuple(cur))
        return rows

    def _shares(self, row: Sequence[str], label_w: dict[str, int]) -> list[int]:
        """Split the full width among a row's fields by what each needs (right edges align)."""
        needs = [label_w[f] + min(self._need(f), self.width) for f in row]
        total = sum(needs)
        shares = [self.width * n // total for n in needs]
        shares[-1] = self.width - sum(shares[:-1])
        return shares

    def _tall(self, f: str) -> bool:
        return f == "address" and self.lay.arrangement["postal_code"] == "in_address"

    def identity(self, y: int) -> int:
        y = self.heading(y, "identity")
        lay, rh, mode = self.lay, self.rh, self.lay.arrangement["identity"]
        labels = lay.labels
        if mode == "label_left":
            lw = min(self.width * 3 // 10, max(text_width(self.font, self.ls, labels[f]) for f in lay.identity_order) + 50)
            rows: list[tuple[str, ...]] = [(f,) for f in lay.identity_order]
            for f in lay.identity_order:
                h = int(rh * 1.75) if self._tall(f) else rh
                self.label_cell(Rect(self.x0, y, lw, h), labels[f], field=f)
                box = self.cell(Rect(self.x0 + lw, y, self.width - lw, h))
                self.value_area(f, box, box)
                y += h
        elif mode == "label_pairs":
            # One label width for the whole block, so the label column lines up row to row.
            lw = min(self.width // 5, max(200, max(text_width(self.font, self.ls, labels[f]) for f in lay.identity_order) + 44))
            label_w = {f: lw for f in lay.identity_order}
            rows = self._pack(label_w, 2)
            for row in rows:
                h = int(rh * 1.75) if any(self._tall(f) for f in row) else rh
                x = self.x0
                for f, share in zip(row, self._shares(row, label_w)):
                    self.label_cell(Rect(x, y, label_w[f], h), labels[f], field=f)
                    box = self.cell(Rect(x + label_w[f], y, share - label_w[f], h))
                    self.value_area(f, box, box)
                    x += share
                y += h
        elif mode == "label_inside":
            small = max(26, min(32, self.ls - 6))
            label_w = {f: 0 for f in lay.identity_order}
            rows = self._pack(label_w, 2)
            band = small + 18
            for row in rows:
                h = int(rh * 2.1) if any(self._tall(f) for f in row) else int(rh * 1.3)
                x = self.x0
                for f, share in zip(row, self._shares(row, label_w)):
                    box = self.cell(Rect(x, y, share, h))
                    lab = self.text(x + 14, y + 10, labels[f], small, field=f)
                    top = max(y + band, lab.bottom + 6)  # fonts differ in where their ink sits
                    area = Rect(x + 8, top, share - 16, y + h - 8 - top)
                    self.value_area(f, box, area)
                    x += share
                y += h
        else:  # label_above
            cols = 2 + lay.family_id % 2
            label_w = {f: 0 for f in lay.identity_order}
            rows = self._pack(label_w, cols)
            lh = int(rh * 0.55)
            for row in rows:
                h = int(rh * 1.6) if any(self._tall(f) for f in row) else rh
                x = self.x0
                for f, share in zip(row, self._shares(row, label_w)):
                    self.label_cell(Rect(x, y, share, lh), labels[f], field=f)
                    box = self.cell(Rect(x, y + lh, share, h))
                    self.value_area(f, box, box)
                    x += share
                y += lh + h
        self.sheet.identity_rows = list(rows)
        return y + self.gap

    # ---------------------------------------------------------------- children

    def child_cell(self, i: int, attr: str, box: Rect) -> None:
        """One child's attribute in a table cell: a 同居 answer, or a slot to write in."""
        f = f"children.{i}.{attr}"
        if attr == "lives_together":
            self.lives_cell(f, box)
        else:
            self.value_area(f, box, box)

    def lives_cell(self, field: str, box: Rect) -> None:
        if self.lay.arrangement["lives_together"] == "tick_box":
            cb = min(46, int(box.h * 0.45))
            r = self.cell(Rect(box.x + (box.w - cb) // 2, box.y + (box.h - cb) // 2, cb, cb))
            self.slot(field, "check", r, box, option="true")
        else:
            opts = [("同居", "true"), ("別居", "false")]
            w = sum(text_width(self.font, self.ls, t) for t, _ in opts) + 50
            area = Rect(box.x + max(0, (box.w - w) // 2) - 30, box.y, min(box.w, w + 60), box.h)
            self.options(field, box, area, opts, "circle")

    def children(self, y: int) -> int:
        y = self.heading(y, "children")
        lay, rh, mode = self.lay, self.rh, self.lay.arrangement["children"]
        cl = lay.child_labels
        pre = lay.arrangement["dates"] == "preprinted"
        if mode == "row_table":
            base = {"name": 660, "birth_date": 620 if pre else 600, "relation": 260, "lives_together": 330}
            total = sum(base.values())
            widths = [base[c] * self.width // total for c in lay.child_columns]
            widths[-1] = self.width - sum(widths[:-1])
            hh = int(rh * 0.75)
            x = self.x0
            for c, w in zip(lay.child_columns, widths):
                self.label_cell(Rect(x, y, w, hh), cl[c])
                x += w
            y += hh
            for i in range(4):
                x = self.x0
                for c, w in zip(lay.child_columns, widths):
                    self.child_cell(i, c, self.cell(Rect(x, y, w, rh)))
                    x += w
                y += rh
        elif mode == "column_table":
            attrs = ("name", "birth_date", "relation", "lives_together")
            lw = max(240, max(text_width(self.font, self.ls, cl[a]) for a in attrs) + 50)
            cw = (self.width - lw) // 4
            hh = int(rh * 0.7)
            self.label_cell(Rect(self.x0, y, lw, hh), "")
            heads = ("児童{}", "第{}子", "（{}）")[lay.family_id % 3]
            for i in range(4):
                self.label_cell(Rect(self.x0 + lw + i * cw, y, cw, hh), heads.format(i + 1))
            y += hh
            for a in attrs:
                h = int(rh * 1.5) if a == "birth_date" and pre else rh
                self.label_cell(Rect(self.x0, y, lw, h), cl[a])
                for i in range(4):
                    self.child_cell(i, a, self.cell(Rect(self.x0 + lw + i * cw, y, cw, h)))
                y += h
        else:  # cards, 2x2
            cw = (self.width - self.gap) // 2
            inside = lay.card_labels == "inside"
            lh = int(rh * 1.15) if inside else int(rh * 0.9)
            if pre and not inside:
                lh = max(lh, rh)
            hh = int(rh * 0.55)
            card_h = hh + 3 * lh
            small = max(26, min(30, self.ls - 8))
            for i in range(4):
                cx = self.x0 + (i % 2) * (cw + self.gap)
                cy = y + (i // 2) * (card_h + self.gap // 2)
                self.cell(Rect(cx, cy, cw, card_h))
                self.cell(Rect(cx, cy, cw, hh), shaded=True)
                self.text_in(Rect(cx, cy, cw, hh), f"児童{i + 1}", self.ls - 4, align="left")
                lines: list[list[tuple[str, int]]] = [[("name", cw)], [("birth_date", cw)], [("relation", cw // 2), ("lives_together", cw - cw // 2)]]
                ly = cy + hh
                for line in lines:
                    x = cx
                    for a, w in line:
                        f = f"children.{i}.{a}"
                        if inside:
                            box = self.cell(Rect(x, ly, w, lh))
                            lab = self.text(x + 12, ly + 8, cl[a], small, field=f)
                            top = max(ly + small + 14, lab.bottom + 6)
                            area = Rect(x + 6, top, w - 12, ly + lh - 6 - top)
                        else:
                            mw = max(150, text_width(self.font, small + 4, cl[a]) + 30)
                            self.label_cell(Rect(x, ly, mw, lh), cl[a], field=f)
                            box = self.cell(Rect(x + mw, ly, w - mw, lh))
                            area = box
                        if a == "lives_together":
                            self.lives_cell(f, box if not inside else Rect(area.x, area.y, area.w, area.h))
                        else:
                            self.value_area(f, box, area)
                        x += w
                    ly += lh
            y += 2 * card_h + self.gap // 2
        return y + self.gap

    # ---------------------------------------------------------------- pension and questions

    def pension(self, y: int) -> int:
        y = self.heading(y, "pension")
        lay, rh = self.lay, self.rh
        lw = max(300, text_width(self.font, self.ls, lay.labels["pension_type"]) + 50)
        self.label_cell(Rect(self.x0, y, lw, rh), lay.labels["pension_type"], field="pension_type")
        box = self.cell(Rect(self.x0 + lw, y, self.width - lw, rh))
        style: Literal["tick", "circle"] = "tick" if lay.arrangement["pension"] == "tick_boxes" else "circle"
        self.options("pension_type", box, box, [(p, p) for p in lay.pension_options], style, numbered=style == "circle")
        return y + rh + self.gap

    def questions(self, y: int) -> int:
        y = self.heading(y, "questions")
        lay = self.lay
        h = int(self.rh * 0.9)
        old = lay.arrangement["questions"] == "statement_tick"
        lw = max(text_width(self.font, self.ls, lab) for lab, _ in lay.statements.values()) + 50
        aw = 460
        n = 0
        for q in lay.questions:
            if old and q in lay.statements:
                label, statement = lay.statements[q]
                self.label_cell(Rect(self.x0, y, lw, h), label, field=q)
                box = self.cell(Rect(self.x0 + lw, y, self.width - lw, h))
                cb = min(42, int(h * 0.45))
                r = self.cell(Rect(box.x + 30, y + (h - cb) // 2, cb, cb))
                self.slot(q, "check", r, box, option="true")
                self.text_in(Rect(r.right + 20, y, box.right - r.right - 20, h), statement, self.ls, align="left", pad=0,
                             role="statement", field=q)
            else:
                n += 1
                sbox = self.cell(Rect(self.x0, y, self.width - aw, h))
                self.text_in(sbox, f"（{n}）{lay.question_text[q]}", self.ls, align="left", role="statement", field=q)
                box = self.cell(Rect(self.x0 + self.width - aw, y, aw, h))
                self.options(q, box, box, [("はい", "true"), ("いいえ", "false")], "tick")
            y += h
        return y + self.gap


def build_sheet(lay: FamilyLayout, rh: int) -> Sheet:
    b = Builder(lay, rh)
    y = b.top()
    if lay.arrangement["header"] == "top":
        y = b.dated_rows(y)
    for section in lay.sections:
        y = {"identity": b.identity, "children": b.children, "pension": b.pension, "questions": b.questions}[section](y)
    if lay.arrangement["header"] == "bottom":
        b.text(b.x0 + 20, y, lay.declaration, b.ls)
        y = b.dated_rows(y + b.ls + 30)
    if lay.notes and not lay.notes_at_top:
        y = b.notes(y)
    if lay.office_cells:
        y = b.office_box(y + 10)
    b.sheet.bottom = y
    return b.sheet


def fit_sheet(lay: FamilyLayout) -> tuple[int, Sheet]:
    """Shrink the row height until the form fits the page."""
    rh = lay.row_height
    sheet = build_sheet(lay, rh)
    while sheet.bottom > PAGE_BOTTOM and rh > MIN_ROW:
        rh -= 4
        sheet = build_sheet(lay, rh)
    return rh, sheet
