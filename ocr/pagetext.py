"""The printed text of a page as the binder sees it: segments (one text line inside one ruled cell)
with a position for every character, and fuzzy label search inside them.

A label need not fill its cell: municipal forms print it small at the top-left of the box the
value is written in, put 〒 in the address box, or write a question as a sentence with はい/いいえ
after it. So a label is searched as a *substring* of a segment, and its characters' positions give
the label's own box and what lies beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from ocr.grid import Cell
from ocr.layout import PageLayout, norm_label
from ocr.tesseract import Word

# Characters that never decide a label (brackets, dots, colons as printed around labels).
_IGNORED = set("・:：。、.()（）[]「」【】 　※*＊")


@dataclass
class Segment:
    """Consecutive words of one text line that lie in the same (innermost) ruled cell."""

    words: list[Word]
    cell: int | None  # index into layout.cells, None outside every cell
    chars: list[tuple[str, int, int]] = field(default_factory=list)  # (normalised char, x0, x1)

    @property
    def text(self) -> str:
        return "".join(c for c, _, _ in self.chars)

    @property
    def box(self) -> Cell:
        return words_box(self.words)

    def span_box(self, start: int, end: int) -> Cell:
        """Box of characters [start, end) (the line's height)."""
        b = self.box
        x0, x1 = self.chars[start][1], self.chars[end - 1][2]
        return Cell(x0, b.y, max(1, x1 - x0), b.h)


@dataclass
class Hit:
    """One place a label synonym group matches."""

    key: str  # field name, or "table.column"
    score: float
    seg: Segment
    start: int
    end: int
    synonym: str

    @property
    def box(self) -> Cell:
        return self.seg.span_box(self.start, self.end)

    @property
    def fills_segment(self) -> bool:
        """The segment is the label and little else (a label cell), not a label among other text."""
        return len(self.seg.text) - (self.end - self.start) <= 1


def words_box(words: list[Word]) -> Cell:
    x0, y0 = min(w.x for w in words), min(w.y for w in words)
    return Cell(x0, y0, max(w.x + w.w for w in words) - x0, max(w.y + w.h for w in words) - y0)


def innermost_cell(cells: list[Cell], x: float, y: float) -> int | None:
    best: int | None = None
    for i, c in enumerate(cells):
        if c.contains(x, y) and (best is None or c.w * c.h < cells[best].w * cells[best].h):
            best = i
    return best


def segments(layout: PageLayout) -> list[Segment]:
    """Text lines per cell, by the words' own positions: Tesseract's sparse mode sometimes gives
    each character of a short label its own line (監 / 護), and joins a label with a value far
    right of it outside the grid. Made once per page (binding asks for them a dozen times) and made
    again when the words or cells change."""
    key = (id(layout.words), len(layout.words), id(layout.cells), len(layout.cells))
    kept = layout.derived.get("segments")
    if kept is not None and kept[0] == key:
        return kept[1]
    out = _segments(layout)
    layout.derived["segments"] = (key, out)
    return out


def _segments(layout: PageLayout) -> list[Segment]:
    by_cell: dict[int | None, list[Word]] = {}
    for w in layout.words:
        if w.text.strip():
            by_cell.setdefault(innermost_cell(layout.cells, w.cx, w.cy), []).append(w)
    out: list[Segment] = []
    for cell, ws in by_cell.items():
        for line in _rows(ws):
            cur: Segment | None = None
            for w in sorted(line, key=lambda w: w.x):
                gap = w.x - (cur.words[-1].x + cur.words[-1].w) if cur else 0
                if cur is None or gap > 3 * max(w.h, cur.words[-1].h):
                    cur = Segment([], cell)
                    out.append(cur)
                cur.words.append(w)
    for seg in out:
        seg.chars = char_boxes(seg.words)
    return [s for s in out if s.chars]


def _rows(words: list[Word]) -> list[list[Word]]:
    """Words grouped into lines: a word joins the line its vertical extent overlaps most."""
    rows: list[tuple[int, int, list[Word]]] = []  # (top, bottom, words)
    for w in sorted(words, key=lambda w: w.cy):
        best, best_overlap = None, 0.0
        for i, (top, bottom, _) in enumerate(rows):
            overlap = (min(bottom, w.y + w.h) - max(top, w.y)) / max(1, min(w.h, bottom - top))
            if overlap > best_overlap:
                best, best_overlap = i, overlap
        if best is not None and best_overlap > 0.4:
            top, bottom, ws = rows[best]
            rows[best] = (min(top, w.y), max(bottom, w.y + w.h), ws + [w])
        else:
            rows.append((w.y, w.y + w.h, [w]))
    return [ws for _, _, ws in rows]


def char_boxes(words: list[Word]) -> list[tuple[str, int, int]]:
    """Each word's characters spread evenly over its box. Tesseract sometimes gives a line's first
    word a box reaching over the next words: it is cut at the next word's start."""
    out: list[tuple[str, int, int]] = []
    for i, w in enumerate(words):
        right = w.x + w.w
        if i + 1 < len(words):
            right = min(right, max(w.x + 1, words[i + 1].x))
        chars = [norm_label(c) for c in w.text]
        kept = [c for c in chars if c and c not in _IGNORED]
        if not kept:
            continue
        step = (right - w.x) / len(kept)
        for k, c in enumerate(kept):
            out.append((c, int(w.x + k * step), int(w.x + (k + 1) * step)))
    return out


def find(seg: Segment, synonym: str, cutoff: float = 0.0) -> tuple[float, int, int]:
    """Best fuzzy occurrence of *synonym* in the segment: (score, start, end), the score the Indel
    ratio of the best window (rapidfuzz's partial alignment: 20x faster than sliding difflib, which
    took a third of a page's time). Short synonyms (two characters or fewer) must occur exactly:
    one misread character is half of them."""
    return find_in(seg.text, synonym, cutoff)


def find_in(text: str, synonym: str, cutoff: float = 0.0) -> tuple[float, int, int]:
    """:func:`find` in a text (normalised as segment texts are)."""
    s = _norm(synonym)
    if not s or not text:
        return 0.0, 0, 0
    at = text.find(s)
    if at >= 0:
        return 1.0, at, at + len(s)
    if len(s) <= 2:
        return 0.0, 0, 0
    if len(text) <= len(s):
        score, a, b = fuzz.ratio(text, s, score_cutoff=cutoff * 100) / 100, 0, len(text)
    else:
        al = fuzz.partial_ratio_alignment(s, text, score_cutoff=cutoff * 100)
        if al is None:
            return 0.0, 0, 0
        score, a, b = al.score / 100, al.dest_start, al.dest_end
    # A near match must share the label's kanji, which carry its meaning, not only its kana
    # (別居している is not …くしている, though the kana tail matches).
    # With three kanji or more, most of them: 監護の状況 is not 請求者の状況, 監護の確認 not 現況の確認.
    kanji = set(c for c in s if _is_kanji(c))
    shared = sum(c in text[a:b] for c in kanji)
    if kanji and shared < (len(kanji) // 2 + 1 if len(kanji) >= 3 else 1):
        return 0.0, 0, 0
    return score, a, b


def _is_kanji(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or c == "々"


@lru_cache(maxsize=4096)
def _norm(synonym: str) -> str:
    return "".join(c for c in norm_label(synonym) if c not in _IGNORED)


def hits(segs: list[Segment], key: str, synonyms: list[str], threshold: float) -> list[Hit]:
    """Every segment's best occurrence of the group (one hit per segment), best first."""
    out = []
    for seg in segs:
        best: Hit | None = None
        for syn in synonyms:
            score, a, b = find(seg, syn, threshold)
            # A longer synonym found exactly is the better explanation of the same text (氏名（受給者）over 氏名).
            if score >= threshold and (best is None or (score, b - a) > (best.score, best.end - best.start)):
                best = Hit(key, score, seg, a, b, syn)
        if best is not None:
            out.append(best)
    return sorted(out, key=lambda h: -h.score)
