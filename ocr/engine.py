"""The OCR engine interface the pipeline uses (never the executable directly).

Tests inject faults (crash, timeout, garbage) with another implementation of
:class:`OcrEngine`; the pipeline itself does not know which one it has.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from ocr import tesseract
from ocr.tesseract import Word


class OcrEngine(Protocol):
    def words(self, image: np.ndarray, *, lang: str, psm: int, dpi: int,
              whitelist: str | None = None, dictionaries: bool = True) -> list[Word]: ...


class TesseractEngine:
    """Tesseract through :mod:`ocr.tesseract` (one process per call, single-threaded)."""

    def __init__(self, timeout_s: float = tesseract.DEFAULT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self.calls = 0

    def words(self, image: np.ndarray, *, lang: str, psm: int, dpi: int,
              whitelist: str | None = None, dictionaries: bool = True) -> list[Word]:
        self.calls += 1
        return tesseract.image_to_words(image, lang=lang, psm=psm, dpi=dpi, whitelist=whitelist,
                                        dictionaries=dictionaries, timeout_s=self.timeout_s)


_default: TesseractEngine | None = None


def default_engine() -> TesseractEngine:
    global _default
    if _default is None:
        _default = TesseractEngine()
    return _default
