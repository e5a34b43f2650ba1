"""Binding: each field of a template to the region of the page its value is written in, whatever
the arrangement.

The old locator assumed one drawing (the value is the ruled cell right of the label, or below a
table header). Municipal layouts also print the label small inside the value's own box, stack the
label above the value, put one child per column or per card, and ask questions as sentences with
はい/いいえ boxes. So for every place a field's label is found (a fuzzy substring of a text
segment, :mod:`ocr.pagetext`), every plausible value region is a candidate:

* ``inside``: the rest of the label's own cell (below the label, or right of it), when the label
  sits at the top-left of a cell with room for a value;
* ``right``: the next ruled cell of the row (with a run of one-box-per-digit cells);
* ``below``: the cell directly under the label's cell.

Each candidate is scored by the label match, by geometry (a label centred in a cell of its own is
a label cell; one in the corner of a large box labels that box), by what the layout pass read in
it (a date region should look like a date, a code region like digits, a region holding another
field's label is no value) and by ink. Fields take their best candidate greedily, best first,
never sharing a label or a region (but a field nested in another's box, 〒 in the address box, whose
region is then carved out of the outer one); when the runner-up region is nearly as good the target is
marked ``unsure`` so the reader flags it rather than guess silently.

Candidates and their scores live in :mod:`ocr.candidates`; repeated groups (a table field: a
header-row table, one column per entry, or cards) in :mod:`ocr.groups`.
"""
from __future__ import annotations

import re

from ocr.candidates import Candidate, candidates, options_of
from ocr.grid import Cell, find_squares
from ocr.groups import bind_table, recover_column_rows
from ocr.layout import PageLayout
from ocr.locate import MATCH, WEAK_MATCH, Located, Target, classify_score
from ocr.pagetext import Hit, Segment, hits, segments
from ocr.results import FieldType
from ocr.templates import FormTemplate
from ocr.values import to_halfwidth

__all__ = ["bind", "recover_column_rows"]

CLOSE_CALL = 0.2  # a runner-up region within this score of the best makes the binding unsure
MIN_BIND = 0.9  # below this total score no candidate is taken (the label alone scores up to 1)
LONE_BOX = 36  # px: a box no field explains must be this big to say a question is there (a 同 in 40 pt print is ~32)


def bind(template: FormTemplate, layout: PageLayout) -> Located:
    segs = segments(layout)
    groups = template.label_groups()
    all_hits = _dedupe([h for key, syns in groups.items() for h in _strong_or_weak(hits(segs, key, syns, WEAK_MATCH))])
    used_segments: set[tuple[int, int]] = set()  # (id(segment), start) of label hits already bound
    taken: list[Cell] = []  # value regions and label boxes already bound
    tables: dict[str, list[dict[str, Target]]] = {}
    column_labels: dict[str, list[Cell]] = {}
    for spec in (f for f in template.fields if f.type == FieldType.table):
        tables[spec.name], labels = bind_table(spec, layout, all_hits, used_segments, taken)
        if labels:
            column_labels[spec.name] = labels
    fields: dict[str, Target | None] = {}
    specs = {f.name: f for f in template.fields if f.type != FieldType.table}
    cands: list[Candidate] = []
    questions = frozenset(f.name for f in template.fields if f.type in (FieldType.checkbox, FieldType.choice))
    for h in all_hits:
        spec = specs.get(h.key)
        if spec is None or (id(h.seg), h.start) in used_segments:
            continue
        pinned = None if spec.locator.position == "auto" else spec.locator.position
        cands += candidates(h, spec.type, pinned, layout, all_hits, spec.length, options_of(spec), questions)
    cands.sort(key=lambda c: -c.score)
    chosen: dict[str, Candidate] = {}
    for c in cands:
        if c.key in chosen or c.score < MIN_BIND or (id(c.hit.seg), c.hit.start) in used_segments:
            continue
        if any(c.target.box.overlaps(t) and not _nested(c, t) for t in taken):
            continue
        chosen[c.key] = c
        used_segments.add((id(c.hit.seg), c.hit.start))
        taken += [c.target.box, c.hit.box]
    _carve(chosen)
    bound = [c.target.box for c in chosen.values()]
    by_shape = _by_shape(template, layout, segs, chosen, taken)
    for key, c in chosen.items():
        # A close call is a runner-up region that no field explains: then the value may be there.
        # Two parts of the label's own box (below it, beside it) are no rivals: the value is in the box.
        rival = next((o for o in cands if o.key == key and o is not c and not any(o.target.box.overlaps(b) for b in bound)
                      and not (o.hit is c.hit and o.kind == c.kind == "inside")), None)
        c.target.unsure = rival is not None and rival.score > c.score - CLOSE_CALL
        c.target.weak_label = c.hit.score < MATCH
        fields[key] = c.target
    fields.update(by_shape)
    for name in specs:
        fields.setdefault(name, None)
    # A label word inside other text (監護 of the heading 監護している児童) with no value region
    # beside it is no sign that the form asks the question; a phrase of four characters or more
    # (国内に居住) is, and so is a label that is most of its text or any bindable candidate.
    # A weak match counts only as a whole segment (a misread label cell), not inside a sentence.
    seen = {h.key.split(".")[0] for h in all_hits if h.fills_segment
            or h.score >= MATCH and (len(h.synonym) >= 4 or 2 * (h.end - h.start) >= len(h.seg.text))}
    seen |= {c.key.split(".")[0] for c in cands if c.score >= MIN_BIND}
    absent = {name for name, t in fields.items() if t is None and name not in seen}
    marks = {f.name for f in template.fields if f.type in (FieldType.checkbox, FieldType.choice)}
    if absent & marks and _unexplained_boxes(layout, segs, [t for t in fields.values() if t is not None], tables):
        # Tick boxes no field explains: a question whose text was misread is there. Its field is
        # not read, never "absent" (the scenario's default would be entered silently).
        absent -= marks
    return Located(fields=fields, tables=tables, score=max(classify_score(template, layout), _hit_share(groups, all_hits)),
                   absent=absent, column_labels=column_labels)


def _hit_share(groups: dict[str, list[str]], all_hits: list[Hit]) -> float:
    """Share of the template's label groups found on the page (substrings count): the
    classification score of a layout whose labels sit inside their value boxes."""
    found = {h.key for h in all_hits if h.score >= MATCH}
    return len(found) / len(groups) if groups else 0.0


# Values whose shape alone says what they are (the Japanese formats ocr.values checks).
POSTAL_MARK = "〒T干ェテ"  # 〒 and what the layout pass reads it as
SHAPES = {FieldType.postal_code: re.compile(f"[{POSTAL_MARK}]?\\d{{3}}-\\d{{4}}"), FieldType.phone: re.compile(r"0\d{1,4}-\d{1,4}-\d{4}"),
          FieldType.my_number: re.compile(r"\d{12}")}


def _by_shape(template: FormTemplate, layout: PageLayout, segs: list, chosen: dict[str, Candidate], taken: list[Cell]) -> dict[str, Target]:
    """A field whose label the layout pass lost entirely, placed by its value's unmistakable shape
    (381-9146 in a cell nobody claimed): only when exactly one unclaimed line has that shape, and
    marked weak, so the reader flags it (the label is not confirmed) and it never passes unseen."""
    out: dict[str, Target] = {}
    for spec in template.fields:
        shape = SHAPES.get(spec.type)
        if shape is None or spec.name in chosen or spec.absent_ok:
            continue
        shaped = [seg for seg in segs if shape.fullmatch(to_halfwidth(seg.text).replace(" ", ""))]
        found = [seg for seg in shaped if not any(t.contains(seg.box.cx, seg.box.cy) for t in taken)]
        # A code with its 〒 (read T) on a line of its own inside another field's box: the postal
        # code printed in the address box; that box keeps the rest.
        marked = [(seg, c) for seg in shaped if seg not in found and seg.text[:1] in POSTAL_MARK and spec.type == FieldType.postal_code
                  for c in chosen.values() if c.target.box.contains(seg.box.cx, seg.box.cy) and c.target.box.h > 1.8 * seg.box.h]
        if not found and len(marked) == 1:
            seg, holder = marked[0]
            holder.target.box = _without_line(holder.target.box, seg.box)
            found = [seg]
        if len(found) != 1:
            continue
        seg = found[0]
        box = layout.cells[seg.cell] if seg.cell is not None else seg.box
        label = _label_cell(layout, box)
        if seg.cell is not None and any(o is not seg and o.cell == seg.cell for o in segs):
            # The code is one line of a box holding more (〒 385-4716 above the address): that line,
            # its label the 〒 it starts with.
            b = seg.box
            box = Cell(b.x - 12, b.y - 12, b.w + 24, b.h + 24)
            label = seg.span_box(0, 1) if seg.text[:1] in POSTAL_MARK else None
        # The label cell, read again at full resolution, confirms the place (pipeline._label_confirmed).
        out[spec.name] = Target(box=box, weak_label=True, label_box=label)
        taken.append(box)
    return out


def _label_cell(layout: PageLayout, box: Cell) -> Cell | None:
    """The cell just left of a value cell on its row, else the one just above it: where its label
    is printed when the value was found by its shape alone."""
    left = [c for c in layout.cells if abs(c.x + c.w - box.x) <= 12 and abs(c.cy - box.cy) <= 0.3 * box.h]
    if left:
        return max(left, key=lambda c: c.x)
    above = [c for c in layout.cells if abs(c.y + c.h - box.y) <= 12 and c.x <= box.cx <= c.x + c.w]
    return above[0] if above else None


def _unexplained_boxes(layout: PageLayout, segs: list[Segment], bound: list[Target], tables: dict[str, list[dict[str, Target]]]) -> bool:
    """Whether some cell holds a tick box of a pen's size that no bound field or table cell covers.
    A "box" read as a character of a printed line is a glyph (the 門 of 欄 in ※市町村記入欄), unless
    that character is what a tick box reads as (口, □, or Latin noise: a ticked box read ||)."""
    table_cells = [t.box for rows in tables.values() for row in rows for t in row.values()]
    covered = [t.box for t in bound] + table_cells
    for cell in layout.cells:
        if any(cell.overlaps(b) or b.contains(cell.cx, cell.cy) or cell.contains(b.cx, b.cy) for b in covered):
            continue
        if _in_table(cell, table_cells):
            continue  # a table cell whose attribute is read later (a row recovered by pipeline)
        if any(min(sq.w, sq.h) >= LONE_BOX and not _a_glyph(sq, segs) for sq in find_squares(layout.bw, cell)):
            return True
    return False


def _in_table(cell: Cell, table_cells: list[Cell], tol: int = 12) -> bool:
    """Inside a bound table, lined up with one of its columns or rows: an attribute bound later
    (a column table's 続柄 row, recovered by the reader; 男 of 長男 looks like a box)."""
    if not table_cells:
        return False
    x0, y0 = min(b.x for b in table_cells) - tol, min(b.y for b in table_cells) - tol
    x1, y1 = max(b.x + b.w for b in table_cells) + tol, max(b.y + b.h for b in table_cells) + tol
    if not (x0 <= cell.x and cell.x + cell.w <= x1 and y0 <= cell.y and cell.y + cell.h <= y1):
        return False
    return any(abs(cell.x - b.x) <= tol and abs(cell.w - b.w) <= 2 * tol
               or abs(cell.y - b.y) <= tol and abs(cell.h - b.h) <= 2 * tol for b in table_cells)


_BOX_READINGS = set("口□☐■区回ロ")


def _a_glyph(sq: Cell, segs: list[Segment]) -> bool:
    """Whether the square lies on a character of a printed line (of three or more characters)."""
    return any(len(seg.chars) >= 3 and seg.box.contains(sq.cx, sq.cy)
               and any(x0 <= sq.cx <= x1 and not _box_reading(ch) for ch, x0, x1 in seg.chars) for seg in segs)


def _box_reading(ch: str) -> bool:
    """What a tick box (ticked or not) reads as: a box-like character, or Latin noise (|, M)."""
    return ch in _BOX_READINGS or ch.isascii()


def _nested(c: Candidate, region: Cell) -> bool:
    """A field whose label and value both lie inside another's value region (〒 and its code in the
    address box): it may be bound there, and the outer region is carved (see _carve)."""
    lb, tb = c.hit.box, c.target.box
    if region.contains(lb.cx, lb.cy) and region.contains(tb.cx, tb.cy) and tb.w * tb.h < 0.6 * region.w * region.h:
        return True
    # The other way round: the field bound first lies inside this one's region.
    return not tb.contains(lb.cx, lb.cy) and tb.contains(region.cx, region.cy) and region.w * region.h < 0.6 * tb.w * tb.h


def _carve(chosen: dict[str, Candidate]) -> None:
    """A value region holding another field's value (〒 and its code on the first line of the
    address box) keeps only its part above or below that value's line."""
    for a in chosen.values():
        for b in chosen.values():
            A, B = a.target.box, (b.target.box.union(b.hit.box))
            if a is b or not A.contains(B.cx, B.cy) or B.w * B.h >= A.w * A.h:
                continue
            a.target.box = _without_line(A, B)


def _without_line(A: Cell, B: Cell) -> Cell:
    """Region *A* less the line band of *B* inside it: its larger part above or below (A itself
    when neither part is a line's height)."""
    above, below = B.y - A.y, A.y + A.h - (B.y + B.h)
    if max(above, below) < 40:
        return A
    return Cell(A.x, A.y, A.w, above) if above >= below else Cell(A.x, B.y + B.h, A.w, below)


def _strong_or_weak(group_hits: list[Hit]) -> list[Hit]:
    """Sure matches, and weak ones (a character misread) only as a whole segment: a label cell whose
    label was misread (監議 for 監護). A weak match inside longer text is some sentence or value that
    shares characters with the label (年月日 in a date, している in every question)."""
    return [h for h in group_hits if h.score >= MATCH or h.fills_segment]


def _dedupe(all_hits: list[Hit]) -> list[Hit]:
    """A hit inside a longer sure hit of another group on the same segment is part of that label
    (氏名 inside 受給者氏名, even misread as 配仙者氏名); one overlapping a better hit of another
    group likewise (配偶者 of 配偶者氏名 for 配偶者と別居). Equal matches (生年月日 for the recipient
    and for a child's column) both stay: structure decides; so do a misread label cell's weak match
    and a sure match of at most half of it (晴ポ者氏名: 請求者氏名, or 氏名 of a child)."""
    out = []
    for h in all_hits:
        beaten = any(o is not h and o.seg is h.seg and o.key != h.key and o.score >= MATCH and o.start < h.end and h.start < o.end
                     and not (h.score >= MATCH and h.start <= o.start and o.end <= h.end and h.end - h.start > o.end - o.start)
                     and not (h.fills_segment and h.start <= o.start and o.end <= h.end and 2 * (o.end - o.start) <= h.end - h.start)
                     and ((o.start <= h.start and h.end <= o.end and o.end - o.start > h.end - h.start)
                          or (o.score, o.end - o.start) > (h.score, h.end - h.start)) for o in all_hits)
        if not beaten:
            out.append(h)
    return out
