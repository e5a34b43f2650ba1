"""Layout memory: the next page of a layout already read skips its values in the layout pass.

The layout pass (:func:`ocr.layout.analyse`) reads all the printed text of a page at half
resolution to find the labels; half of the characters it reads are written text values (names,
kana, addresses, dates), checkbox statements and titles, which nothing needs from that pass (the
field readers read text values at full resolution, by two models). A clerk's batch is mostly
pages of one municipality's layout: once a page of a layout has been read, its ruled-cell grid
says where those sit, and the next page with the same grid has them whitened before the pass
(measured here: 263 -> 126 characters, 0.49 -> 0.25 s of layout pass a page).

Nothing of a page's reading comes from the earlier page: its labels are still read on the page
itself, and :meth:`LayoutMemory.confirms` keeps the pass only when it finds the same template and
every field (at the learnt page's label cell), table row and table header the learnt page had;
otherwise the pipeline reads the page again in full, and when that finds what the shortened pass
missed the layout is not tried again. A choice's cell stays in the pass (its options' text names
them), and so does a code's (its layout reading is the code's fourth reading, see
``fields.text_field``).
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ocr.fields import CODE_TYPES
from ocr.grid import Cell
from ocr.layout import PageLayout, join_words
from ocr.locate import MATCH, WEAK_MATCH, Located, best_score
from ocr.results import FieldType
from ocr.templates import FormTemplate
from ocr.tesseract import Word

# Two grids are the same layout when nearly every cell of each has a counterpart in the other
# (boxes relative to the grid's outline, so a shifted or rescaled scan still matches). A digit
# box 50 px wide displaced by 5 px still overlaps its counterpart at IoU ~0.7.
SAME_CELL_IOU = 0.6
SAME_GRID_SHARE = 0.9


@dataclass(frozen=True)
class Recall:
    """What the memory says of a page: the cells to whiten, and what the pass must find."""

    key: int
    template_id: str
    skip: tuple[Cell, ...]  # cells of this page
    blank: tuple[Cell, ...]  # boxes of free-standing printed lines (a title, notes), on this page
    fields: tuple[tuple[str, Cell | None], ...]  # each field and its learnt label's cell on this page
    tables: tuple[tuple[str, int, int], ...]  # (table, rows, columns of its first row) on the learnt page


@dataclass
class _Entry:
    template_id: str
    cells: np.ndarray  # (n, 4) x0, y0, x1, y1 relative to the grid's outline
    skip: np.ndarray  # indices into cells
    blank: np.ndarray  # (k, 4) free-standing lines' boxes, relative as cells are
    fields: dict[str, int]  # field -> index of its label's cell (-1: none)
    tables: tuple[tuple[str, int, int], ...]
    usable: bool = True


def _frame(cells: list[Cell]) -> tuple[float, float, float, float]:
    """The grid's outline (x, y, w, h): what page positions are taken relative to."""
    x0, y0 = min(c.x for c in cells), min(c.y for c in cells)
    return x0, y0, max(1.0, max(c.x + c.w for c in cells) - x0), max(1.0, max(c.y + c.h for c in cells) - y0)


def _relative(boxes: list[Cell], frame: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, w, h = frame
    a = np.array([(c.x, c.y, c.x + c.w, c.y + c.h) for c in boxes], dtype=np.float64).reshape(-1, 4)
    return (a - (x0, y0, x0, y0)) / (w, h, w, h)


def _absolute(rel: np.ndarray, frame: tuple[float, float, float, float]) -> tuple[Cell, ...]:
    x0, y0, w, h = frame
    return tuple(Cell(int(x0 + a * w), int(y0 + b * h), int((c - a) * w), int((d - b) * h)) for a, b, c, d in rel)


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box of ``a`` with every box of ``b``: shape (len(a), len(b))."""
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


class LayoutMemory:
    """The grids of the last ``size`` layouts read, with their value cells (thread-safe).

    ``hits`` counts pages whose shortened pass was kept, ``fallbacks`` those read again in full.
    """

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._entries: OrderedDict[int, _Entry] = OrderedDict()
        self._next = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.fallbacks = 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.fallbacks = 0

    def _match(self, rel: np.ndarray) -> tuple[int, _Entry, np.ndarray] | None:
        """The entry whose grid is this one, with the page cell matched to each entry cell (-1: none)."""
        if not len(rel):
            return None
        for key, e in reversed(self._entries.items()):
            if abs(len(e.cells) - len(rel)) > (1 - SAME_GRID_SHARE) * len(e.cells):
                continue
            iou = _iou(e.cells, rel)
            best = iou.argmax(axis=1)
            ok = iou[np.arange(len(e.cells)), best] >= SAME_CELL_IOU
            if ok.mean() < SAME_GRID_SHARE or (iou.max(axis=0) >= SAME_CELL_IOU).mean() < SAME_GRID_SHARE:
                continue
            return key, e, np.where(ok, best, -1)
        return None

    def recall(self, cells: list[Cell]) -> Recall | None:
        """The cells and lines of this page to leave out of the layout pass, when its grid is a learnt layout."""
        if not cells:
            return None
        frame = _frame(cells)
        with self._lock:
            found = self._match(_relative(cells, frame))
            if found is None or not found[1].usable:
                return None
            key, e, page_of = found
            self._entries.move_to_end(key)
            idx = page_of[e.skip]
            if (idx < 0).any():
                return None  # a value cell of the learnt page has no counterpart here
            labels = tuple((name, cells[page_of[i]] if i >= 0 and page_of[i] >= 0 else None) for name, i in e.fields.items())
            return Recall(key, e.template_id, tuple(cells[i] for i in idx), _absolute(e.blank, frame), labels,
                          e.tables)

    def learn(self, template_id: str, cells: list[Cell], skip: list[Cell], blank: list[Cell],
              fields: dict[str, Cell | None], tables: dict[str, tuple[int, int]]) -> None:
        """Remember a page read in full: its grid, the value cells and free-standing lines to skip,
        and what it found (*fields*: each field's label cell)."""
        if self.size <= 0 or not cells or not (skip or blank):
            return
        index = {c: i for i, c in enumerate(cells)}
        frame = _frame(cells)
        rel = _relative(cells, frame)
        entry = _Entry(template_id, rel, np.array([index[c] for c in skip if c in index], dtype=np.int64),
                       _relative(blank, frame), {name: index.get(cell, -1) for name, cell in fields.items()},
                       tuple((name, rows, cols) for name, (rows, cols) in sorted(tables.items())))
        with self._lock:
            found = self._match(rel)
            if found is not None:
                if not found[1].usable:
                    return  # this layout's shortened pass failed once: stay with the full one
                del self._entries[found[0]]
            self._entries[self._next] = entry
            self._next += 1
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def confirms(self, recall: Recall, template_id: str | None, located: Located | None) -> bool:
        """Whether a pass found what the learnt page had: the template, every field at its learnt
        label's cell, every table row and header (together, every label group that makes up the
        classification score). A field found there by a weak match passes too: that cell is never
        skipped, so the full pass reads the same pixels there (a short label such as 〒 is read
        weakly on many pages of a layout, and each such page would otherwise be read twice); the
        reader then confirms or flags it as it always does."""
        if located is None or template_id != recall.template_id:
            return False
        fields, tables = located.fields, located.tables
        for name, cell in recall.fields:
            t = fields.get(name)
            if t is None and cell is None and name in located.absent:
                continue  # absent from this layout on both pages
            if t is None or t.unsure:
                return False
            if cell is not None:
                if t.label_box is None or not t.label_box.overlaps(cell):
                    return False  # found elsewhere than on the learnt page: not the same layout
            elif t.weak_label:
                return False
        return all(len(found := tables.get(n, [])) >= rows and len(found[0]) >= cols for n, rows, cols in recall.tables)

    def record(self, recall: Recall, kept: bool, skip_at_fault: bool = False) -> None:
        """Count a recalled page: its shortened pass *kept*, or the page read again in full. When
        the full pass found what the shortened one missed (*skip_at_fault*), the layout's skipped
        cells held something needed and it is not tried again (``learn`` keeps it that way); a
        page that lacks a field either way (a smudged label) says nothing against the layout."""
        with self._lock:
            if kept:
                self.hits += 1
                return
            self.fallbacks += 1
            if skip_at_fault and (e := self._entries.get(recall.key)) is not None:
                e.usable = False


# A cell whose layout reading is this close to any label (well under a weak match) is kept in a
# remembered layout's pass: it may be a label read badly on the page the layout was learnt from.
LABEL_LIKE = WEAK_MATCH - 0.2


def _value_boxes(tpl: FormTemplate, loc: Located, which: Callable[[FieldType], bool]) -> list[Cell]:
    """The value boxes of the fields and table columns whose type is *which*."""
    boxes = [t.box for spec in tpl.fields if which(spec.type) and (t := loc.fields.get(spec.name)) is not None]
    return boxes + [row[col.name].box for spec in tpl.fields for row in loc.tables.get(spec.name, [])
                    for col in spec.columns if which(col.type) and col.name in row]


def learn_page(memory: LayoutMemory, tpl: FormTemplate, loc: Located, layout: PageLayout) -> None:
    """Remember a label-located page read in full whose every field and table header was found
    surely, with the cells its layout pass did not need: every cell with text but a choice's or a
    code's that is a value or like none of the template's labels, and every line outside the grid
    that matches no label. That is the written text values, the checkbox statements, the title and
    any printed notes."""
    # A question this layout does not ask (loc.absent) is no gap in what the page teaches.
    if tpl.kind != "label" or any(t is None and name not in loc.absent or t is not None and (t.weak_label or t.unsure)
                                  for name, t in loc.fields.items()):
        return
    tables = {spec.name: (spec, loc.tables.get(spec.name, [])) for spec in tpl.fields if spec.type == FieldType.table}
    if any(not rows or len(rows[0]) < len(spec.columns) for spec, rows in tables.values()):
        return  # a table's header not found: the page teaches nothing sure
    groups = tpl.all_labels()

    def label_like(text: str, level: float = LABEL_LIKE) -> bool:
        return any(best_score(text, g) >= level for g in groups)

    # A choice's options are named by their text; a code's layout reading is its fourth reading.
    needed = _value_boxes(tpl, loc, lambda t: t == FieldType.choice or t in CODE_TYPES)
    # Values are skipped even when they look like a label (a date shares 年月日 with 生年月日),
    # unless they hold a label themselves.
    values = _value_boxes(tpl, loc, lambda t: t not in (FieldType.choice, FieldType.table))
    labels = [t.label_box for t in loc.fields.values() if t is not None and t.label_box is not None]
    skip = [cell for i, cell in enumerate(layout.cells)
            if layout.cell_words.get(i) and not any(cell.overlaps(b) for b in needed)
            and (any(cell.overlaps(v) for v in values) and not any(cell.overlaps(b) for b in labels)
                 or not label_like(layout.cell_text(i)))]
    in_cells = {id(w) for ws in layout.cell_words.values() for w in ws}
    free: dict[tuple[int, int, int], list[Word]] = {}
    for w in layout.words:
        if id(w) not in in_cells:
            free.setdefault(w.line, []).append(w)
    # Outside the grid only a line that matches a label counts (towards the score: see
    # locate.classify_score); a long line that merely shares 児童 or 受給者 with one is no label.
    blank = [_bounds(ws) for ws in free.values() if not label_like(join_words(ws), MATCH)]
    memory.learn(tpl.id, layout.cells, skip, blank, {name: t.label_box if t is not None else None for name, t in loc.fields.items()},
                 {name: (len(rows), len(spec.columns)) for name, (spec, rows) in tables.items()})


def _bounds(words: list[Word]) -> Cell:
    x0, y0 = min(w.x for w in words), min(w.y for w in words)
    return Cell(x0, y0, max(w.x + w.w for w in words) - x0, max(w.y + w.h for w in words) - y0)
