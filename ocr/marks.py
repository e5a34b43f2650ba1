"""Circled answers: an option chosen by drawing a ring around its printed text (an era of a date
「昭和・平成・令和」, a pension scheme, 同居 / 別居), where there is no box to tick.

A ring is a hollow, roughly elliptical ink component, taller than the text line it surrounds and
wider than tall; the chosen option is the printed text whose centre lies inside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from ocr.grid import Cell
from ocr.layout import PageLayout
from ocr.pagetext import find, segments



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
        if not (36 <= h <= 200 and 1.3 * h <= w <= 8 * h and area < TOUCHING_SHARE * w * h):
            continue
        cover = _on_ellipse(labels[y:y + h, x:x + w] == i)
        # A ring drawn tight round its word takes the glyphs into its component: more ink, but
        # then the ellipse is traced all round.
        if cover >= RING_COVER and area < RING_SHARE * w * h or cover >= TIGHT_COVER:
            out.append(Cell(x0 + x, y0 + y, w, h))
    return out


RING_SHARE = 0.5  # the ring and the text it touches cover less than half of their box
RING_COVER = 0.8  # share of the box's inscribed ellipse that must be inked
TOUCHING_SHARE = 0.62  # a tight ring with the glyphs it touches
TIGHT_COVER = 0.95  # ... traced this completely


def _on_ellipse(comp: np.ndarray, samples: int = 72, tolerance: int = 5) -> float:
    """Share of points on the ellipse inscribed in the component's box that have ink within a few
    pixels: a ring drawn round a word (even touching it) covers its ellipse; a glyph does not."""
    h, w = comp.shape
    cx, cy, rx, ry = (w - 1) / 2, (h - 1) / 2, (w - 1) / 2, (h - 1) / 2
    near = cv2.dilate(comp.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance + 1, 2 * tolerance + 1)))
    angles = np.linspace(0, 2 * np.pi, samples, endpoint=False)
    xs = np.clip(np.round(cx + (rx - 2) * np.cos(angles)).astype(int), 0, w - 1)
    ys = np.clip(np.round(cy + (ry - 2) * np.sin(angles)).astype(int), 0, h - 1)
    return float(near[ys, xs].mean())


@dataclass
class Ringed:
    """What rings say of an option group: the chosen option (None: none or several), the rings
    that enclose an option, and whether the choice was inferred (see :func:`circled`)."""

    option: str | None
    count: int
    rings: list[Cell] = field(default_factory=list)
    inferred: bool = False


# An option counts as read when the layout pass got all but one character of four (麻生年金 for
# 厚生年金); a two-character option (同居, はい) must be read whole: one character is half of it.
OPTION_READ = 0.75


def circled(layout: PageLayout, region: Cell, options: list[str]) -> Ringed | None:
    """The option whose printed text a ring encloses; None when there is no ring in the region."""
    found = rings(layout, region)
    if not found:
        return None
    segs = [s for s in segments(layout) if region.contains(s.box.cx, s.box.cy)]
    chosen: list[str] = []
    unread: list[str] = []
    for opt in options:
        spans = [seg.span_box(a, b) for seg in segs for score, a, b in [find(seg, opt)] if score >= OPTION_READ and b > a]
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


def without_ring(image: np.ndarray, ring: Cell) -> np.ndarray:
    """A copy of the ring's box with the ring's stroke painted white: a ring drawn tight round its
    word touches the glyphs, and read with them it turns 同居 into 局居 or 語居."""
    crop = image[max(0, ring.y): ring.y + ring.h, max(0, ring.x): ring.x + ring.w].copy()
    h, w = crop.shape[:2]
    stroke = max(6, h // 7)
    cv2.ellipse(crop, (w // 2, h // 2), (max(1, w // 2 - 2), max(1, h // 2 - 2)), 0, 0, 360, 255, thickness=stroke)
    return crop


__all__ = ["OPTION_READ", "Ringed", "circled", "ring_inside", "rings", "without_ring"]
