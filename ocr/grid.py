"""Ruled-line grid of a form: line masks, table cells, checkbox squares.

Cells are the regions enclosed by ruled lines; they give label-located fields their
value areas without knowing any pixel position of a particular layout.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    w: int
    h: int

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px < self.x + self.w and self.y <= py < self.y + self.h

    def overlaps(self, other: "Cell") -> bool:
        """They share more than half of the smaller one's area (the same cell, found twice)."""
        w = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        h = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        return w > 0 and h > 0 and w * h > 0.5 * min(self.w * self.h, other.w * other.h)

    @staticmethod
    def around(cells: "list[Cell]") -> "Cell":
        """The smallest cell holding all of *cells* (at least one)."""
        x0, y0 = min(c.x for c in cells), min(c.y for c in cells)
        return Cell(x0, y0, max(c.x + c.w for c in cells) - x0, max(c.y + c.h for c in cells) - y0)

    def union(self, other: "Cell") -> "Cell":
        x0, y0 = min(self.x, other.x), min(self.y, other.y)
        x1, y1 = max(self.x + self.w, other.x + other.w), max(self.y + self.h, other.y + other.h)
        return Cell(x0, y0, x1 - x0, y1 - y0)


def binarise(img: np.ndarray) -> np.ndarray:
    """Ink = 255. A light blur before Otsu keeps scanner noise and JPEG ringing out of the
    strokes (measured: fewer 8/6/0 confusions in digit fields than plain Otsu)."""
    _, bw = cv2.threshold(cv2.GaussianBlur(img, (3, 3), 0), 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return bw


def line_mask(bw: np.ndarray, min_len: int = 80) -> np.ndarray:
    """Long horizontal and vertical strokes (ruled lines), slightly thickened."""
    h = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (min_len, 1)))
    v = cv2.morphologyEx(bw, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, min_len)))
    mask = cv2.bitwise_or(h, v)
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))


def find_cells(lines: np.ndarray, min_side: int = 50) -> list[Cell]:
    # Close small gaps so every cell is enclosed, then take the holes of the line drawing. The
    # holes are traced as contours: same cells as labelling the background's components, ~10x
    # faster (a 300 dpi page's background is ~9 Mpx; the line drawing's boundary is small).
    closed = cv2.morphologyEx(lines, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    contours, hierarchy = cv2.findContours(closed, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    W = lines.shape[1]
    cells = []
    for contour, (_, _, _, parent) in zip(contours, hierarchy[0] if hierarchy is not None else []):
        if parent < 0:
            continue  # the outline of the line drawing itself; the page outside the tables is no hole
        # A hole's contour runs on the line pixels around it: the cell is one pixel inside.
        x, y, w, h = cv2.boundingRect(contour)
        x, y, w, h = x + 1, y + 1, w - 2, h - 2
        # A label strip above its value box is wide but short (a 9 pt label in a 36 px strip).
        short_strip = h >= 30 and w >= 3 * min_side
        if w < min_side or (h < min_side and not short_strip) or w > W * 0.95:
            continue
        if cv2.contourArea(contour) < 0.7 * (w + 2) * (h + 2) and not _boxed(closed, contour):
            continue
        cells.append(Cell(int(x), int(y), int(w), int(h)))
    return sorted(cells, key=lambda c: (c.y, c.x))


def _boxed(closed: np.ndarray, contour: np.ndarray) -> bool:
    """A hole short of its bounding box only by boxes drawn into it: a cell whose digit boxes
    touch its bottom line (個人番号 over its 12 boxes; their insides are paper enclosed by lines),
    not two cells joined through a broken line, whose box takes in paper open to its edge."""
    x, y, w, h = cv2.boundingRect(contour)
    hole = np.zeros((h, w), np.uint8)
    cv2.drawContours(hole, [contour], -1, 255, thickness=cv2.FILLED, offset=(-x, -y))
    paper = ((hole == 0) & (closed[y: y + h, x: x + w] == 0)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    for i in range(1, n):
        px, py, pw, ph, area = stats[i]
        if area > 0.002 * w * h and (px == 0 or py == 0 or px + pw == w or py + ph == h):
            return False  # paper outside the hole reaching the box's edge: another cell's
    return True


def find_squares(bw: np.ndarray, region: Cell, size_range: tuple[int, int] = (24, 80)) -> list[Cell]:
    """Checkbox squares inside a cell (drawn boxes or printed □), left to right.

    Boxes are found from their straight sides only (short horizontal/vertical strokes),
    so a tick or cross that overshoots the box does not change its outline.
    """
    pad = 6
    lo, hi = size_range
    x0, y0 = region.x + pad, region.y + pad
    sub = bw[y0: region.y + region.h - pad, x0: region.x + region.w - pad]
    if sub.size == 0:
        return []
    k = lo - 6
    sides = cv2.bitwise_or(cv2.morphologyEx(sub, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (k, 1))),
                           cv2.morphologyEx(sub, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, k))))
    contours, _ = cv2.findContours(sides, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found: list[Cell] = []
    overshot: list[Cell] = []
    for c in contours:
        x, y, w, h = cv2.boundingRect(c)
        cell = Cell(x0 + x, y0 + y, w, h)
        if lo <= w < h <= hi and w / h < 0.75:
            # A ✓ whose long arm rises far above the box: the box between its sides is square and
            # as wide as the outline (a ring round 同居 tightens to the glyph 同, much narrower).
            tight = _tighten(bw, cell)
            if lo <= tight.h and abs(tight.w - w) <= 0.15 * w and 0.9 <= tight.w / tight.h <= 1.1:
                cell, w, h = tight, tight.w, tight.h
        if not (lo <= w <= hi and lo <= h <= hi and 0.75 <= w / h <= 1.33):
            continue
        if max(w / h, h / w) > 1.1:
            # Checkboxes are square: an oblong outline is a box with a tick overshooting a side.
            tight = _tighten(bw, cell)
            if lo <= min(tight.w, tight.h) and abs(1 - tight.w / tight.h) < abs(1 - w / h) - 0.05:
                cell = tight
        if _is_box(bw, cell):
            found.append(cell)
        elif (tight := _tighten(bw, cell)).w >= lo and tight.h >= lo and _is_box(bw, tight):
            overshot.append(tight)
    found += _like_found(overshot, found)
    return _drop_label_glyphs(sorted(found, key=lambda c: c.x))


def _like_found(overshot: list[Cell], found: list[Cell]) -> list[Cell]:
    """Boxes whose tick overshoots two sides (✓ up and right): the outline stays square, so
    only the tightened box is a box. A square glyph of the option text tightens to a box too,
    so one is taken only when it has the size of the boxes already found in the same cell
    (options share one box size; a glyph is smaller)."""
    if not found:
        return []
    w, h = float(np.median([c.w for c in found])), float(np.median([c.h for c in found]))
    return [c for c in overshot if abs(c.w - w) <= 0.12 * w and abs(c.h - h) <= 0.12 * h
            and not any(abs(c.cx - f.cx) < f.w and abs(c.cy - f.cy) < f.h for f in found)]


def _tighten(bw: np.ndarray, c: Cell) -> Cell:
    """The box between its own four sides. A tick that overshoots a side (✓'s long arm) widens
    the bounding rectangle, which then reaches into the option's text and makes the box look
    crowded (a ticked 厚生年金 went unseen); each side is the outermost near-full line in its
    edge band, which the tick never is."""
    box = bw[c.y:c.y + c.h, c.x:c.x + c.w] > 0
    cols, rows = box.mean(axis=0), box.mean(axis=1)
    bw_, bh = max(3, int(c.w * 0.35)), max(3, int(c.h * 0.35))

    def outer(profile: np.ndarray, first: bool) -> int:
        strong = np.nonzero(profile >= 0.6 * profile.max())[0] if profile.max() > 0 else []
        return int(strong[0] if first else strong[-1]) if len(strong) else (0 if first else len(profile) - 1)

    left, top = outer(cols[:bw_], True), outer(rows[:bh], True)
    right, bottom = c.w - bw_ + outer(cols[-bw_:], False), c.h - bh + outer(rows[-bh:], False)
    return Cell(c.x + left, c.y + top, right - left + 1, bottom - top + 1)


def _drop_label_glyphs(squares: list[Cell]) -> list[Cell]:
    """A box-shaped kanji (国, 回) that starts an option's text sits right after the option's
    tick box: closer than one box width. Taken as a box it shifts every option's text by one
    and reads as ticked (measured: the pension choice read two ticks on 17% of forms)."""
    out: list[Cell] = []
    for sq in squares:
        prev = out[-1] if out else None
        if prev is not None and _same_line(prev, sq) and sq.x - (prev.x + prev.w) < 1.0 * prev.w:
            continue
        out.append(sq)
    return out


def _same_line(a: Cell, b: Cell) -> bool:
    return abs(a.cy - b.cy) < 0.5 * max(a.h, b.h)


def _is_box(bw: np.ndarray, c: Cell) -> bool:
    """A checkbox has four inked sides and white space beside it; a square kanji (国, 回, 口)
    sits right next to its neighbours, which is what tells them apart."""
    box = bw[c.y:c.y + c.h, c.x:c.x + c.w] > 0
    band_h, band_w = max(3, int(c.h * 0.35)), max(3, int(c.w * 0.35))
    # Strongest row/column near each edge: a tick overshooting the box widens the bounding
    # rectangle, but the box's own side is still a near-full line inside the edge band.
    sides = [box[:band_h].mean(axis=1).max(), box[-band_h:].mean(axis=1).max(),
             box[:, :band_w].mean(axis=0).max(), box[:, -band_w:].mean(axis=0).max()]
    if sum(float(v) >= 0.6 for v in sides) < 3:
        return False
    # Beside it, only ink of other shapes counts: a tick's arm drawn across the box's side into
    # the margin belongs to the box (connected to what is inside it), a neighbouring glyph does not.
    gap = max(8, c.w // 4)
    x_lo, x_hi = max(0, c.x - gap - 2), min(bw.shape[1], c.x + c.w + 2 + gap)
    top, bottom = max(0, c.y - 2), min(bw.shape[0], c.y + c.h + 2)
    window = bw[top:bottom, x_lo:x_hi]
    _, labels = cv2.connectedComponents(window, connectivity=8)
    own = np.unique(labels[c.y - top:c.y - top + c.h, c.x - x_lo:c.x - x_lo + c.w])
    strangers = (window > 0) & ~np.isin(labels, own[own > 0])
    rows = slice(c.y + c.h // 4 - top, c.y + 3 * c.h // 4 - top)
    left = strangers[rows, :max(0, c.x - 2 - x_lo)]
    right = strangers[rows, c.x + c.w + 2 - x_lo:]
    return all(s.size == 0 or float(s.mean()) < 0.03 for s in (left, right))


def fill_ratio(bw: np.ndarray, square: Cell) -> float:
    """Share of ink inside the square, its own border excluded."""
    m = max(5, square.w // 6)
    inner = bw[square.y + m: square.y + square.h - m, square.x + m: square.x + square.w - m]
    return float(inner.mean() / 255) if inner.size else 0.0
