from __future__ import annotations

import random
from datetime import date

import pytest

from ocr import values as V
from ocr.generate import random_record


def test_my_number_check_digit_official_example():
    assert V.valid_my_number("123456789018")
    assert not V.valid_my_number("123456789012")
    assert V.normalise_my_number("１２３４ ５６７８ ９０１８") == ("123456789018", None)
    assert V.normalise_my_number("12345678901")[1] is not None


def test_generated_my_numbers_are_valid():
    rng = random.Random(3)
    assert all(V.valid_my_number(random_record(rng)["my_number"]) for _ in range(50))


@pytest.mark.parametrize("text,iso", [
    ("令和 6年 4月 1日", "2024-04-01"),
    ("平成元年1月8日", "1989-01-08"),
    ("昭和６０年１２月３１日", "1985-12-31"),
    ("令和元年5月1日", "2019-05-01"),
])
def test_wareki_to_iso(text, iso):
    assert V.parse_wareki(text) == (iso, None)


@pytest.mark.parametrize("text", ["平成32年1月1日", "昭和65年1月1日", "令和5年2月30日", "5年4月1日", "令和年月日"])
def test_wareki_out_of_range_or_unreadable_is_flagged(text):
    assert V.parse_wareki(text)[1] is not None


def test_wareki_round_trip():
    from datetime import timedelta
    d = date(1950, 1, 1)
    while d < date(2030, 1, 1):
        assert V.parse_wareki(V.to_wareki(d)) == (d.isoformat(), None)
        d += timedelta(days=97)


def test_postal_phone_kana_name():
    assert V.normalise_postal("〒３８０−０８４６") == ("380-0846", None)
    assert V.normalise_postal("38008")[1]
    assert V.normalise_phone("026-224-5000") == ("026-224-5000", None)
    assert V.normalise_phone("09012345678") == ("090-1234-5678", None)
    assert V.normalise_phone("1234")[1]
    assert V.normalise_kana("やまだ　たろう") == ("ヤマダ タロウ", None)
    assert V.normalise_kana("ヤマダ 太郎")[1]
    assert V.normalise_kana("イィトウ マユミ") == ("イトウ マユミ", None)  # a glyph read twice, in both sizes
    assert V.normalise_name("山田　太郎") == ("山田 太郎", None)
    assert V.normalise_name("山田太郎")[1]  # the family/given split is needed by the business system


def test_raw_kana_readings_lose_only_the_slips_spelling_rules_out():
    assert V.kana_orthography("ヤャマダ ナオキ") == "ヤマダ ナオキ"
    assert V.kana_orthography("イ ィトウ リン") == "イ トウ リン"
    assert V.kana_orthography("ャマモト") == "ヤマモト"
    # a model's word break is no 姓/名 space: a word of it may begin small
    assert V.kana_orthography("イ ト ウ シ ョウタ") == "イ ト ウ シ ョウタ"
    # small kana after a different kana are spelling, not echoes
    for ok in ("キャシー", "ウィリアム", "シュン", "ユウ", "フェイ"):
        assert V.kana_orthography(ok) == ok


def test_my_number_repair_only_when_one_confusable_digit_fits():
    rng = random.Random(7)
    repaired = 0
    for _ in range(200):
        good = random_record(rng)["my_number"]
        assert V.repair_my_number(good) is None or V.valid_my_number(V.repair_my_number(good))
        i = rng.randrange(11)
        alts = V.CONFUSABLE.get(good[i], "")
        if not alts:
            continue
        bad = good[:i] + alts[0] + good[i + 1:]
        if V.valid_my_number(bad):
            continue
        fixed = V.repair_my_number(bad)
        # Either the unique valid neighbour (the truth) or no suggestion at all: never a guess among several.
        assert fixed in (None, good)
        repaired += fixed == good
    assert repaired > 0
    assert V.repair_my_number("12345") is None


@pytest.mark.parametrize("text,iso", [("偽和6年6月16日", "2024-06-16"), ("信和7年2月17日", "2025-02-17"), ("照和60年4月1日", "1985-04-01")])
def test_a_misread_first_character_of_an_era_ending_in_wa_is_guessed_and_flagged(text, iso):
    value, problem = V.parse_wareki(text)
    assert value == iso and problem is not None and "推定" in problem


def test_an_unknown_era_ending_in_wa_stays_unread():
    assert V.parse_wareki("き和6年6月16日")[1] == "元号が読み取れません"


TODAY = date(2026, 12, 3)


@pytest.mark.parametrize("text,iso", [("偽和7年2月17日", "2025-02-17"), ("き和6年6月16日", "2024-06-16"), ("照和7年2月1日", "2025-02-01")])
def test_an_unreadable_first_character_of_wa_is_settled_by_the_dates_span(text, iso):
    # A form dated within 10 years: 昭和7年 is 1932, so ?和7年 is 令和7年, whatever the shape says.
    assert V.parse_wareki(text, within_years=10, today=TODAY) == (iso, None)


def test_a_date_outside_its_span_is_flagged_and_an_era_both_spans_allow_stays_a_guess():
    assert V.parse_wareki("令和9年2月1日", within_years=10, today=TODAY)[1] is not None  # after today
    assert V.parse_wareki("平成元年2月1日", within_years=10, today=TODAY)[1] is not None  # 1989: too long ago
    assert V.parse_wareki("令和6年2月1日", within_years=10, today=TODAY) == ("2024-02-01", None)
    # A parent's birth date has no span: 昭和 and 令和 both exist, so the shape's guess stays flagged.
    value, problem = V.parse_wareki("偽和6年6月16日", today=TODAY)
    assert value == "2024-06-16" and problem is not None and "推定" in problem
    assert V.parse_wareki("き和60年6月16日", within_years=20, today=TODAY)[1] == "元号が読み取れません"  # neither fits
