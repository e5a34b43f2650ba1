"""Masking of personal data (My Number, 個人番号) for logs, errors, metering and exports.

One function, used everywhere text leaves the engine: a My Number must never be
written where it is not needed. Any run of 12 digits (half- or full-width, with
optional spaces or hyphens in 4-4-4 groups) is treated as a My Number: a misread
one is still personal data, so the check digit is deliberately not required.
"""
from __future__ import annotations

import logging
import re
import tomllib
from pathlib import Path
from typing import Any

_D = r"[0-9０-９]"
_SEP = r"[ \u3000\-‐－]?"
MY_NUMBER_RE = re.compile(rf"(?<![0-9０-９]){_D}{{4}}{_SEP}{_D}{{4}}{_SEP}{_D}{{4}}(?![0-9０-９])")
MASK = "****-****-****"

PRIVACY_FILE = "_privacy.toml"

_extra_patterns: list[tuple[re.Pattern[str], str]] = []
_configured = False


def register_pattern(pattern: str, replacement: str = "****") -> None:
    """Mask another configured pattern too (e.g. a municipality's resident number format)."""
    compiled = re.compile(pattern)
    if all(p.pattern != compiled.pattern for p, _ in _extra_patterns):
        _extra_patterns.append((compiled, replacement))


def load_configured_patterns(path: Path | None = None) -> list[str]:
    """Register the patterns of ``<tenants_dir>/_privacy.toml``; return their names.

    The file holds ``[[patterns]]`` tables with ``name``, ``regex`` and an optional
    ``replacement``. A broken file or regex raises ValueError naming the file and entry.
    """
    global _configured
    _configured = True
    if path is None:
        from .settings import get_settings

        path = get_settings().tenants_dir / PRIVACY_FILE
    if not path.is_file():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: TOML syntax error: {e}") from None
    names = []
    for i, entry in enumerate(data.get("patterns", [])):
        name = entry.get("name", f"patterns[{i}]")
        try:
            register_pattern(entry["regex"], entry.get("replacement", "****"))
        except KeyError:
            raise ValueError(f"{path}: {name}: 'regex' is missing") from None
        except re.error as e:
            raise ValueError(f"{path}: {name}: invalid regular expression: {e}") from None
        names.append(name)
    return names


def _ensure_configured() -> None:
    if not _configured:
        try:
            load_configured_patterns()
        except ValueError as e:  # logging must go on; the problem is reported once
            logging.getLogger(__name__).error("masking patterns not loaded: %s", e)


def mask(text: str) -> str:
    """Return *text* with every My Number (and configured pattern) replaced by a mask."""
    if not text:
        return text
    _ensure_configured()
    out = MY_NUMBER_RE.sub(MASK, text)
    for pat, replacement in _extra_patterns:
        out = pat.sub(replacement, out)
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
