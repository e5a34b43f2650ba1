from __future__ import annotations

import logging

import pytest

from tenants.privacy import MASK, MY_NUMBER_RE, MaskingFilter, mask, mask_value


@pytest.mark.parametrize(
    "text",
    ["個人番号 123456789018 です", "1234 5678 9018", "1234-5678-9018", "１２３４５６７８９０１８", "id=123456789018;"],
)
def test_my_number_masked(text: str) -> None:
    out = mask(text)
    assert MASK in out
    assert MY_NUMBER_RE.search(out.replace(MASK, "")) is None


def test_other_digits_kept() -> None:
    assert mask("〒380-8512 電話 026-226-4911 受給者番号 1234567") == "〒380-8512 電話 026-226-4911 受給者番号 1234567"
    assert mask("1234567890123") == "1234567890123"  # 13 digits is not a My Number


def test_mask_value_nested() -> None:
    assert mask_value({"a": ["123456789018", 3], "b": {"c": "x123456789018"}}) == {"a": [MASK, 3], "b": {"c": "x" + MASK}}


def test_logging_filter_masks_args_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("kyodo.test.privacy")
    handler = caplog.handler
    handler.addFilter(MaskingFilter())
    try:
        logger.error("value %s", "123456789018")
        try:
            raise ValueError("bad 1234-5678-9018")
        except ValueError:
            logger.exception("failed")
    finally:
        handler.removeFilter(handler.filters[-1])
    text = caplog.text
    assert "123456789018" not in text and "1234-5678-9018" not in text
    assert text.count(MASK) >= 2
