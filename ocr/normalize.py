"""Page normalisation with OpenCV: resolution, background, scanner borders, skew.

Orientation (0/90/180/270) is decided later by the pipeline, which already reads the
printed text: comparing label hits at 0° and 180° costs nothing on upright pages.
"""
from __future__ import annotations

import cv2
import numpy as np

WORK_DPI = 300  # every page is resampled to this, so sizes in pixels mean the same everywhere


def to_work_dpi(img: np.ndarray, dpi: int) -> np.ndarray:
    if dpi == WORK_DPI:
        return img
    f = WORK_DPI / dpi
    return cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)


def flatten_background(img: np.ndarray) -> np.ndarray:
    """Divide by a blurred estimate of the paper so grey or unevenly lit scans become white."""
    small = cv2.resize(img, None, fx=0.125, fy=0.125, interpolation=cv2.INTER_AREA)
    # Closing removes the dark print, leaving the paper tone.
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    bg = cv2.medianBlur(bg, 5)
    bg = cv2.resize(bg, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
    out = cv2.divide(img, np.maximum(bg, 1), scale=255)
    return out


def whiten_borders(img: np.ndarray) -> np.ndarray:
    """Scanner lids leave dark strips at the edges: paint them white.

    A strip is a run of mostly dark rows/columns that starts at the edge (within a few pixels of
    it) and is contiguous. A form's own ruled lines are not reached: the old rule whitened every
    edge column up to the last dark one within a twelfth of the page, and on a straight scan the
    tables' outer frame (one vertical line under every table, together over 60% of the page's
    height) was erased, with every cell of the page."""
    out = img.copy()
    dark = img < 128
    h, w = img.shape
    cols = np.count_nonzero(dark, axis=0) / h
    rows = np.count_nonzero(dark, axis=1) / w
    if (n := _edge_run(cols[: w // 12])):
        out[:, :n] = 255
    if (n := _edge_run(cols[::-1][: w // 12])):
        out[:, w - n:] = 255
    if (n := _edge_run(rows[: h // 12])):
        out[:n, :] = 255
    if (n := _edge_run(rows[::-1][: h // 12])):
        out[h - n:, :] = 255
    # Rotation fill can leave thin dark wedges; a few pixels of margin is always blank.
    out[:8, :] = 255
    out[-8:, :] = 255
    out[:, :8] = 255
    out[:, -8:] = 255
    return out


EDGE_SLACK = 10  # px: a strip may start this far inside the edge (rotation fill, a light scanner edge)


def _edge_run(shares: np.ndarray, level: float = 0.6) -> int:
    """How many lines from the edge (index 0) a dark strip covers: 0 when none starts at the edge."""
    start = next((i for i in range(min(EDGE_SLACK, len(shares))) if shares[i] > level), None)
    if start is None:
        return 0
    end = start
    while end < len(shares) and shares[end] > level:
        end += 1
    return end


def skew_angle(img: np.ndarray, max_deg: float = 5.0) -> float:
    """Angle that makes text lines and ruled lines horizontal (projection-profile search)."""
    small = cv2.resize(img, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    ink = (small < 160).astype(np.uint8)  # 0/1: nearest-neighbour warps of bytes, 3x faster than floats
    h, w = ink.shape
    centre = (w / 2, h / 2)

    def score(a: float) -> float:
        m = cv2.getRotationMatrix2D(centre, a, 1.0)
        rot = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST)
        prof = rot.sum(axis=1, dtype=np.int64)
        return float(np.square(np.diff(prof)).sum())

    best = max(np.arange(-max_deg, max_deg + 0.01, 0.5), key=score)
    fine = max(np.arange(best - 0.5, best + 0.51, 0.1), key=score)
    return float(fine)


def rotate(img: np.ndarray, angle: float) -> np.ndarray:
    if abs(angle) < 0.05:
        return img
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    # Bilinear, not bicubic: a third of the time on a 300 dpi page (56 ms against 161 ms); at
    # 300 dpi strokes are several pixels wide and the readings were as good (see bench/README.md).
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def rotate90(img: np.ndarray, quarter_turns: int) -> np.ndarray:
    q = quarter_turns % 4
    if q == 0:
        return img
    return cv2.rotate(img, {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}[q])


def normalise_page(img: np.ndarray, dpi: int) -> np.ndarray:
    """Resolution -> background -> borders -> portrait -> deskew. Upside-down is fixed by the caller."""
    return normalise_page_turns(img, dpi)[0]


def normalise_page_turns(img: np.ndarray, dpi: int) -> tuple[np.ndarray, int]:
    """As :func:`normalise_page`, also returning the quarter turns (counter-clockwise) applied."""
    turns = 0
    img = to_work_dpi(img, dpi)
    img = flatten_background(img)
    img = whiten_borders(img)
    if img.shape[1] > img.shape[0] * 1.15:
        img = rotate90(img, 1)  # landscape scan of a portrait form; 90 vs 270 is settled with 0 vs 180
        turns = 1
    img = rotate(img, skew_angle(img))
    return img, turns
