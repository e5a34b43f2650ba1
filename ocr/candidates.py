"""Candidate value regions of one label hit (see :mod:`ocr.bind`): the rest of the label's own box,
the cell to its right or below (with one-box-per-digit runs), or the rest of its line outside the
grid; each scored by the label match, its geometry and what the region holds (a date region should
look like a date, a region holding another field's label is no value, tick boxes or a ring for an
option group)."""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ocr.grid import Cell
from ocr.layout import PageLayout, join_words
from ocr.locate import MATCH, Target, best_score, right_of, with_squares
from ocr.marks import OPTION_READ, Ringed, circled, rings
from ocr.pagetext import Hit, find, segments
from ocr.results import FieldType
from ocr.templates import ColumnSpec, FieldSpec
from ocr.values import digits_only, to_halfwidth

MIN_BOX = 30  # px: the smallest tick box a field binds to
INK_SHARE = 0.004  # share of a region's pixels that must be ink for it to count as written in


@dataclass
class Candidate:
    """One possible value region of a field, from one place its label was found."""

    key: str
    hit: Hit
    kind: str  # inside | right | below
    target: Target
    score: float


def _printed_options(layout: PageLayout, box: Cell, options: list[str]) -> int:
    segs = [s for s in segments(layout) if box.contains(s.box.cx, s.box.cy)]
    return sum(any(find(seg, opt)[0] >= OPTION_READ for seg in segs) for opt in options)


def options_of(spec: FieldSpec | ColumnSpec) -> list[str]:
    if isinstance(spec, FieldSpec) and spec.options:
        return spec.options
    return spec.answers[0] + spec.answers[1] if spec.answers else []


def candidates(h: Hit, ftype: FieldType, pinned: str | None, layout: PageLayout, all_hits: list[Hit],
                length: int | None = None, options: list[str] | None = None, questions: frozenset[str] = frozenset()) -> list[Candidate]:
    """*options*: a choice's option texts, or a two-box question's answers (for rings round them).
    *questions*: the keys of the template's tick-box and choice fields."""
    options = options or []
    out: list[Candidate] = []
    lb = h.box
    cell = layout.cells[h.seg.cell] if h.seg.cell is not None else None
    regions: list[tuple[str, Target, float]] = []
    if cell is not None:
        top_left = lb.x - cell.x < 0.3 * cell.w and lb.y - cell.y < 0.3 * cell.h
        room_below = cell.y + cell.h - (lb.y + lb.h)
        if top_left and room_below >= 1.2 * lb.h:
            box = Cell(cell.x, lb.y + lb.h + 2, cell.w, cell.y + cell.h - (lb.y + lb.h + 2))
            regions.append(("inside", _target(layout, box, lb), 0.25))
        room_right = cell.x + cell.w - (lb.x + lb.w)
        if lb.x - cell.x < 0.3 * cell.w and room_right >= max(160, 1.2 * lb.w):
            # The label's own line band: a box may hold more than one line (〒 and the address).
            top = max(cell.y, int(lb.cy - 1.3 * lb.h))
            bottom = min(cell.y + cell.h, int(lb.cy + 1.3 * lb.h))
            # ... but not into the next line of the box (the address printed close under 〒 385-4716).
            sb = h.seg.box
            under = [w.y for w in layout.words if cell.contains(w.cx, w.cy) and w.y >= sb.y + 0.8 * sb.h]
            if under and min(under) - 2 - top >= lb.h:
                bottom = min(bottom, min(under) - 2)
            box = Cell(lb.x + lb.w + 4, top, room_right - 4, bottom - top)
            # Right of a label in its own box: likely only when the label is not centred.
            regions.append(("inside", _target(layout, box, lb), 0.15 if not h.fills_segment else 0.05))
        if (r := right_of(layout, cell) or _open_right(layout, cell)) is not None:
            r.label_box = cell
            regions.append(("right", r, 0.1 if h.fills_segment else 0.0))
        if (b := _below_cell(layout, cell)) is not None:
            b.label_box = cell
            regions.append(("below", b, 0.05 if h.fills_segment else -0.05))
        if ftype in (FieldType.checkbox, FieldType.choice) and _is_option(h, options):
            # The label found is an answer's printed text (a card's small 同別居 label lost, its
            # 同居 option read as the label 同居): the answers are in the label's own box.
            regions.append(("inside", Target(box=cell, label_box=lb), -0.05))
    else:
        # A label printed outside the grid: the value is the rest of its line (the segment ends at the
        # first wide gap, so a cell further right is not taken in).
        sb = h.seg.box
        box = Cell(lb.x + lb.w + 4, sb.y - sb.h // 3, sb.x + sb.w + 24 - (lb.x + lb.w + 4), sb.h + 2 * (sb.h // 3))
        if box.w > 60:
            regions.append(("inside", _target(layout, box, lb), 0.0))
    for kind, target, prior in regions:
        if pinned is not None and kind != pinned:
            continue
        target.label_box = target.label_box or lb
        fit = _fit(ftype, layout, target, h, all_hits, length, options, questions)
        if fit is None:
            continue
        # A label is most of its text segment; a word of it inside a sentence or a value (監護 in
        # 児童を監護している) is weaker evidence of where the field is.
        purity = 0.2 * (h.end - h.start) / max(1, len(h.seg.text))
        out.append(Candidate(h.key, h, kind, target, h.score + purity + prior + fit))
    return out


def _is_option(h: Hit, options: list[str]) -> bool:
    matched = "".join(ch for ch, _, _ in h.seg.chars[h.start:h.end])
    return bool(matched) and best_score(matched, options) >= MATCH


def _target(layout: PageLayout, box: Cell, label: Cell) -> Target:
    """A region inside a box; digit boxes drawn inside it become its parts."""
    inner = [c for c in layout.cells if box.contains(c.cx, c.cy) and c.w < 1.6 * c.h and c.h < box.h + 10 and c.w < box.w / 3]
    if len(inner) >= 3:
        inner.sort(key=lambda c: c.x)
        return Target(box=Cell.around(inner), parts=inner, label_box=label)
    return Target(box=box, label_box=label)


def _below_cell(layout: PageLayout, cell: Cell) -> Target | None:
    below = [c for c in layout.cells if 0 <= c.y - (cell.y + cell.h) < 30
             and min(c.x + c.w, cell.x + cell.w) - max(c.x, cell.x) > 0.6 * min(c.w, cell.w)]
    if not below:
        return None
    first = min(below, key=lambda c: c.x)
    if first.w < 1.6 * first.h:
        # One box per digit under the label: the similar boxes on its line (groups 4-4-4 may stand apart).
        run = sorted((c for c in layout.cells if abs(c.y - first.y) < 15 and abs(c.h - first.h) < 0.35 * first.h and c.x >= first.x
                      and abs(c.w - first.w) < 0.5 * first.w), key=lambda c: c.x)
        if len(run) >= 3:
            return Target(box=Cell.around(run), parts=run)
    return Target(box=first)


def _region_words(layout: PageLayout, t: Target, h: Hit) -> str:
    """What the layout pass read inside the region, the label's own characters left out (a value may
    share the label's segment: 〒381-5931)."""
    own = set(id(w) for w in h.seg.words)
    ws = [w for w in layout.words if t.box.contains(w.cx, w.cy) and id(w) not in own]
    rest = "".join(ch for i, (ch, x0, x1) in enumerate(h.seg.chars)
                   if not h.start <= i < h.end and t.box.contains((x0 + x1) / 2, h.seg.box.cy))
    return (rest + " " + join_words(ws)).strip()


def _open_right(layout: PageLayout, cell: Cell) -> Target | None:
    """The band right of a label cell that has no cell beside it (the box round the options lost: a
    skewed frame, a ring touching its line), up to the last word printed on the label's row."""
    right = cell.x + cell.w
    row = [w for w in layout.words if w.x >= right and cell.y <= w.cy <= cell.y + cell.h and w.text.strip()]
    if not row:
        return None
    end = max(w.x + w.w for w in row) + 60
    return Target(box=Cell(right + 4, cell.y, end - right - 4, cell.h))


def ringed_glyphs(layout: PageLayout, t: Target, options: list[str]) -> bool:
    """Whether the target's "tick boxes" are box-shaped glyphs of printed options answered by a ring
    (同 of ◯同居, or 居 of the 同居 beside a ringed 別居): fewer of them than options, and a ring in
    the region (a region answered by ticks has a box per option and no ring)."""
    if not t.squares or not options or len(t.squares) >= len(options):
        return False
    return bool(rings(layout, t.box))


def written_in(layout: PageLayout, box: Cell) -> bool:
    """Whether the box holds ink other than its ruled lines (something is written or printed there)."""
    sub = layout.bw[box.y + 6: box.y + box.h - 6, box.x + 6: box.x + box.w - 6]
    lines = layout.lines[box.y + 6: box.y + box.h - 6, box.x + 6: box.x + box.w - 6]
    if sub.size == 0:
        return False
    return float(np.count_nonzero((sub > 0) & (lines == 0))) / sub.size >= INK_SHARE


def _fit(ftype: FieldType, layout: PageLayout, t: Target, h: Hit, all_hits: list[Hit], length: int | None,
         options: list[str], questions: frozenset[str] = frozenset()) -> float | None:
    """How well a region suits the field's type; None when it cannot be the value at all."""
    for o in all_hits:
        if o.seg is h.seg and o.start == h.start:
            continue
        if o.score >= MATCH and o.key != h.key and t.box.contains(o.box.cx, o.box.cy) and (
                o.fills_segment or ftype in (FieldType.checkbox, FieldType.choice) and o.key in questions and len(o.synonym) >= 4):
            return None  # the region is another field's label cell, or holds another question's sentence
    if ftype in (FieldType.checkbox, FieldType.choice):
        with_squares(layout, t, ftype)
        # Boxes a pen ticks are 3 mm or more (35 px at 300 dpi); a square glyph of print is smaller.
        t.squares = [sq for sq in t.squares if min(sq.w, sq.h) >= MIN_BOX]
        if t.squares and not ringed_glyphs(layout, t, options):
            return 0.5
        if options:
            # No box to tick: an option may be chosen by a ring round its printed text.
            ring = circled(layout, t.box, options)
            if ring is not None and ring.count:
                t.circled, t.squares = ring, []
                return 0.5
            if _printed_options(layout, t.box, options) >= 2:
                # The options printed with no ring (a blank form, or nothing circled): the place is
                # right; the reader reports that no option is chosen.
                t.circled = Ringed(None, 0)
                return 0.3
        return None
    text = _region_words(layout, t, h)
    ink = written_in(layout, t.box)
    score = 0.15 if ink else 0.0
    if not text.strip():
        return score
    return score + _type_fit(ftype, text, length)


_KATAKANA = re.compile(r"[ァ-ヶー]")
_ERA = re.compile(r"令和|平成|昭和|年|月")


def _type_fit(ftype: FieldType, text: str, length: int | None) -> float:
    t = to_halfwidth(text).replace(" ", "")
    digits = len(digits_only(t))
    if ftype == FieldType.date_wareki:
        return 0.4 if _ERA.search(t) and digits >= 2 else (-0.2 if digits < 2 else 0.0)
    if ftype == FieldType.my_number:
        return 0.4 if 10 <= digits <= 13 else -0.3
    if ftype == FieldType.postal_code:
        return 0.4 if 6 <= digits <= 8 and len(t) <= 10 else -0.3
    if ftype == FieldType.phone:
        return 0.4 if 9 <= digits <= 12 and len(t) <= 15 else -0.3
    if ftype == FieldType.digits:
        return 0.4 if length is None or abs(digits - length) <= 1 else -0.3
    if ftype == FieldType.kana:
        share = len(_KATAKANA.findall(t)) / max(1, len(t))
        return 0.4 if share >= 0.6 else -0.2
    # Plain text (names, addresses): mostly not digits.
    return 0.2 if digits <= len(t) / 2 else -0.2
