"""The layout pass's image helpers: fast paths give exactly the slow paths' answers."""
from __future__ import annotations

import cv2
import numpy as np

from ocr.layout import PageLayout, components, grid_of, norm_label


def _labels32(img: np.ndarray, connectivity: int):
    n, labels, stats, _ = cv2.connectedComponentsWithStats(img, connectivity=connectivity)
    return n, labels, stats


def test_16_bit_labels_match_32_bit_and_fall_back_when_too_many():
    page = np.zeros((400, 600), np.uint8)
    cv2.putText(page, "Kyodo 0263-12-3456", (20, 200), cv2.FONT_HERSHEY_SIMPLEX, 2, 255, 3)
    page[10, 10] = page[300:303, 500:502] = 255  # specks
    n, labels, stats = components(page, 8)
    n32, labels32, stats32 = _labels32(page, 8)
    assert labels.dtype == np.uint16 and n == n32
    assert np.array_equal(labels, labels32) and np.array_equal(stats, stats32)
    dots = np.zeros((1200, 1200), np.uint8)
    dots[::3, ::3] = 255  # 160,000 components: more than 16 bits can label
    n, labels, stats = components(dots, 8)
    assert n == 160_001 and labels.dtype == np.int32


def test_clean_removes_specks_and_ruled_lines_keeps_strokes():
    bw = np.zeros((300, 300), np.uint8)
    bw[50, 50] = 255  # a 1-pixel speck
    bw[100:103, 100:103] = 255  # 9 pixels: still a speck
    bw[200:204, 200:204] = 255  # 16 pixels: a dot of ink, kept
    bw[20:22, :] = 255  # a ruled line
    lines = np.zeros_like(bw)
    lines[19:23, :] = 255
    out = PageLayout(bw, bw, lines, [], []).clean()
    assert out[50, 50] == 255 and out[101, 101] == 255  # gone (white)
    assert (out[200:204, 200:204] == 0).all()  # kept (black ink)
    assert (out[20:22, :] == 255).all()


def test_norm_label_cache_gives_the_same_answers():
    assert norm_label("受給者氏名：") == norm_label("受給者氏名：") == "受給者氏名"
    assert norm_label("（個人番号）") == "個人番号"


def test_a_box_whose_digit_boxes_touch_its_bottom_line_is_still_a_cell():
    # 個人番号 printed at the top of a box, its 12 digit boxes drawn down to the box's bottom line:
    # the box's hole is notched by them, but it is the cell the label is in (else no field binds).
    page = np.full((600, 2000), 255, np.uint8)
    cv2.rectangle(page, (50, 100), (1000, 215), 0, 4)
    for g in range(3):  # three groups of four boxes (4-4-4), each drawn as one strip with dividers
        x = 60 + g * 280
        cv2.rectangle(page, (x, 140), (x + 240, 213), 0, 3)
        for i in range(1, 4):
            cv2.line(page, (x + 60 * i, 140), (x + 60 * i, 213), 0, 3)
    outer = [c for c in grid_of(page).cells if c.w > 800]
    assert len(outer) == 1 and abs(outer[0].y - 102) <= 4 and abs(outer[0].h - 111) <= 6
    # A hole notched by the page outside the drawing (an L-shaped frame) is no cell.
    frame = np.full((600, 2000), 255, np.uint8)
    outline = np.array([(50, 100), (1900, 100), (1900, 150), (1000, 150), (1000, 300), (50, 300)], np.int32)
    cv2.polylines(frame, [outline], True, 0, 4)
    assert not any(c.w > 1500 for c in grid_of(frame).cells)
