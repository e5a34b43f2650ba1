"""The review screen's validators (the server side; test_browser checks the JS mirror)."""
from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from automation.web.validators import my_number_check_digit, parse_date, to_wareki, validate


def test_era_dates() -> None:
    assert validate("date_wareki", "令和6年4月1日").value == "2024-04-01"
    assert validate("date_wareki", "令和元年5月1日").value == "2019-05-01"
    assert validate("date_wareki", "Ｈ３１．４．３０").value == "2019-04-30"
    assert validate("date_wareki", "平成31年5月1日").message == "平成31年5月1日は平成の期間外です"
    assert validate("date_wareki", "2024-02-30").message == "存在しない日付です"
    assert not validate("date_wareki", "").ok


@given(st.dates(min_value=date(1912, 7, 30), max_value=date(2099, 12, 31)))
def test_wareki_round_trip(d: date) -> None:
    assert parse_date(to_wareki(d))[0] == d


def test_my_number_agrees_with_the_ocr_engine() -> None:
    from ocr.values import my_number_check_digit as engine_check

    for n in range(0, 10**11, 7_919_191_919):
        first11 = f"{n:011d}"
        assert my_number_check_digit(first11) == engine_check(first11)
    assert validate("my_number", "000000000000").ok
    assert validate("my_number", "000000000001").message == "個人番号のチェックデジットが一致しません"


def test_postal_phone_kana() -> None:
    assert validate("postal_code", "〒３８０８５１２").value == "380-8512"
    assert validate("phone", "09012345678").value == "090-1234-5678"
    assert not validate("phone", "0262264911").ok  # area code length unknown: ask for hyphens
    assert validate("kana", "ながの たろう").value == "ナガノ タロウ"
    assert validate("kana", "ﾅｶﾞﾉ").value == "ナガノ"
    assert not validate("kana", "長野").ok


def test_messages_never_repeat_the_value() -> None:
    for value in ("123456789012", "12345678901x"):
        assert value not in validate("my_number", value).message
