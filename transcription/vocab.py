"""Glossary files: terms for the decoder (hotwords) and a replacement dictionary (置換辞書).

Format (UTF-8, one entry per line, '#' starts a comment):
    長野市議会            a term: passed to the decoder as a hotword
    ながのしぎかい => 長野市議会   a replacement applied after recognition (also: wrong<TAB>right)
"""
from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class Vocabulary(BaseModel):
    terms: list[str] = Field(default_factory=list)
    replacements: dict[str, str] = Field(default_factory=dict)


def load_glossary(path: Path) -> Vocabulary:
    vocab = Vocabulary()
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e}); save the glossary as UTF-8") from e
    for n, line in enumerate(lines, 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        for sep in ("=>", "\t", "→"):
            if sep in line:
                wrong, right = (p.strip() for p in line.split(sep, 1))
                if not wrong:
                    raise ValueError(f"{path}:{n}: replacement without the text to replace; write 'wrong => right'")
                vocab.replacements[wrong] = right
                if right and right not in vocab.terms:
                    vocab.terms.append(right)
                break
        else:
            if line not in vocab.terms:
                vocab.terms.append(line)
    return vocab
