"""Masking of personal data (My Number, 個人番号) for logs, errors, metering and exports.

One function, used everywhere text leaves the engine: a My Number must never be
written where it is not needed. Any run of 12 digits (half- or full-width, with
optional spaces or hyphens in 4-4-4 groups) is treated as a My Number: a misread
one is still personal data, so the check digit is deliberately not required.
"""
from __future__ import annotations

import logging
import re
from typing import Any

_D = r"[0-9０-９]"
_SEP = r"[ \u3000\-‐－]?"
MY_NUMBER_RE = re.compile(rf"(?<![0-9０-９]){_D}{{4}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}(?![0-9０-９])")
MASK = "****-****-****"

_extra_patterns: list[re.Pattern[str]] = []


def register_pattern(pattern: str) -> None:
    """Mask another configured pattern too (e.g. a municipality's resident number format)."""
    _extra_patterns.append(re.compile(pattern))


def mask(text: str) -> str:
    """Return *text* with every My Number (and registered pattern) replaced by a mask."""
    if not text:
        return text
    out = MY_NUMBER_RE.sub(MASK, text)
    for pat in _extra_patterns:
        out = pat.sub("****", out)
    return out


def mask_value(value: Any) -> Any:
    """Mask strings inside nested dicts/lists (for JSON payloads, metering data, exports)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(mask_value(v) for v in value)
    return value


class MaskingFilter(logging.Filter):
    """Logging filter that masks the final message, including formatted arguments and tracebacks."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the log line
            message = str(record.msg)
        record.msg = mask(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            import traceback

            record.exc_text = mask("".join(traceback.format_exception(*record.exc_info)))
            record.exc_info = None
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Attach the masking filter to every handler of *logger* (root by default)."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
