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
never sharing a label or a region; when the runner-up region is nearly as good the target is
marked ``unsure`` so the reader flags it rather than guess silently.

Repeated groups (a table field) are found as a header row (:func:`ocr.locate.table_rows`), as one
column per entry (attribute labels stacked, entries to their right), or as cards (the first
column's label repeated, the other attributes near each occurrence).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ocr.grid import Cell, find_squares
from ocr.layout import PageLayout, join_words
from ocr.locate import MATCH, WEAK_MATCH, Located, Target, best_score, classify_score, locate_row_table, right_of, with_squares
from ocr.marks import Ringed, circled
from ocr.pagetext import Hit, find, hits, innermost_cell, segments
from ocr.results import FieldType
from ocr.templates import ColumnSpec, FieldSpec, FormTemplate
from ocr.values import digits_only, to_halfwidth

CLOSE_CALL = 0.2  # a runner-up region within this score of the best makes the binding unsure
MIN_BIND = 0.9  # below this total score no candidate is taken (the label alone scores up to 1)
MIN_BOX = 30  # px: the smallest tick box a field binds to
LONE_BOX = 36  # px: a box no field explains must be this big to say a question is there (a 同 in 40 pt print is ~32)
INK_SHARE = 0.004  # share of a region's pixels that must be ink for it to count as written in


@dataclass
class Candidate:
    key: str
    hit: Hit
    kind: str  # inside | right | below
    target: Target
    score: float


def bind(template: FormTemplate, layout: PageLayout) -> Located:
    segs = segments(layout)
    groups = _label_groups(template)
    all_hits = _dedupe([h for key, syns in groups.items() for h in _strong_or_weak(hits(segs, key, syns, WEAK_MATCH))])
    used_segments: set[tuple[int, int]] = set()  # (id(segment), start) of label hits already bound
    taken: list[Cell] = []  # value regions and label boxes already bound
    tables: dict[str, list[dict[str, Target]]] = {}
    column_labels: dict[str, list[Cell]] = {}
    for spec in (f for f in template.fields if f.type == FieldType.table):
        tables[spec.name], labels = _bind_table(spec, layout, all_hits, used_segments, taken)
        if labels:
            column_labels[spec.name] = labels
    fields: dict[str, Target | None] = {}
    specs = {f.name: f for f in template.fields if f.type != FieldType.table}
    cands: list[Candidate] = []
    for h in all_hits:
        spec = specs.get(h.key)
        if spec is None or (id(h.seg), h.start) in used_segments:
            continue
        pinned = None if spec.locator.position == "auto" else spec.locator.position
        cands += _candidates(h, spec.type, pinned, layout, all_hits, spec.length, _options(spec))
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
        rival = next((o for o in cands if o.key == key and o is not c and not any(o.target.box.overlaps(b) for b in bound)), None)
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
    if absent & marks and _unexplained_boxes(layout, [t for t in fields.values() if t is not None], tables):
        # Tick boxes no field explains: a question whose text was misread is there. Its field is
        # not read, never "absent" (the scenario's default would be entered silently).
        absent -= marks
    return Located(fields=fields, tables=tables, score=max(classify_score(template, layout), _hit_share(template, all_hits)),
                   absent=absent, column_labels=column_labels)


def _label_groups(template: FormTemplate) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for f in template.fields:
        if f.type == FieldType.table:
            for col in f.columns:
                if col.labels:
                    groups[f"{f.name}.{col.name}"] = col.labels
        elif f.locator.labels:
            groups[f.name] = f.locator.labels
    return groups


def _hit_share(template: FormTemplate, all_hits: list[Hit]) -> float:
    """Share of the template's label groups found on the page (substrings count): the
    classification score of a layout whose labels sit inside their value boxes."""
    groups = _label_groups(template)
    found = {h.key for h in all_hits if h.score >= MATCH}
    return len(found) / len(groups) if groups else 0.0


# Values whose shape alone says what they are (the Japanese formats ocr.values checks).
SHAPES = {FieldType.postal_code: re.compile(r"〒?\d{3}-\d{4}"), FieldType.phone: re.compile(r"0\d{1,4}-\d{1,4}-\d{4}"),
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
        found = [seg for seg in segs if shape.fullmatch(to_halfwidth(seg.text).replace(" ", ""))
                 and not any(t.contains(seg.box.cx, seg.box.cy) for t in taken)]
        if len(found) != 1:
            continue
        seg = found[0]
        box = layout.cells[seg.cell] if seg.cell is not None else seg.box
        out[spec.name] = Target(box=box, weak_label=True)
        taken.append(box)
    return out


def _printed_options(layout: PageLayout, box: Cell, options: list[str]) -> int:
    segs = [s for s in segments(layout) if box.contains(s.box.cx, s.box.cy)]
    return sum(any(find(seg, opt)[0] >= 0.99 for seg in segs) for opt in options)


def _unexplained_boxes(layout: PageLayout, bound: list[Target], tables: dict[str, list[dict[str, Target]]]) -> bool:
    """Whether some cell holds a tick box of a pen's size that no bound field or table cell covers."""
    covered = [t.box for t in bound] + [t.box for rows in tables.values() for row in rows for t in row.values()]
    for cell in layout.cells:
        if any(cell.overlaps(b) or b.contains(cell.cx, cell.cy) or cell.contains(b.cx, b.cy) for b in covered):
            continue
        if any(min(sq.w, sq.h) >= LONE_BOX for sq in find_squares(layout.bw, cell)):
            return True
    return False


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
            above, below = B.y - A.y, A.y + A.h - (B.y + B.h)
            if max(above, below) < 40:
                continue
            a.target.box = Cell(A.x, A.y, A.w, above) if above >= below else Cell(A.x, B.y + B.h, A.w, below)


def _options(spec: FieldSpec | ColumnSpec) -> list[str]:
    if isinstance(spec, FieldSpec) and spec.options:
        return spec.options
    return spec.answers[0] + spec.answers[1] if spec.answers else []


def _strong_or_weak(group_hits: list[Hit]) -> list[Hit]:
    """Sure matches, and weak ones (a character misread) only as a whole segment: a label cell whose
    label was misread (監議 for 監護). A weak match inside longer text is some sentence or value that
    shares characters with the label (年月日 in a date, している in every question)."""
    return [h for h in group_hits if h.score >= MATCH or h.fills_segment]


def _dedupe(all_hits: list[Hit]) -> list[Hit]:
    """A hit inside a longer sure hit of another group on the same segment is part of that label
    (氏名 inside 受給者氏名, even misread as 配仙者氏名); one overlapping a better hit of another
    group likewise (配偶者 of 配偶者氏名 for 配偶者と別居). Equal matches (生年月日 for the recipient
    and for a child's column) both stay: structure decides."""
    out = []
    for h in all_hits:
        beaten = any(o is not h and o.seg is h.seg and o.key != h.key and o.score >= MATCH and o.start < h.end and h.start < o.end
                     and not (h.score >= MATCH and h.start <= o.start and o.end <= h.end and h.end - h.start > o.end - o.start)
                     and ((o.start <= h.start and h.end <= o.end and o.end - o.start > h.end - h.start)
                          or (o.score, o.end - o.start) > (h.score, h.end - h.start)) for o in all_hits)
        if not beaten:
            out.append(h)
    return out


# ----------------------------------------------------------------------------- candidates

def _candidates(h: Hit, ftype: FieldType, pinned: str | None, layout: PageLayout, all_hits: list[Hit],
                length: int | None = None, options: list[str] | None = None) -> list[Candidate]:
    """*options*: a choice's option texts, or a two-box question's answers (for rings round them)."""
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
            box = Cell(lb.x + lb.w + 4, top, room_right - 4, bottom - top)
            # Right of a label in its own box: likely only when the label is not centred.
            regions.append(("inside", _target(layout, box, lb), 0.15 if not h.fills_segment else 0.05))
        if (r := right_of(layout, cell)) is not None:
            r.label_box = cell
            regions.append(("right", r, 0.1 if h.fills_segment else 0.0))
        if (b := _below_cell(layout, cell)) is not None:
            b.label_box = cell
            regions.append(("below", b, 0.05 if h.fills_segment else -0.05))
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
        fit = _fit(ftype, layout, target, h, all_hits, length, options)
        if fit is None:
            continue
        # A label is most of its text segment; a word of it inside a sentence or a value (監護 in
        # 児童を監護している) is weaker evidence of where the field is.
        purity = 0.2 * (h.end - h.start) / max(1, len(h.seg.text))
        out.append(Candidate(h.key, h, kind, target, h.score + purity + prior + fit))
    return out


def _target(layout: PageLayout, box: Cell, label: Cell) -> Target:
    """A region inside a box; digit boxes drawn inside it become its parts."""
    inner = [c for c in layout.cells if box.contains(c.cx, c.cy) and c.w < 1.6 * c.h and c.h < box.h + 10 and c.w < box.w / 3]
    if len(inner) >= 3:
        inner.sort(key=lambda c: c.x)
        u = inner[0]
        for c in inner[1:]:
            u = u.union(c)
        return Target(box=u, parts=inner, label_box=label)
    return Target(box=box, label_box=label)


def _below_cell(layout: PageLayout, cell: Cell) -> Target | None:
    below = [c for c in layout.cells if 0 <= c.y - (cell.y + cell.h) < 30
             and min(c.x + c.w, cell.x + cell.w) - max(c.x, cell.x) > 0.6 * min(c.w, cell.w)]
    if not below:
        return None
    first = min(below, key=lambda c: c.x)
    if first.w < 1.6 * first.h:
        # One box per digit under the label: the run of similar boxes.
        run = [c for c in layout.cells if abs(c.y - first.y) < 15 and abs(c.h - first.h) < 0.35 * first.h and c.x >= first.x
               and abs(c.w - first.w) < 0.5 * first.w]
        run.sort(key=lambda c: c.x)
        if len(run) >= 3:
            u = run[0]
            for c in run[1:]:
                u = u.union(c)
            return Target(box=u, parts=run)
    return Target(box=first)


def _region_words(layout: PageLayout, t: Target, h: Hit) -> str:
    """What the layout pass read inside the region, the label's own characters left out (a value may
    share the label's segment: 〒381-5931)."""
    own = set(id(w) for w in h.seg.words)
    ws = [w for w in layout.words if t.box.contains(w.cx, w.cy) and id(w) not in own]
    rest = "".join(ch for i, (ch, x0, x1) in enumerate(h.seg.chars)
                   if not h.start <= i < h.end and t.box.contains((x0 + x1) / 2, h.seg.box.cy))
    return (rest + " " + join_words(ws)).strip()


def _ink(layout: PageLayout, box: Cell) -> float:
    sub = layout.bw[box.y + 6: box.y + box.h - 6, box.x + 6: box.x + box.w - 6]
    lines = layout.lines[box.y + 6: box.y + box.h - 6, box.x + 6: box.x + box.w - 6]
    if sub.size == 0:
        return 0.0
    return float(np.count_nonzero((sub > 0) & (lines == 0))) / sub.size


def _fit(ftype: FieldType, layout: PageLayout, t: Target, h: Hit, all_hits: list[Hit], length: int | None,
         options: list[str]) -> float | None:
    """How well a region suits the field's type; None when it cannot be the value at all."""
    for o in all_hits:
        if o.seg is h.seg and o.start == h.start:
            continue
        if o.score >= MATCH and o.fills_segment and t.box.contains(o.box.cx, o.box.cy) and o.key != h.key:
            return None  # the region is another field's label cell
    if ftype in (FieldType.checkbox, FieldType.choice):
        with_squares(layout, t, ftype)
        # Boxes a pen ticks are 3 mm or more (35 px at 300 dpi); a square glyph of print is smaller.
        t.squares = [sq for sq in t.squares if min(sq.w, sq.h) >= MIN_BOX]
        if t.squares:
            return 0.5
        if options:
            # No box to tick: an option may be chosen by a ring round its printed text.
            ring = circled(layout, t.box, options)
            if ring is not None and ring.count:
                t.circled = ring
                return 0.5
            if _printed_options(layout, t.box, options) >= 2:
                # The options printed with no ring (a blank form, or nothing circled): the place is
                # right; the reader reports that no option is chosen.
                t.circled = Ringed(None, 0)
                return 0.3
        return None
    text = _region_words(layout, t, h)
    ink = _ink(layout, t.box) >= INK_SHARE
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


# ----------------------------------------------------------------------------- repeated groups

def _bind_table(spec: FieldSpec, layout: PageLayout, all_hits: list[Hit], used: set[tuple[int, int]],
                taken: list[Cell]) -> tuple[list[dict[str, Target]], list[Cell]]:
    """The table's rows, and (for one drawn one entry per column) its row-label cells."""
    col_hits = {col.name: [h for h in all_hits if h.key == f"{spec.name}.{col.name}" and h.score >= MATCH] for col in spec.columns}
    for finder in (_row_table, _column_table, _cards):
        rows, hits_used = finder(spec, layout, col_hits, all_hits)
        if rows:
            _ringed_columns(spec, layout, rows)
            for h in hits_used:
                used.add((id(h.seg), h.start))
                taken.append(h.box)
            taken += [t.box for row in rows for t in row.values()]
            labels = [layout.cells[h.seg.cell] for h in hits_used if h.seg.cell is not None] if finder is _column_table else []
            return rows, labels
    return [], []


def recover_column_rows(template: FormTemplate, layout: PageLayout, located: Located, read_cell: Callable[[Cell], str]) -> list[str]:
    """A table drawn one entry per column whose row label the layout pass lost (続柄 in small print):
    the other row-label cells of that column are read at full resolution, and one that reads as a
    missing attribute gives it the entry cells of its row. Returns the columns recovered."""
    recovered: list[str] = []
    for spec in (f for f in template.fields if f.type == FieldType.table):
        labels, rows = located.column_labels.get(spec.name), located.tables.get(spec.name) or []
        missing = [c for c in spec.columns if c.labels and rows and not any(c.name in r for r in rows)]
        if not labels or not missing:
            continue
        x, w = float(np.median([c.x for c in labels])), float(np.median([c.w for c in labels]))
        top, bottom = min(c.y for c in labels) - 400, max(c.y + c.h for c in labels) + 400
        for cell in layout.cells:
            if not missing:
                break
            if abs(cell.x - x) > 40 or abs(cell.w - w) > 0.3 * w or not top <= cell.y <= bottom or any(cell.overlaps(c) for c in labels):
                continue
            col = next((c for c in missing if best_score(read_cell(cell), c.labels) >= MATCH), None)
            if col is None:
                continue
            entries = _entries_right_of(layout, cell, spec.max_rows)
            for r, entry in enumerate(entries[: len(rows)]):
                t = Target(box=entry)
                if col.type in (FieldType.checkbox, FieldType.choice):
                    with_squares(layout, t, col.type)
                rows[r][col.name] = t
            missing.remove(col)
            recovered.append(f"{spec.name}.{col.name}")
    return recovered


def _ringed_columns(spec: FieldSpec, layout: PageLayout, rows: list[dict[str, Target]]) -> None:
    """Mark columns (同居 / 別居) answered by a ring instead of a tick: each cell without boxes
    gets the ringed option."""
    for col in spec.columns:
        options = _options(col)
        if col.type not in (FieldType.checkbox, FieldType.choice) or not options:
            continue
        for row in rows:
            t = row.get(col.name)
            if t is not None and not t.squares and t.circled is None:
                ring = circled(layout, t.box, options)
                t.circled = ring if ring is not None and ring.count else None


def _row_table(spec: FieldSpec, layout: PageLayout, col_hits: dict[str, list[Hit]], all_hits: list[Hit]) -> tuple[list, list[Hit]]:
    header_cells = {name: [h.seg.cell for h in hs if h.seg.cell is not None and h.fills_segment] for name, hs in col_hits.items()}
    rows = locate_row_table(spec, layout, {n: [c for c in cs if c is not None] for n, cs in header_cells.items()})
    if not rows:
        return [], []
    cells = {layout.cells[i] for cs in header_cells.values() for i in cs if i is not None}
    top = min(t.box.y for t in rows[0].values())
    used = [h for hs in col_hits.values() for h in hs if h.seg.cell is not None and layout.cells[h.seg.cell] in cells
            and abs(layout.cells[h.seg.cell].y + layout.cells[h.seg.cell].h - top) < 40]
    return rows, used


def _column_table(spec: FieldSpec, layout: PageLayout, col_hits: dict[str, list[Hit]], all_hits: list[Hit]) -> tuple[list, list[Hit]]:
    """One column per entry: attribute labels stacked at the left, each row's cells the entries."""
    best: list[tuple[ColumnSpec, Hit, list[Cell]]] = []
    for col in spec.columns:
        for h in col_hits[col.name]:
            if h.seg.cell is None:
                continue
            cell = layout.cells[h.seg.cell]
            row = _entries_right_of(layout, cell, spec.max_rows)
            if len(row) < 2 or max(c.w for c in row) > 1.5 * min(c.w for c in row):
                continue
            best.append((col, h, row))
            break
    # The attribute labels must be stacked in one column and their entries line up.
    if len(best) < max(2, len(spec.columns) // 2):
        return [], []
    x = float(np.median([layout.cells[h.seg.cell].x for _, h, _ in best if h.seg.cell is not None]))
    best = [b for b in best if b[1].seg.cell is not None and abs(layout.cells[b[1].seg.cell].x - x) < 40]
    if len(best) < max(2, len(spec.columns) // 2):
        return [], []
    n = max(len(r) for _, _, r in best)
    rows: list[dict[str, Target]] = []
    for i in range(n):
        row: dict[str, Target] = {}
        for col, _, cells in best:
            if i < len(cells):
                t = Target(box=cells[i])
                if col.type == FieldType.checkbox:
                    with_squares(layout, t, col.type)
                row[col.name] = t
        rows.append(row)
    return rows, [h for _, h, _ in best]


def _entries_right_of(layout: PageLayout, cell: Cell, max_rows: int) -> list[Cell]:
    row = sorted((c for c in layout.cells if c.x >= cell.x + cell.w - 25 and _same_row(c, cell) and c.h < 1.6 * cell.h), key=lambda c: c.x)
    return _contiguous(row, cell)[:max_rows]


def _cards(spec: FieldSpec, layout: PageLayout, col_hits: dict[str, list[Hit]], all_hits: list[Hit]) -> tuple[list, list[Hit]]:
    """One box per entry: the first column's label repeated, each other attribute's label near it.
    Cards sit in a grid; a grid place whose first label the layout pass lost is filled from its
    siblings (else its child would be lost, and the others shifted up a place)."""
    first = spec.columns[0]
    grid = _card_grid(col_hits[first.name])
    if sum(a is not None for row in grid for a, _ in row) < 2:
        return [], []
    places = [place for row in grid for place in row][: spec.max_rows]
    rows: list[dict[str, Target]] = []
    used: list[Hit] = []
    for a, _ in places:
        row: dict[str, Target] = {}
        rows.append(row)
        if a is None:
            continue
        members = [(first, a)]
        for col in spec.columns[1:]:
            near = [h for h in col_hits[col.name] if h not in used and -60 <= h.box.y - a.box.y <= 700 and -200 <= h.box.x - a.box.x <= 1100]
            if near:
                members.append((col, min(near, key=lambda h: abs(h.box.y - a.box.y) + abs(h.box.x - a.box.x))))
        for col, h in members:
            cands = _candidates(h, col.type, None, layout, all_hits, None, _options(col))
            cands = [c for c in cands if not any(c.target.box.overlaps(t.box) for t in row.values())]
            if cands:
                row[col.name] = max(cands, key=lambda c: c.score).target
                used.append(h)
    _fill_from_siblings(layout, rows, [box for _, box in places])
    return rows, used


def _card_grid(anchors: list[Hit]) -> list[list[tuple[Hit | None, Cell]]]:
    """The anchors in reading order as a grid of rows and columns (anchors within two label heights
    of each other vertically share a row, within 60 px horizontally a column); a missing place gets
    None and the box where its anchor would be."""
    rows: list[list[Hit]] = []
    for h in sorted(anchors, key=lambda h: h.box.y):
        if rows and abs(h.box.y - rows[-1][0].box.y) <= max(40, 2 * h.box.h):
            rows[-1].append(h)
        else:
            rows.append([h])
    rows = _densest_run(rows)
    anchors = [h for row in rows for h in row]
    xs: list[int] = []
    for h in sorted(anchors, key=lambda h: h.box.x):
        if not xs or h.box.x - xs[-1] > 60:
            xs.append(h.box.x)
    grid = []
    for row in rows:
        line: list[tuple[Hit | None, Cell]] = []
        for x in xs:
            a = next((h for h in row if abs(h.box.x - x) <= 60), None)
            line.append((a, a.box if a is not None else Cell(x, row[0].box.y, row[0].box.w, row[0].box.h)))
        grid.append(line)
    return grid


def _on_page(layout: PageLayout, box: Cell) -> Cell | None:
    """The part of *box* on the page; None when too little is (a sibling's place shifted off it)."""
    h, w = layout.image.shape[:2]
    x0, y0, x1, y1 = max(0, box.x), max(0, box.y), min(w, box.x + box.w), min(h, box.y + box.h)
    return Cell(x0, y0, x1 - x0, y1 - y0) if x1 - x0 >= 40 and y1 - y0 >= 30 else None


CARD_ROW_GAP = 1000  # px: rows of cards of one group are closer than this (a card is at most ~800 px tall)


def _densest_run(rows: list[list[Hit]]) -> list[list[Hit]]:
    """The run of anchor rows that lie close together with the most anchors: a lone label far
    above the cards (配偶者氏名 misread so that only 氏名 matched) is not a card."""
    runs: list[list[list[Hit]]] = []
    for row in rows:
        if runs and row[0].box.y - runs[-1][-1][0].box.y <= CARD_ROW_GAP:
            runs[-1].append(row)
        else:
            runs.append([row])
    return max(runs, key=lambda run: sum(len(r) for r in run)) if runs else []


def _fill_from_siblings(layout: PageLayout, rows: list[dict[str, Target]], anchors: list[Cell]) -> None:
    """Cards repeat one drawing: an attribute whose small label the layout pass lost in one card
    (続柄 read into the value below it) sits where the other cards have it, relative to the card's
    first label. Its region there is taken (the innermost cell at that spot, else the same box)."""
    for i, row in enumerate(rows):
        for j, other in enumerate(rows):
            if j == i:
                continue
            for col, t in other.items():
                if col in row:
                    continue
                dx, dy = anchors[i].x - anchors[j].x, anchors[i].y - anchors[j].y
                box = _on_page(layout, Cell(t.box.x + dx, t.box.y + dy, t.box.w, t.box.h))
                if box is None:
                    continue
                k = innermost_cell(layout.cells, box.cx, box.cy)
                cell = layout.cells[k] if k is not None else None
                shifted = Target(box=cell if cell is not None and cell.w * cell.h <= 1.5 * box.w * box.h else box)
                if t.squares:
                    with_squares(layout, shifted, FieldType.checkbox)
                row[col] = shifted


def _same_row(a: Cell, b: Cell) -> bool:
    overlap = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return overlap > 0.5 * min(a.h, b.h)


def _contiguous(row: list[Cell], start: Cell) -> list[Cell]:
    out: list[Cell] = []
    right = start.x + start.w
    for c in row:
        if c.x - right > 30:
            break
        out.append(c)
        right = c.x + c.w
    return out


__all__ = ["bind", "find_squares"]
