"""Rings round printed options (ocr/marks.py) and small print read again (ocr/smallprint.py),
with real Tesseract."""
from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr.candidates import ringed_glyphs
from ocr.engine import default_engine
from ocr.fields import EraChoice, with_era
from ocr.generate import PRINT_FONT
from ocr.grid import Cell
from ocr.layout import PageLayout, analyse, grid_of
from ocr.locate import Target, digit_run
from ocr.marks import circled, rings, without_ring
from ocr.normalize import normalise_page
from ocr.pagetext import segments
from ocr.eras import _era_by_place, era_choice
from ocr.pipeline import _cell_text, _line_crop
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


def _date_cell(eras: str, ringed: str, written: str, two_lines: bool) -> tuple[np.ndarray, Cell]:
    """A date cell printing several eras, *ringed* circled, the numbers written after them (or
    on a line below the eras, as in a narrow table cell)."""
    img = Image.new("L", (1200, 320), 255)
    d = ImageDraw.Draw(img)
    d.rectangle((20, 20, 1180, 300), outline=0, width=4)
    font = ImageFont.truetype(str(PRINT_FONT), 40)
    d.text((60, 80), eras, font=font, fill=0)
    at = eras.index(ringed)
    x0, y0, _, y1 = d.textbbox((60, 80), eras[:at] + ringed, font=font)
    rx0 = d.textbbox((60, 80), eras[:at], font=font)[2] if at else x0
    d.ellipse((rx0 - 14, y0 - 14, d.textbbox((60, 80), eras[:at] + ringed, font=font)[2] + 14, y1 + 14), outline=0, width=5)
    d.text((60, 200) if two_lines else (560, 80), written, font=font, fill=0)
    return np.array(img), Cell(20, 20, 1160, 280)


@pytest.mark.parametrize("ringed,two_lines", [("昭和", False), ("令和", False), ("平成", True)])
def test_a_ringed_era_is_chosen_and_the_printed_eras_are_erased_before_the_numbers_are_read(ringed, two_lines) -> None:
    page, cell = _date_cell("昭和・平成・令和", ringed, "5 年 11 月 4 日", two_lines)
    engine = default_engine()
    layout = analyse(page, engine, grid_of(page))
    lined = page.copy()
    choice = era_choice(layout, Target(cell), segments(layout), lambda c: _cell_text(engine, lined, c))
    assert choice is not None and choice.era == ringed and not choice.guessed
    crop = _line_crop(lined, page, Target(cell), choice.printed)
    text = read_trimmed(engine, trim(crop), "jpn").text.replace(" ", "")
    assert text == "5年11月4日"  # no era, no stroke of the ring left to read as a 1


def test_an_unreadable_ring_is_placed_among_the_printed_eras() -> None:
    # (order index, x) of the eras read outside the ring: 昭和=2, 平成=3, 令和=4.
    assert _era_by_place([(2, 100.0), (4, 300.0)], 200.0) == ("平成", False)  # between its neighbours
    assert _era_by_place([(3, 300.0), (4, 400.0)], 200.0) == ("昭和", True)  # before the first: a guess
    assert _era_by_place([(2, 100.0), (3, 200.0)], 300.0) == ("令和", True)
    assert _era_by_place([(2, 100.0), (4, 300.0)], 400.0) is None  # past 令和: no such era
    assert _era_by_place([], 200.0) is None


@pytest.mark.parametrize(("text", "want"), [
    ("信和 7 年 4 月 13 日", "令和7 年 4 月 13 日"),  # the one printed era for its misreading
    ("令和 7 年 4 月 13 日", "令和 7 年 4 月 13 日"),  # a read era is the reading's own
    ("'4 年 10 月 6 日", "'4 年 10 月 6 日"),  # no era before the numbers (a digit lost too): left flagged
    ("照和 7 年 4 月 13 日", "照和 7 年 4 月 13 日"),  # the misread shape says 昭和: left to the flagged guess
])
def test_the_one_printed_era_stands_in_only_for_a_misread_era(text: str, want: str) -> None:
    assert with_era(text, EraChoice(era="令和", only_misread=True)) == want


def test_a_box_shaped_glyph_beside_a_ring_is_no_tick_box() -> None:
    # 同 of a ringed 同居 (or 居 of an unringed one) passes the tick-box shape test; read as the one
    # box of the cell it said 同居 or 別居 by its ink. Fewer "boxes" than options where a ring answers
    # are glyphs, and the ring is the answer; a box per option is a tick-box question.
    page, cell = _tight_ring_page()
    layout = analyse(page, default_engine(), grid_of(page))
    ring = rings(layout, cell)[0]
    glyph = Cell(ring.x + 14, ring.y + 8, 34, 34)
    assert ringed_glyphs(layout, Target(box=cell, squares=[glyph]), ["同居", "別居"])
    assert ringed_glyphs(layout, Target(box=cell, squares=[Cell(470, 130, 34, 34)]), ["同居", "別居"])  # 別 beside it
    assert not ringed_glyphs(layout, Target(box=cell, squares=[glyph, Cell(700, 130, 40, 40)]), ["同居", "別居"])
    blank = np.full_like(page, 255)
    bare = analyse(blank, default_engine(), grid_of(blank))
    assert not ringed_glyphs(bare, Target(box=cell, squares=[Cell(700, 130, 40, 40)]), ["同居", "別居"])  # no ring


def _pension_page() -> tuple[np.ndarray, Cell]:
    """Three options in a ruled cell as the layout pass misreads them (麻生年金 for 厚生年金, 共済組め
    for 共済組合), the third ringed."""
    img = Image.new("L", (1800, 260), 255)
    d = ImageDraw.Draw(img)
    d.rectangle((20, 20, 1780, 240), outline=0, width=4)
    font = ImageFont.truetype(str(PRINT_FONT), 40)
    for x, text in ((100, "1. 国民年金"), (600, "2. 麻生年金"), (1100, "3. 共済組め")):
        d.text((x, 105), text, font=font, fill=0)
    x0, y0, x1, y1 = d.textbbox((1100, 105), "3. 共済組め", font=font)
    d.ellipse((x0 - 24, y0 - 16, x1 + 24, y1 + 16), outline=0, width=4)
    return np.array(img), Cell(20, 20, 1760, 220)


def test_a_four_character_option_read_with_one_character_wrong_counts_as_read() -> None:
    page, cell = _pension_page()
    layout = analyse(page, default_engine(), grid_of(page))
    ring = circled(layout, cell, ["国民年金", "厚生年金", "共済組合"])
    assert ring is not None and ring.option == "共済組合" and ring.count == 1
