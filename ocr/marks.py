"""Circled answers: an option chosen by drawing a ring around its printed text (an era of a date
「昭和・平成・令和」, a pension scheme, 同居 / 別居), where there is no box to tick.

A ring is a hollow, roughly elliptical ink component, taller than the text line it surrounds and
wider than tall; the chosen option is the printed text whose centre lies inside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2

from ocr.grid import Cell
from ocr.layout import PageLayout
from ocr.pagetext import Segment, find, segments

RING_FILL = 0.3  # a ring's ink covers less than this share of its bounding box (a glyph covers more)


def rings(layout: PageLayout, region: Cell) -> list[Cell]:
    """Hollow elliptical marks inside *region* (page coordinates)."""
    # The ruled-line mask is not used: it also takes a flat ring's long top and bottom arcs. The
    # region is cut inside its borders instead.
    pad = 6
    x0, y0 = max(0, region.x + pad), max(0, region.y + pad)
    ink = layout.bw[y0: region.y + region.h - pad, x0: region.x + region.w - pad]
    if ink.size == 0:
        return []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if not (36 <= h <= 200 and 1.3 * h <= w <= 8 * h and area < RING_FILL * w * h):
            continue
        # A ring's ink runs along its box's edge; a glyph's fills the middle too. The stroke is
        # checked on both axes: the middle third of the box (rows and columns) is nearly blank.
        comp = labels[y:y + h, x:x + w] == i
        if comp[h // 3: 2 * h // 3, w // 3: 2 * w // 3].mean() > 0.02:
            continue
        if not (comp[: h // 4].any() and comp[-(h // 4):].any() and comp[:, : w // 6].any() and comp[:, -(w // 6):].any()):
            continue
        out.append(Cell(x0 + x, y0 + y, w, h))
    return out


@dataclass
class Ringed:
    """What rings say of an option group: the chosen option (None: none or several), the rings
    that enclose an option, and whether the choice was inferred (see :func:`circled`)."""

    option: str | None
    count: int
    rings: list[Cell] = field(default_factory=list)
    inferred: bool = False


def circled(layout: PageLayout, region: Cell, options: list[str], segs: list[Segment] | None = None) -> Ringed | None:
    """The option whose printed text a ring encloses; None when there is no ring in the region."""
    found = rings(layout, region)
    if not found:
        return None
    segs = [s for s in (segs if segs is not None else segments(layout)) if region.contains(s.box.cx, s.box.cy)]
    chosen: list[str] = []
    unread: list[str] = []
    for opt in options:
        spans = [seg.span_box(a, b) for seg in segs for score, a, b in [find(seg, opt)] if score >= 0.99 and b > a]
        if not spans:
            unread.append(opt)
        elif any(r.contains(box.cx, box.cy) for r in found for box in spans):
            chosen.append(opt)
    if not chosen and len(found) == 1 and len(unread) == 1 and len(options) > 1:
        # The ring's strokes garble the text it encloses in the half-resolution layout pass: with one
        # ring on the line and every other option read outside it, the unread one is likely circled;
        # the reader confirms it by reading the ring's inside at full resolution.
        return Ringed(unread[0], 1, found, inferred=True)
    return Ringed(chosen[0] if len(chosen) == 1 else None, len(chosen), found)


def ring_inside(ring: Cell) -> Cell:
    """The box inside a ring's stroke, where the circled text is."""
    dx, dy = ring.w // 8, ring.h // 6
    return Cell(ring.x + dx, ring.y + dy, ring.w - 2 * dx, ring.h - 2 * dy)


__all__ = ["Ringed", "circled", "ring_inside", "rings"]
