"""Rings round printed options (ocr/marks.py) and small print read again (ocr/smallprint.py),
with real Tesseract."""
from __future__ import annotations

import random

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocr.engine import default_engine
from ocr.generate import PRINT_FONT
from ocr.grid import Cell
from ocr.layout import PageLayout, analyse, grid_of
from ocr.locate import digit_run
from ocr.marks import rings, without_ring
from ocr.normalize import normalise_page
from ocr.pagetext import segments
from ocr.reading import ink_on_white, read_trimmed, trim
from ocr.smallprint import layout_pass
from tests.formgen import render_form


def _tight_ring_page() -> tuple[np.ndarray, Cell]:
    """同居 別居 in a ruled cell, 同居 ringed so tightly that the ring touches its glyphs."""
    img = Image.new("L", (900, 300), 255)
    d = ImageDraw.Draw(img)
    d.rectangle((20, 20, 880, 280), outline=0, width=4)
    font = ImageFont.truetype(str(PRINT_FONT), 34)
    d.text((300, 130), "同居", font=font, fill=0)
    d.text((460, 130), "別居", font=font, fill=0)
    x0, y0, x1, y1 = d.textbbox((300, 130), "同居", font=font)
    d.ellipse((x0 - 10, y0 - 6, x1 + 10, y1 + 6), outline=0, width=4)  # the tightest formgen draws
    # Ink spread by a pixel, as on a scan: ring and glyphs become one component, over half of its box.
    return cv2.erode(np.array(img), np.ones((3, 3), np.uint8)), Cell(20, 20, 860, 260)


def test_a_ring_touching_its_word_is_found_and_its_word_read_with_the_stroke_erased() -> None:
    page, cell = _tight_ring_page()
    layout = analyse(page, default_engine(), grid_of(page))
    found = rings(layout, cell)
    assert len(found) == 1 and 280 <= found[0].x <= 300
    bare = trim(ink_on_white(without_ring(page, found[0])))
    assert bare is not None and read_trimmed(default_engine(), bare, "jpn").text.replace(" ", "") == "同居"


def test_small_labels_inside_card_boxes_are_read_again_enlarged() -> None:
    # Tuning family 1: children as 2x2 cards, each attribute's label printed small in its box's
    # corner; at the layout pass's half resolution 生年月日 and 続柄 read as 年征月日, 義柄.
    img, _, _ = render_form(1, random.Random(1))
    page = normalise_page(np.array(img.convert("L")), 300)
    engine = default_engine()

    def count(layout) -> dict[str, int]:
        texts = [s.text.replace(" ", "") for s in segments(layout)]
        return {label: texts.count(label) for label in ("生年月日", "続柄")}

    assert count(layout_pass(page, engine)) == {"生年月日": 4, "続柄": 4}
    assert count(analyse(page, engine)) != {"生年月日": 4, "続柄": 4}  # what the second reading adds


def test_a_postal_code_in_digit_boxes_runs_past_the_narrow_hyphen_box() -> None:
    # The cells the grid finder found on a tuning form: 3 boxes, the narrow box with the hyphen
    # printed in it, 4 boxes, then the address cell.
    xs = [(469, 83), (562, 83), (655, 83), (746, 50), (804, 83), (897, 83), (990, 83), (1083, 83), (1174, 1252)]
    cells = [Cell(x, 779, w, 104) for x, w in xs]
    blank = np.zeros((1200, 2500), np.uint8)
    run = digit_run(PageLayout(blank, blank, blank, cells, []), cells[0])
    assert run.parts == cells[:3] + cells[4:8]
