"""Where a field is (Target, Located) and the cell-level pieces the binder (:mod:`ocr.bind`) builds
on: label scores of whole cell texts, the cell right of a label (with a run of one-box-per-digit
cells), a header-row table's columns, tick boxes with their option texts, and the full-resolution
recovery of labels the half-resolution layout pass lost. Nothing here knows pixel positions of a
particular layout.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from ocr.grid import Cell, find_squares
from ocr.layout import PageLayout, join_words, norm_label
from ocr.marks import Ringed
from ocr.pagetext import char_boxes, find_in
from ocr.results import FieldType
from ocr.templates import FieldSpec, FormTemplate

MATCH = 0.72
# A label whose layout reading lost one of two characters ('監議' for 監護) scores 0.5. It is
# taken only for a field no cell matched, when no other free cell comes close, and the field is
# then flagged (Target.weak_label): a wrong cell must never pass silently.
WEAK_MATCH = 0.5


@dataclass
class Target:
    """Where a field's value is on the page."""

    box: Cell
    parts: list[Cell] = field(default_factory=list)  # one box per digit
    squares: list[Cell] = field(default_factory=list)  # checkbox squares
    options: list[str] = field(default_factory=list)  # option text beside each square (choice)
    label_box: Cell | None = None
    weak_label: bool = False  # found by a WEAK_MATCH of its label: the reader must flag it
    unsure: bool = False  # another region was nearly as likely the value's (ocr.bind): the reader must flag it
    circled: Ringed | None = None  # an option group answered by a ring round the text, not a box


@dataclass
class Located:
    fields: dict[str, Target | None]
    tables: dict[str, list[dict[str, Target]]]
    score: float  # share of the template's labels found on the page
    absent: set[str] = field(default_factory=set)  # fields whose label is nowhere on the page, not even weakly
    column_labels: dict[str, list[Cell]] = field(default_factory=dict)  # a table drawn one entry per column: its row-label cells


@lru_cache(maxsize=65536)  # classification and location score the same (cell text, synonym) pairs
def label_score(text: str, synonym: str) -> float:
    t, s = norm_label(text), norm_label(synonym)
    if not t or not s:
        return 0.0
    if t == s:
        return 1.0
    return SequenceMatcher(None, t, s).ratio()


def best_score(text: str, synonyms: list[str]) -> float:
    return _best_score(text, tuple(synonyms))


@lru_cache(maxsize=65536)
def _best_score(text: str, synonyms: tuple[str, ...]) -> float:
    return max((label_score(text, s) for s in synonyms), default=0.0)


def classify_score(template: FormTemplate, layout: PageLayout) -> float:
    texts = [layout.cell_text(i) for i in range(len(layout.cells))]
    # Labels outside ruled cells count too (free-standing text lines).
    texts += [join_words(ws) for ws in _lines(layout)]
    groups = template.all_labels()
    hits = sum(1 for g in groups if any(best_score(t, g) >= MATCH for t in texts))
    return hits / len(groups) if groups else 0.0


def _lines(layout: PageLayout) -> list[list]:
    lines: dict[tuple[int, int, int], list] = {}
    for w in layout.words:
        lines.setdefault(w.line, []).append(w)
    return list(lines.values())


def _same_row(a: Cell, b: Cell) -> bool:
    overlap = min(a.y + a.h, b.y + b.h) - max(a.y, b.y)
    return overlap > 0.5 * min(a.h, b.h)


def right_of(layout: PageLayout, label: Cell) -> Target | None:
    cands = [c for c in layout.cells if c.x >= label.x + label.w - 25 and _same_row(c, label)]
    if not cands:
        return None
    t = digit_run(layout, min(cands, key=lambda c: c.x))
    t.label_box = label
    return t


def digit_run(layout: PageLayout, first: Cell) -> Target:
    """The value starting at cell *first*: with one box per digit (a box about as wide as high), the
    run of similar boxes that follows, read together; else the cell alone."""
    parts = [first]
    if first.w < 1.6 * first.h:
        row = sorted((c for c in layout.cells if c.x > first.x and _same_row(c, first)), key=lambda c: c.x)
        end = first.x + first.w  # right edge of the run so far, a separator box included
        separated_before = False  # the last box taken was a separator
        for c in row:
            # Groups (4-4-4, 3-4) leave a gap of up to about a box between them, or a narrow box
            # between them with the hyphen printed in it (not a digit: left out of the parts).
            if c.x - end >= max(30, 0.9 * first.w) or abs(c.h - first.h) >= 0.35 * first.h:
                break
            separated = abs(c.w - first.w) >= 0.35 * first.w
            if not separated:
                parts.append(c)
            elif separated_before or not 0.3 * first.w < c.w <= 0.8 * first.w or c is row[-1]:
                break
            separated_before = separated
            end = c.x + c.w
    return Target(box=Cell.around(parts), parts=parts if len(parts) > 1 else [])


def _below(layout: PageLayout, header: Cell, max_rows: int) -> list[Cell]:
    col = [c for c in layout.cells if c.y >= header.y + header.h - 25 and header.x - 25 <= c.cx <= header.x + header.w + 25]
    col.sort(key=lambda c: c.y)
    out: list[Cell] = []
    bottom = header.y + header.h
    for c in col:
        if c.y - bottom > 30 or len(out) >= max_rows:
            break
        out.append(c)
        bottom = c.y + c.h
    return out


def with_squares(layout: PageLayout, target: Target, spec_type: FieldType) -> Target:
    """The tick boxes in the target's box, with the printed text beside each (a choice's options,
    a question's はい/いいえ)."""
    target.squares = find_squares(layout.bw, target.box)
    if spec_type == FieldType.choice or target.squares:
        texts = []
        for i, sq in enumerate(target.squares):
            end = target.squares[i + 1].x if i + 1 < len(target.squares) else target.box.x + target.box.w
            line = sorted((w for w in layout.words if abs(w.cy - sq.cy) < 1.2 * sq.h and target.box.contains(w.cx, w.cy)),
                          key=lambda w: w.x)
            # By character, not by word: the layout pass often reads はい いいえ as one word that
            # spans both boxes, and the first box then had no text (its answer read by position).
            texts.append("".join(ch for ch, x0, x1 in char_boxes(line) if sq.x + sq.w - 5 <= (x0 + x1) / 2 < end))
        target.options = texts
    return target


def _value_target(layout: PageLayout, spec: FieldSpec, label: Cell) -> Target | None:
    """The value cell of a label cell: below it or to its right, as the locator says."""
    if spec.locator.position == "below":
        below = _below(layout, label, 1)
        return Target(box=below[0], label_box=label) if below else None
    return right_of(layout, label)


def recover_unread_labels(template: FormTemplate, layout: PageLayout, located: Located,
                          read_cell: Callable[[Cell], str]) -> list[str]:
    """Find fields no label matched among cells the half-resolution layout pass read nothing in,
    and table columns whose header it garbled (:func:`_recover_headers`).

    A short label in small print (監護, two characters) can vanish from that pass entirely,
    and the field is then "not found" although its label is printed. Only cells with no layout
    words that are not already some field's label or value, and have a value cell where the
    field's locator says, are read again (*read_cell*, at full resolution; a blank cell reads
    '' without a Tesseract call); a cell
    that now reads as a synonym (MATCH, as in :func:`locate`) places the field. Costs nothing
    on a page where every field was found. A cell with layout words is read again only for a
    question not found whose value cell beside it holds tick boxes. Returns the names of the fields
    (and table.column) recovered.
    """
    if template.kind != "label":
        return []
    recovered = _recover_headers(template, layout, located, read_cell)
    missing = [f for f in template.fields
               if f.type != FieldType.table and f.locator.labels and located.fields.get(f.name) is None]
    if not missing:
        return recovered
    taken = [c for t in located.fields.values() if t is not None for c in (t.box, t.label_box) if c is not None]
    taken += [c for rows in located.tables.values() for row in rows for t in row.values() for c in (t.box, t.label_box) if c]
    for i, cell in enumerate(layout.cells):
        if not missing:
            break
        if any(cell.overlaps(c) for c in taken):
            continue
        # A cell the layout pass read something in is read again only for a question whose tick
        # boxes stand beside it: its sentence garbled (児誤福祉施踊BYに入所) hid a printed question.
        garbled = bool(layout.cell_words.get(i))
        text = None
        for spec in list(missing):
            if garbled and spec.type not in (FieldType.checkbox, FieldType.choice):
                continue
            target = _value_target(layout, spec, cell)
            if target is None or any(target.box.overlaps(c) for c in taken):
                continue
            if garbled and not find_squares(layout.bw, target.box):
                continue
            text = read_cell(cell) if text is None else text
            if best_score(text, spec.locator.labels) < MATCH and not (garbled and _in_sentence(text, spec.locator.labels)):
                continue
            if spec.type in (FieldType.checkbox, FieldType.choice):
                target = with_squares(layout, target, spec.type)
            located.fields[spec.name] = target
            taken += [cell, target.box]
            missing.remove(spec)
            recovered.append(spec.name)
            break
    return recovered


def _in_sentence(text: str, synonyms: list[str]) -> bool:
    """Whether a question's phrase (four characters or more, as bind counts one) is in the sentence."""
    flat = norm_label(text).replace(" ", "")
    return any(find_in(flat, s, MATCH)[0] >= MATCH for s in synonyms if len(s) >= 4)


def _recover_headers(template: FormTemplate, layout: PageLayout, located: Located,
                     read_cell: Callable[[Cell], str]) -> list[str]:
    """Table columns whose header the layout pass garbled beyond a weak match ('て昌半里.氏名' for
    児童氏名): the header row's cells above no found column are read again at full resolution, and
    one that reads as the column's header at the normal match level gives the column its cells."""
    recovered: list[str] = []
    for spec in (f for f in template.fields if f.type == FieldType.table):
        rows = located.tables.get(spec.name) or []
        missing = [col for col in spec.columns if col.labels and rows and col.name not in rows[0]]
        if not missing:
            continue
        found = list(rows[0].values())
        top = min(t.box.y for t in found)
        header_row = [c for c in layout.cells if abs(c.y + c.h - top) < 30
                      and not any(min(c.x + c.w, t.box.x + t.box.w) > max(c.x, t.box.x) for t in found)]
        for cell in header_row:
            text = read_cell(cell)
            col = next((col for col in missing if best_score(text, col.labels) >= MATCH), None)
            if col is None:
                continue
            for row, below in zip(rows, _below(layout, cell, spec.max_rows)):
                row[col.name] = Target(box=below)
                if col.type == FieldType.checkbox:
                    row[col.name].squares = find_squares(layout.bw, below)
            missing.remove(col)
            recovered.append(f"{spec.name}.{col.name}")
    return recovered


def locate_row_table(spec: FieldSpec, layout: PageLayout, cands: dict[str, list[int]], texts: dict[int, str] | None = None,
                     used: set[int] | None = None) -> list[dict[str, Target]]:
    """A table with a header row: *cands* are each column's candidate header cells (indices); the
    header row is where most columns' labels line up, and each column's cells are below it."""
    texts = texts if texts is not None else {i: layout.cell_text(i) for i in range(len(layout.cells))}
    used = used if used is not None else set()
    best_row: list[tuple[str, int]] = []
    for anchor_col, idxs in cands.items():
        for i in idxs:
            a = layout.cells[i]
            row = [(anchor_col, i)]
            for other, oidx in cands.items():
                if other == anchor_col:
                    continue
                same = [j for j in oidx if _same_row(layout.cells[j], a)]
                if same:
                    row.append((other, same[0]))
            if len(row) > len(best_row):
                best_row = row
    if len(best_row) < max(2, len(spec.columns) // 2):
        return []
    best_row += _weak_headers(spec, layout, texts, best_row)
    columns: dict[str, list[Cell]] = {}
    for col_name, i in best_row:
        used.add(i)
        columns[col_name] = _below(layout, layout.cells[i], spec.max_rows)
    n_rows = max(len(v) for v in columns.values())
    rows: list[dict[str, Target]] = []
    for r in range(n_rows):
        row: dict[str, Target] = {}
        for col in spec.columns:
            cells = columns.get(col.name, [])
            if r < len(cells):
                t = Target(box=cells[r])
                if col.type == FieldType.checkbox:
                    t.squares = find_squares(layout.bw, cells[r])
                row[col.name] = t
        rows.append(row)
    return rows


def _weak_headers(spec: FieldSpec, layout: PageLayout, texts: dict[int, str], row: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Columns whose header the layout pass misread ('児童氏名' as '兄昌間曹氏名'), found in the
    header row the other columns fixed: the one unclaimed cell of that row that matches the
    column's labels weakly, and clearly better than any other cell of the row."""
    found = {name for name, _ in row}
    taken = {i for _, i in row}
    anchor = layout.cells[row[0][1]]
    in_row = [i for i in texts if i not in taken and _same_row(layout.cells[i], anchor)]
    out = []
    for col in spec.columns:
        if col.name in found:
            continue
        scored = sorted(((best_score(texts[i], col.labels), i) for i in in_row), reverse=True)
        if scored and scored[0][0] >= WEAK_MATCH and (len(scored) == 1 or scored[1][0] < scored[0][0] - 0.15):
            out.append((col.name, scored[0][1]))
            in_row.remove(scored[0][1])
    return out
