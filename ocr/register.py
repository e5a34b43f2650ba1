"""Zone locator: register a scan onto the template's reference image, then read fixed boxes.

ORB features + RANSAC homography on half-resolution images; when too few features
agree (a faint scan), fall back to aligning the bounding box of the ruled lines, which
still fixes shift and scale. The page is warped into the reference frame, so the zone
boxes written in the template apply directly and result boxes are in warped pixels.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from ocr.grid import Cell, binarise, find_cells, find_squares, line_mask
from ocr.layout import PageLayout
from ocr.locate import Located, Target
from ocr.results import FieldType
from ocr.tesseract import Word
from ocr.templates import FormTemplate

SCALE = 0.5
MIN_INLIERS = 40


@dataclass
class Registration:
    image: np.ndarray  # page warped into the reference frame
    matrix: np.ndarray  # 3x3, page -> reference (full resolution)
    score: float
    method: str


@lru_cache(maxsize=16)
def _reference_lines(path: str) -> np.ndarray:
    return line_mask(binarise(_reference(path)[0])) > 0


def line_agreement(tpl: FormTemplate, warped: np.ndarray) -> float:
    """Share of the reference's ruled lines that the registered page also has.

    Feature matches alone also pair up the same printed glyphs on a different layout;
    the grid only lines up when it really is this form.
    """
    ref = _reference_lines(str(tpl.reference_path))
    page = cv2.dilate(line_mask(binarise(warped)), np.ones((9, 9), np.uint8)) > 0
    return float((ref & page).sum() / max(1, ref.sum()))


@lru_cache(maxsize=16)
def _reference(path: str) -> tuple[np.ndarray, tuple, np.ndarray]:
    ref = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    if ref is None:
        raise FileNotFoundError(path)
    small = cv2.resize(ref, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
    orb = cv2.ORB_create(4000)
    kp, des = orb.detectAndCompute(small, None)
    return ref, tuple(kp), des


def _lines_bbox(img: np.ndarray) -> tuple[int, int, int, int] | None:
    lines = line_mask(binarise(img))
    ys, xs = np.nonzero(lines)
    if len(xs) < 100:
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def register_to(tpl: FormTemplate, image: np.ndarray) -> Registration | None:
    ref, kp_ref, des_ref = _reference(str(tpl.reference_path))
    small = cv2.resize(image, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_AREA)
    orb = cv2.ORB_create(4000)
    kp, des = orb.detectAndCompute(small, None)
    h_ref, w_ref = ref.shape
    if des is not None and des_ref is not None and len(kp) > 10:
        matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
        pairs = matcher.knnMatch(des, des_ref, k=2)
        good = [m for m, n in (p for p in pairs if len(p) == 2) if m.distance < 0.8 * n.distance]
        if len(good) >= MIN_INLIERS:
            src = np.float32([kp[m.queryIdx].pt for m in good]) / SCALE
            dst = np.float32([kp_ref[m.trainIdx].pt for m in good]) / SCALE
            H, mask = cv2.findHomography(src, dst, cv2.RANSAC, 8.0)
            inliers = int(mask.sum()) if mask is not None else 0
            if H is not None and inliers >= MIN_INLIERS and _sane(H):
                warped = cv2.warpPerspective(image, H, (w_ref, h_ref), flags=cv2.INTER_LINEAR, borderValue=255)
                return Registration(warped, H, line_agreement(tpl, warped), "homography")
    # Fallback: the extent of the ruled lines gives shift and scale.
    a, b = _lines_bbox(image), _lines_bbox(ref)
    if a is None or b is None:
        return None
    sx = (b[2] - b[0]) / max(1, a[2] - a[0])
    sy = (b[3] - b[1]) / max(1, a[3] - a[1])
    if not (0.7 < sx < 1.4 and 0.7 < sy < 1.4):
        return None
    H = np.array([[sx, 0, b[0] - a[0] * sx], [0, sy, b[1] - a[1] * sy], [0, 0, 1]], dtype=np.float64)
    warped = cv2.warpPerspective(image, H, (w_ref, h_ref), flags=cv2.INTER_LINEAR, borderValue=255)
    return Registration(warped, H, line_agreement(tpl, warped), "lines")


def _sane(H: np.ndarray) -> bool:
    a = H[:2, :2]
    det = float(np.linalg.det(a))
    return 0.6 < abs(det) < 1.6 and abs(H[2, 0]) < 1e-3 and abs(H[2, 1]) < 1e-3


def layout_for(warped: np.ndarray, original: PageLayout, matrix: np.ndarray | None = None) -> PageLayout:
    """Layout of the warped page; the printed-text words are carried over through the homography."""
    bw = binarise(warped)
    lines = line_mask(bw)
    words = original.words
    if matrix is not None and words:
        pts = np.float32([[w.cx, w.cy] for w in words]).reshape(-1, 1, 2)
        moved = cv2.perspectiveTransform(pts, matrix).reshape(-1, 2)
        words = [Word(w.text, w.conf, int(x - w.w / 2), int(y - w.h / 2), w.w, w.h, w.line) for w, (x, y) in zip(words, moved)]
    return PageLayout(warped, bw, lines, find_cells(lines), words)


def _zone(z) -> Cell:
    x, y, w, h = z
    return Cell(int(x), int(y), int(w), int(h))


def locate_zones(tpl: FormTemplate, layout: PageLayout) -> Located:
    fields: dict[str, Target | None] = {}
    tables: dict[str, list[dict[str, Target]]] = {}
    for spec in tpl.fields:
        if spec.type == FieldType.table:
            n = max((len(c.zones) for c in spec.columns), default=0)
            rows = []
            for r in range(n):
                row = {}
                for col in spec.columns:
                    if r < len(col.zones):
                        t = Target(box=_zone(col.zones[r]))
                        if col.type == FieldType.checkbox:
                            t.squares = find_squares(layout.bw, t.box)
                        row[col.name] = t
                rows.append(row)
            tables[spec.name] = rows
            continue
        t = Target(box=_zone(spec.locator.zone))
        if spec.type in (FieldType.checkbox, FieldType.choice):
            t.squares = find_squares(layout.bw, t.box)
            if spec.type == FieldType.choice:
                # A zone template lists options in printed order, left to right.
                t.options = list(spec.options) if len(t.squares) == len(spec.options) else [""] * len(t.squares)
        fields[spec.name] = t
    return Located(fields=fields, tables=tables, score=1.0)
