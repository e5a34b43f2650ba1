"""Accuracy metrics: CER for Japanese (and Chinese), WER for other languages, via jiwer.

Normaliser (stated, applied to reference and hypothesis alike):
- Japanese/Chinese: Unicode NFKC, lower-case, then every punctuation mark, symbol and
  whitespace character removed (Unicode categories P*, S*, Z* and control characters);
  CER = character edit distance / reference characters.
- Other languages: NFKC, lower-case, punctuation and symbols except the apostrophe inside
  words replaced by spaces, whitespace collapsed; WER = word edit distance / reference words.
"""
from __future__ import annotations

import csv
import re
import unicodedata
from pathlib import Path

import jiwer
from pydantic import BaseModel

CHAR_LANGS = ("ja", "zh")


def normalise(text: str, language: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    if language in CHAR_LANGS:
        return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "PSZC")
    text = "".join(ch if unicodedata.category(ch)[0] not in "PSC" or ch == "'" else " " for ch in text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def error_rate(reference: str, hypothesis: str, language: str) -> float:
    ref, hyp = normalise(reference, language), normalise(hypothesis, language)
    if not ref:
        return 0.0 if not hyp else 1.0
    if language in CHAR_LANGS:
        return float(jiwer.cer(ref, hyp))
    return float(jiwer.wer(ref, hyp))


def metric_name(language: str) -> str:
    return "CER" if language in CHAR_LANGS else "WER"


class RefEntry(BaseModel):
    file: str
    language: str
    text: str


def load_refs(path: Path) -> dict[str, RefEntry]:
    """refs.tsv: ``file<TAB>language<TAB>reference text`` per line; '#' comments and a header allowed.

    A two-column line (file, text) is taken as Japanese.
    """
    refs: dict[str, RefEntry] = {}
    with Path(path).open(encoding="utf-8") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t"), 1):
            if not row or row[0].startswith("#") or (n == 1 and row[0].lower() == "file"):
                continue
            if len(row) == 2:
                row = [row[0], "ja", row[1]]
            if len(row) < 3 or not row[2].strip():
                raise ValueError(f"{path}:{n}: expected 'file<TAB>language<TAB>text', got {len(row)} column(s)")
            refs[row[0].strip()] = RefEntry(file=row[0].strip(), language=row[1].strip() or "ja", text=row[2])
    return refs
