"""The OCR engine interface the pipeline uses (never the executable directly).

Tests inject faults (crash, timeout, garbage) with another implementation of
:class:`OcrEngine`; the pipeline itself does not know which one it has.

Two real implementations, same Tesseract library, same words out:

* :class:`~ocr.tessapi.TessApiEngine` (default): Tesseract kept loaded in this process,
  one initialised API object per setting and thread; no model loading per call.
* :class:`TesseractEngine` (fallback): one ``tesseract`` process per call. Used when the
  library cannot be loaded, or when ``KYODO_OCR_ENGINE=cli`` asks for it.
"""
from __future__ import annotations

import os
import threading
from typing import Protocol

import numpy as np

from ocr import tesseract
from ocr.errors import EngineError
from ocr.tesseract import Word

ENGINE_ENV = "KYODO_OCR_ENGINE"  # "api", "cli" or unset (api when the library loads)


class OcrEngine(Protocol):
    def words(self, image: np.ndarray, *, lang: str, psm: int, dpi: int,
              whitelist: str | None = None, dictionaries: bool = True) -> list[Word]: ...


class TesseractEngine:
    """Tesseract through :mod:`ocr.tesseract` (one process per call, single-threaded)."""

    name = "cli"

    def __init__(self, timeout_s: float = tesseract.DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self.calls = 0

    def words(self, image: np.ndarray, *, lang: str, psm: int, dpi: int,
              whitelist: str | None = None, dictionaries: bool = True) -> list[Word]:
        self.calls += 1
        return tesseract.image_to_words(image, lang=lang, psm=psm, dpi=dpi, whitelist=whitelist,
                                        dictionaries=dictionaries, timeout_s=self.timeout_s)


def make_engine(kind: str | None = None) -> OcrEngine:
    """The engine named by ``kind`` (or ``$KYODO_OCR_ENGINE``): "api", "cli", or the best available."""
    kind = (kind or os.environ.get(ENGINE_ENV) or "").strip().lower() or None
    if kind not in (None, "api", "cli"):
        raise EngineError(f"unknown OCR engine '{kind}' (expected api or cli)")
    if kind == "cli":
        return TesseractEngine()
    from ocr import tessapi

    if kind == "api" or tessapi.available():
        return tessapi.TessApiEngine()  # raises EngineError when "api" was asked for and cannot load
    return TesseractEngine()


def engine_status() -> tuple[str, str]:
    """(engine name, one line for a health check): which engine the pipeline will use and why."""
    from ocr import tessapi

    if (os.environ.get(ENGINE_ENV) or "").strip().lower() == "cli":
        return "cli", f"one tesseract process per call ({ENGINE_ENV}=cli)"
    try:
        return "api", f"in-process Tesseract {tessapi.version()} ({tessapi.LIBRARY})"
    except EngineError as e:
        return "cli", f"one tesseract process per call, slower: {e}"


_default: OcrEngine | None = None
_default_lock = threading.Lock()


def default_engine() -> OcrEngine:
    global _default
    with _default_lock:
        if _default is None:
            _default = make_engine()
        return _default
