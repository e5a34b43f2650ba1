"""The layout pass with its small print read again.

The layout pass reads the page at half resolution (:mod:`ocr.layout`), which is plenty for labels
in a label column but not for a label printed small in the corner of its value box (続柄 in 6 pt
reads 義柄, 芳本), nor for the pre-printed 年 月 日 of a date. A text line the pass read with low
confidence and at a small size is read again from the greyscale page, enlarged twice (binarising
small strokes merges them), and the new reading replaces the old one when Tesseract is surer of
it. Large or confident lines are left alone: the field readers read values at full resolution
anyway."""
from __future__ import annotations

import cv2
import numpy as np

from ocr.engine import OcrEngine
from ocr.grid import Cell
from ocr.layout import Grid, PageLayout, analyse
from ocr.normalize import WORK_DPI
from ocr.pagetext import Segment, segments
from ocr.tesseract import Word

SMALL_PX = 60  # a line at most this tall (at the work DPI) is small print for the half-resolution pass
SURE_CONF = 85  # a line read at least this confidently is kept as read
MAX_CHARS = 12  # longer lines are sentences or values, not labels
PAD = 6
ENLARGE = 2


def layout_pass(image: np.ndarray, engine: OcrEngine, grid: Grid | None = None, skip: tuple[Cell, ...] = (),
                blank: tuple[Cell, ...] = ()) -> PageLayout:
    """:func:`ocr.layout.analyse`, then the doubtful small print read again (see the module)."""
    layout = analyse(image, engine, grid, skip, blank)
    reread_small_print(layout, engine)
    return layout


def reread_small_print(layout: PageLayout, engine: OcrEngine) -> int:
    """Replace the words of each doubtful small line by a surer reading; returns the lines replaced."""
    replaced = 0
    for seg in segments(layout):
        if not _doubtful_small(seg):
            continue
        # Its own line key (negative blocks are never Tesseract's): the crop's lines count from 1
        # like the page's, and code grouping words by line would join unrelated lines.
        new = _read_enlarged(layout.image, seg.box, engine, line=(-1 - replaced, 0, 0))
        if not new or _conf(new) <= _conf(seg.words):
            continue
        _swap(layout, seg, new)
        replaced += 1
    return replaced


def _doubtful_small(seg: Segment) -> bool:
    return seg.box.h <= SMALL_PX and 2 <= len(seg.text) <= MAX_CHARS and _conf(seg.words) < SURE_CONF


def _conf(words: list[Word]) -> float:
    return float(np.mean([w.conf for w in words])) if words else -1.0


def _read_enlarged(image: np.ndarray, box: Cell, engine: OcrEngine, line: tuple[int, int, int]) -> list[Word]:
    x0, y0 = max(0, box.x - PAD), max(0, box.y - PAD)
    crop = image[y0: box.y + box.h + PAD, x0: box.x + box.w + PAD]
    if crop.size == 0:
        return []
    big = cv2.resize(crop, None, fx=ENLARGE, fy=ENLARGE, interpolation=cv2.INTER_CUBIC)
    words = engine.words(big, lang="jpn", psm=7, dpi=WORK_DPI * ENLARGE)
    return [Word(w.text, w.conf, x0 + w.x // ENLARGE, y0 + w.y // ENLARGE, max(1, w.w // ENLARGE), max(1, w.h // ENLARGE), line)
            for w in words if w.text.strip()]


def _swap(layout: PageLayout, seg: Segment, new: list[Word]) -> None:
    old = {id(w) for w in seg.words}
    layout.words = [w for w in layout.words if id(w) not in old] + new
    for i, ws in list(layout.cell_words.items()):
        layout.cell_words[i] = [w for w in ws if id(w) not in old]
    for w in new:
        for i, c in enumerate(layout.cells):
            if c.contains(w.cx, w.cy):
                layout.cell_words.setdefault(i, []).append(w)
                break
