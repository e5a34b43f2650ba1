"""Repeated groups (the children of a 現況届-like form): a table field found as a header-row table,
as one column per entry (attribute labels stacked, entries to their right), or as cards (the
first column's label repeated in a grid of boxes). Part of the binder (:mod:`ocr.bind`)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from ocr.candidates import Candidate, candidates, options_of, ringed_glyphs, written_in
from ocr.grid import Cell
from ocr.layout import PageLayout
from ocr.locate import MATCH, Located, Target, best_score, locate_row_table, with_squares
from ocr.marks import circled
from ocr.pagetext import Hit, innermost_cell
from ocr.results import FieldType
from ocr.templates import ColumnSpec, FieldSpec, FormTemplate


def bind_table(spec: FieldSpec, layout: PageLayout, all_hits: list[Hit], used: set[tuple[int, int]],
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
            text = read_cell(cell)  # once: a full-resolution Tesseract call
            col = next((c for c in missing if best_score(text, c.labels) >= MATCH), None)
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
        options = options_of(col)
        if col.type not in (FieldType.checkbox, FieldType.choice) or not options:
            continue
        for row in rows:
            t = row.get(col.name)
            if t is not None and ringed_glyphs(layout, t, options):
                t.squares = []
            if t is not None and not t.squares and t.circled is None:
                # The column's place is known from its header: a ring there is its answer even when
                # the ring's strokes garbled every option it encloses; the reader reads the ring's
                # inside at full resolution and flags it if that names no option either.
                t.circled = circled(layout, t.box, options)


def _row_table(spec: FieldSpec, layout: PageLayout, col_hits: dict[str, list[Hit]], all_hits: list[Hit]) -> tuple[list, list[Hit]]:
    header_cells = {name: [h.seg.cell for h in hs if h.seg.cell is not None and h.fills_segment] for name, hs in col_hits.items()}
    rows = locate_row_table(spec, layout, {n: [c for c in cs if c is not None] for n, cs in header_cells.items()})
    first = spec.columns[0].name
    if not rows or not any(len(r) >= 2 for r in rows) or (not any(first in r for r in rows) and len(col_hits[first]) >= 2):
        # Two labels side by side in each card (続柄 | 同別居) are no header row: a table's rows hold
        # several columns, and its first column's label is printed once, not once per card.
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


Anchor = tuple[Hit | None, Cell]  # a card's first label: its hit (None: where it would be) and box


def _cards(spec: FieldSpec, layout: PageLayout, col_hits: dict[str, list[Hit]], all_hits: list[Hit]) -> tuple[list, list[Hit]]:
    """One box per entry: the first column's label repeated, each other attribute's label near it.
    Cards sit in a grid; a grid place whose first label the layout pass lost is placed by its
    other labels, or filled from its siblings (else its child would be lost, and the others
    shifted up a place)."""
    first = spec.columns[0]
    if not col_hits[first.name]:
        return [], []
    anchors = _anchors(spec, col_hits)
    if len(anchors) < 2:
        return [], []
    grid = _card_grid(anchors)
    bounds = _card_bounds(grid)
    places = [place for row in grid for place in row][: spec.max_rows]
    rows: list[dict[str, Target]] = []
    options: list[dict[str, list[Candidate]]] = []  # per card: each attribute's candidate regions
    used: list[Hit] = []
    for (a, box), (left, right, bottom) in zip(places, bounds):
        row: dict[str, Target] = {}
        rows.append(row)
        members = [(first, a)] if a is not None else []
        for col in spec.columns[1:]:
            # A label of this card lies before the next card's first label, across and down: the
            # nearest one beyond it is a sibling's (its own label lost), which _fill_from_siblings handles.
            near = [h for h in col_hits[col.name] if h not in used and -60 <= h.box.y - box.y and h.box.y < bottom
                    and max(box.x - 200, left) <= h.box.x < right]
            if near:
                members.append((col, min(near, key=lambda h: abs(h.box.y - box.y) + abs(h.box.x - box.x))))
        per_col: dict[str, list[Candidate]] = {}
        for col, h in members:
            per_col[col.name] = candidates(h, col.type, None, layout, all_hits, None, options_of(col))
            if per_col[col.name]:
                used.append(h)
        options.append(per_col)
    # Cards repeat one drawing: each attribute's value lies the same way from its label in every
    # card. The way most written cards' best candidates agree on is taken in each card that has
    # it (an empty card's own value box loses to a neighbour holding printed text).
    def best(cands: list[Candidate]) -> Candidate:
        return max(cands, key=lambda c: c.score)

    written = [per_col for per_col in options if per_col.get(first.name) and written_in(layout, best(per_col[first.name]).target.box)]
    votes: dict[str, Counter[str]] = {}
    for per_col in written or options:
        for name, cands in per_col.items():
            if cands:
                votes.setdefault(name, Counter())[best(cands).kind] += 1
    usual_kind = {name: v.most_common(1)[0][0] for name, v in votes.items()}
    for row, per_col in zip(rows, options):
        for name, cands in per_col.items():
            cands = [c for c in cands if not any(c.target.box.overlaps(t.box) for t in row.values())]
            usual = [c for c in cands if c.kind == usual_kind.get(name)]
            if usual or cands:
                row[name] = best(usual or cands).target
    _fill_from_siblings(layout, rows, [box for _, box in places])
    return rows, used


def _anchors(spec: FieldSpec, col_hits: dict[str, list[Hit]]) -> list[Anchor]:
    """Each card's first label: where it was read, and where another attribute's label puts it
    when the layout pass lost it (a whole row of cards' 氏名 unread, their 生年月日 read), by the
    offset between the two labels in the cards that have both. The first column has hits."""
    firsts = col_hits[spec.columns[0].name]
    out: list[Anchor] = [(h, h.box) for h in firsts]
    implied: list[tuple[str, int, int]] = []  # (column, x, y) of a first label another label implies
    for col in spec.columns[1:]:
        hits = col_hits[col.name]
        if len(hits) <= len(firsts):
            continue
        offsets = []
        for a in firsts:
            near = [h for h in hits if abs(h.box.x - a.box.x) <= 200 and -60 <= h.box.y - a.box.y <= 700]
            if near:
                h = min(near, key=lambda h: abs(h.box.y - a.box.y) + abs(h.box.x - a.box.x))
                offsets.append((h.box.x - a.box.x, h.box.y - a.box.y))
        if not offsets:
            continue
        dx, dy = (int(np.median([o[k] for o in offsets])) for k in (0, 1))
        implied += [(col.name, h.box.x - dx, h.box.y - dy) for h in hits]
    # A place two attributes' labels agree on: one stray label (the recipient's 生年月日 above the
    # cards) implies no card.
    size = firsts[0].box
    for name, x, y in implied:
        near = [(n, px, py) for n, px, py in implied if abs(px - x) <= 120 and abs(py - y) <= 60]
        if len({n for n, _, _ in near}) >= 2 and not any(abs(b.x - x) <= 120 and abs(b.y - y) <= 60 for _, b in out):
            out.append((None, Cell(int(np.median([p[1] for p in near])), int(np.median([p[2] for p in near])), size.w, size.h)))
    return out


def _card_grid(anchors: list[Anchor]) -> list[list[Anchor]]:
    """The anchors in reading order as a grid of rows and columns (anchors within two label heights
    of each other vertically share a row, close horizontally a column); a missing place gets
    None and the box where its anchor would be."""
    rows: list[list[Anchor]] = []
    for a in sorted(anchors, key=lambda a: a[1].y):
        if rows and abs(a[1].y - rows[-1][0][1].y) <= max(40, 2 * a[1].h):
            rows[-1].append(a)
        else:
            rows.append([a])
    rows = _densest_run(rows)
    boxes = [box for row in rows for _, box in row]
    # Columns split where the anchors' left edges jump by a good part of their spread: a first
    # label read together with the card's title (児童1 児童の氏名) starts 80 px right of its siblings.
    spread = max((b.x for b in boxes), default=0) - min((b.x for b in boxes), default=0)
    tol = max(60, spread // 3)
    columns: list[list[int]] = []
    for b in sorted(boxes, key=lambda b: b.x):
        if not columns or b.x - columns[-1][-1] > tol:
            columns.append([])
        columns[-1].append(b.x)
    grid = []
    for row in rows:
        line: list[Anchor] = []
        top = row[0][1]
        for col in columns:
            # A place's read first label before one placed by another attribute's label.
            found = sorted((a for a in row if col[0] <= a[1].x <= col[-1]), key=lambda a: a[0] is None)
            line.append(found[0] if found else (None, Cell(min(col), top.y, top.w, top.h)))
        grid.append(line)
    return grid


def _card_bounds(grid: list[list[Anchor]]) -> list[tuple[int, int, int]]:
    """(left, right, bottom) limit of each grid place, row by row: the previous column's right
    limit (the first column has none), the next column's and the next row's first label, less a
    margin; the last column and row repeat the pitch before them, or a card's largest size when
    there is only one. (A card's option text 別居 matches the label 同居・別居 of the card to its right.)"""
    ys = [min(box.y for _, box in row) for row in grid]
    # A column starts where its labels' lines start: 氏名 matched inside 児童の氏名 begins 90 px
    # into the card, and the next card's limit must not take the card's 生年月日 to its left.
    xs = [min(h.seg.box.x if h is not None else box.x for h, box in column) for column in zip(*grid)]
    def limits(starts: list[int], alone: int) -> list[int]:
        out = [b - 30 for b in starts[1:]]
        pitch = starts[-1] - starts[-2] if len(starts) > 1 else alone
        return out + [starts[-1] + pitch - 30] if starts else []
    right, bottom = limits(xs, 1100), limits(ys, 700)
    left = [-(10 ** 6)] + right[:-1]
    return [(left[j], right[j], bottom[i]) for i, row in enumerate(grid) for j in range(len(row))]


def _on_page(layout: PageLayout, box: Cell) -> Cell | None:
    """The part of *box* on the page; None when too little is (a sibling's place shifted off it)."""
    h, w = layout.image.shape[:2]
    x0, y0, x1, y1 = max(0, box.x), max(0, box.y), min(w, box.x + box.w), min(h, box.y + box.h)
    return Cell(x0, y0, x1 - x0, y1 - y0) if x1 - x0 >= 40 and y1 - y0 >= 30 else None


CARD_ROW_GAP = 1000  # px: rows of cards of one group are closer than this (a card is at most ~800 px tall)
PITCH_SLACK = 2.3  # a gap between anchor rows over this many times the smallest gap splits the cards
MIN_CARD_PITCH = 200  # px: a card (name, birth date, relation lines) is at least this tall


def _densest_run(rows: list[list[Anchor]]) -> list[list[Anchor]]:
    """The run of anchor rows that lie close together with the most anchors: a lone label far
    above the cards (配偶者氏名 misread so that only 氏名 matched) is not a card."""
    gaps = [b[0][1].y - a[0][1].y for a, b in zip(rows, rows[1:])]
    # Card rows repeat one pitch (a whole row lost leaves twice it): a row further off than that
    # is no card, though nearer than CARD_ROW_GAP (the recipient's 氏名 row above two card rows).
    # (Rows closer than a card's height are one row read twice, not its pitch.)
    pitches = [g for g in gaps if g >= MIN_CARD_PITCH]
    pitch = min(pitches) if len(pitches) >= 2 else CARD_ROW_GAP
    runs: list[list[list[Anchor]]] = []
    for row, gap in zip(rows, [None, *gaps]):
        if runs and gap is not None and gap <= min(CARD_ROW_GAP, PITCH_SLACK * pitch):
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
                shifted = Target(box=cell if cell is not None and cell.w * cell.h <= 1.5 * box.w * box.h
                                 and not _part_of_cell(layout, t.box) else box)
                if t.squares:
                    with_squares(layout, shifted, FieldType.checkbox)
                row[col] = shifted


def _part_of_cell(layout: PageLayout, box: Cell) -> bool:
    """Whether *box* is only part of the cell it lies in (the value under a label printed inside)."""
    k = innermost_cell(layout.cells, box.cx, box.cy)
    return k is not None and layout.cells[k].w * layout.cells[k].h > 1.2 * box.w * box.h


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
