"""One look at a normalised page: ruled lines, cells and the printed text with positions.

The printed text is read once, at half resolution (labels are large enough, and it
costs a quarter of the pixels); it finds labels, classifies the page, decides 0° vs
180°, gives the choice options their text and codes a fourth reading. Text values are read by
the field readers at full resolution, so a page of a layout read before leaves them out (see
:mod:`ocr.memory`).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from ocr.engine import OcrEngine
from ocr.grid import Cell, binarise, find_cells, line_mask
from ocr.normalize import WORK_DPI
from ocr.tesseract import Word
from ocr.values import squash, to_halfwidth

LAYOUT_SCALE = 0.5


@dataclass
class PageLayout:
    image: np.ndarray  # normalised greyscale page
    bw: np.ndarray  # ink = 255
    lines: np.ndarray  # ruled-line mask
    cells: list[Cell]
    words: list[Word]  # page coordinates
    cell_words: dict[int, list[Word]] = field(default_factory=dict)
    # Derived views (pagetext.segments) kept with the words and cells they were made from.
    derived: dict[str, tuple[tuple[int, ...], Any]] = field(default_factory=dict, repr=False, compare=False)

    def cell_text(self, i: int) -> str:
        return join_words(self.cell_words.get(i, []))

    def words_in(self, box: Cell) -> list[Word]:
        return [w for w in self.words if box.contains(w.cx, w.cy)]

    @property
    def mean_conf(self) -> float:
        confs = [w.conf for w in self.words if w.conf >= 0]
        return float(np.mean(confs)) if confs else 0.0

    def clean(self) -> np.ndarray:
        """Binary page, black ink on white, ruled lines (and digit boxes) removed, specks gone.

        Tesseract's LSTM misreads noisy greyscale crops badly ('メグミ' -> 'スグ5') while the
        same crop binarised reads right, so the reader gets this image.
        """
        ink = cv2.bitwise_and(self.bw, cv2.bitwise_not(self.lines))
        n, labels, stats = components(ink, connectivity=8)
        specks = np.nonzero(stats[:, cv2.CC_STAT_AREA] < 10)[0]
        ink[np.isin(labels, specks[specks > 0])] = 0
        return cv2.bitwise_not(ink)


def components(img: np.ndarray, connectivity: int) -> tuple[int, np.ndarray, np.ndarray]:
    """``cv2.connectedComponentsWithStats`` with 16-bit labels when they suffice.

    A page has a few hundred components, and 16-bit labels make the labelling ~3x faster
    (measured 23 ms against 83 ms on a 300 dpi page); OpenCV raises rather than wrap
    around when there are more than 65,535, and then 32-bit labels are used.
    """
    try:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(img, connectivity=connectivity, ltype=cv2.CV_16U)
    except cv2.error:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(img, connectivity=connectivity)
    return n, labels, stats


def join_words(words: list[Word], space_ratio: float = 0.45) -> str:
    """Join words of one field left to right; a wide gap becomes a space (姓 名)."""
    if not words:
        return ""
    ws = sorted(words, key=lambda w: w.x)
    h = float(statistics.median(w.h for w in ws))  # numpy's median costs ~50x more on a few words
    out = ws[0].text
    for prev, cur in zip(ws, ws[1:]):
        gap = cur.x - (prev.x + prev.w)
        out += (" " if gap > space_ratio * h else "") + cur.text
    return out


@dataclass
class Grid:
    """A page's ink and ruled cells: what is known before any text is read."""

    bw: np.ndarray  # ink = 255
    lines: np.ndarray  # ruled-line mask
    cells: list[Cell]


def grid_of(image: np.ndarray) -> Grid:
    bw = binarise(image)
    lines = line_mask(bw)
    return Grid(bw, lines, find_cells(lines))


SKIP_INSET = 3  # a skipped cell is whitened this far inside its ruled border
BLANK_PAD = 8  # a skipped free-standing line is whitened this far around its words' box


def analyse(image: np.ndarray, engine: OcrEngine, grid: Grid | None = None, skip: tuple[Cell, ...] = (),
            blank: tuple[Cell, ...] = ()) -> PageLayout:
    """Read the page's printed text at half resolution, leaving out the cells in *skip* and the
    boxes in *blank* (what a :class:`~ocr.memory.LayoutMemory` knows is no label: they come back
    as no words)."""
    grid = grid or grid_of(image)
    bw, lines, cells = grid.bw, grid.lines, grid.cells
    clean = cv2.bitwise_not(cv2.bitwise_and(bw, cv2.bitwise_not(lines)))
    for c in skip:
        clean[c.y + SKIP_INSET: c.y + c.h - SKIP_INSET, c.x + SKIP_INSET: c.x + c.w - SKIP_INSET] = 255
    for b in blank:
        clean[max(0, b.y - BLANK_PAD): b.y + b.h + BLANK_PAD, max(0, b.x - BLANK_PAD): b.x + b.w + BLANK_PAD] = 255
    small = cv2.resize(clean, None, fx=LAYOUT_SCALE, fy=LAYOUT_SCALE, interpolation=cv2.INTER_AREA)
    raw = engine.words(small, lang="jpn", psm=11, dpi=int(WORK_DPI * LAYOUT_SCALE))
    s = 1 / LAYOUT_SCALE
    words = [Word(w.text, w.conf, int(w.x * s), int(w.y * s), int(w.w * s), int(w.h * s), w.line) for w in raw]
    layout = PageLayout(image, bw, lines, cells, words)
    for w in words:
        for i, c in enumerate(cells):
            if c.contains(w.cx, w.cy):
                layout.cell_words.setdefault(i, []).append(w)
                break
    return layout


@lru_cache(maxsize=8192)
def norm_label(text: str) -> str:
    # Cached: label matching compares every cell text with every synonym (tens of
    # thousands of calls a page, the same few hundred strings).
    t = squash(to_halfwidth(text))
    return t.strip("・:：。、.()（）[]「」")
