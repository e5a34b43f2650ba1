"""Reading field crops: digit codes one crop at a time (:func:`read_each`), text lines one line
at a time (:func:`read_line`), each with the settings right for it; plus the image helpers
that find the 姓/名 space.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import cv2
import numpy as np

from ocr import models
from ocr.engine import OcrEngine
from ocr.layout import join_words
from ocr.normalize import WORK_DPI
from ocr.tesseract import Word


# Digit codes: eng on glyphs scaled to DIGIT_GLYPH_PX: measured 97% of digit fields right against
# 70-85% for jpn (jpn reads the slashed zero of one fill font as 6/8/9). At native size eng
# misread first digits. Dictionaries off: codes are not words.
DIGIT_LANG, DIGIT_WHITELIST = "eng", "0123456789-"
DIGIT_GLYPH_PX = 40


@dataclass
class Reading:
    text: str
    conf: float  # 0..1, lowest word confidence (one bad character is enough to doubt)
    mean_conf: float
    n_words: int
    two_part: str = ""  # the same words joined with exactly one space at the widest gap (姓 名)
    unread_ink: bool = False  # ink in the crop that no recognised word covers (a dropped 一, a lost digit)
    independent: bool = False  # read by a second, independently trained model (names)
    split_unsure: bool = False  # the 姓/名 space placed from ink widths alone (see pipeline._read_lines)
    lang: str = ""  # the model that read it
    digit_conf: float = 1.0  # lowest confidence of the words holding a digit (a date's numbers, not its era)


def trim(crop: np.ndarray, pad: int = 12) -> np.ndarray | None:
    """Cut to the ink, with a margin; None when the crop is blank (or empty: a region at the page's edge)."""
    if crop.size == 0 or min(crop.shape[:2]) < 3:
        return None
    ink = crop < 150
    # Specks of noise are not ink worth reading.
    ink = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    if cv2.countNonZero(ink) < 25:
        return None
    x0, y0, bw, bh = cv2.boundingRect(ink)
    x1, y1 = x0 + bw - 1, y0 + bh - 1
    out = np.full((y1 - y0 + 1 + 2 * pad, x1 - x0 + 1 + 2 * pad), 255, np.uint8)
    out[pad:pad + y1 - y0 + 1, pad:pad + x1 - x0 + 1] = crop[y0:y1 + 1, x0:x1 + 1]
    return out


def _scaled(t: np.ndarray, glyph_px: int, pad: int = 12) -> np.ndarray:
    """Scale a trimmed crop so its ink is ``glyph_px`` high (LSTM models read best near 30-40 px)."""
    ink_h = t.shape[0] - 2 * pad
    if not glyph_px or ink_h <= 0:
        return t
    f = glyph_px / ink_h
    if 0.9 <= f <= 1.1:
        return t
    return cv2.resize(t, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC if f > 1 else cv2.INTER_AREA)


def read_each(engine: OcrEngine, crops: dict[str, np.ndarray], psm: int = 8) -> dict[str, Reading]:
    """Digit codes, one call per crop as a single word (in a stacked strip, the page layout
    analysis cost accuracy: a leading 0 read as 9, digits inserted)."""
    results: dict[str, Reading] = {}
    for key, crop in crops.items():
        t = trim(crop)
        if t is None:
            results[key] = Reading("", 1.0, 1.0, 0)
            continue
        t = _scaled(t, DIGIT_GLYPH_PX)
        ws = [w for w in engine.words(t, lang=DIGIT_LANG, psm=psm, dpi=WORK_DPI, whitelist=DIGIT_WHITELIST, dictionaries=False)
              if w.conf >= 0]
        results[key] = _reading(ws, t)
    return results


def _reading(ws: list[Word], t: np.ndarray) -> Reading:
    """A Reading from the words read in the trimmed crop *t* (boxes in its pixels)."""
    confs = [w.conf / 100 for w in ws]
    numbers = [w.conf / 100 for w in ws if any(ch.isdigit() for ch in w.text)]
    return Reading(join_words(ws), min(confs) if confs else 0.0, float(np.mean(confs)) if confs else 0.0, len(ws),
                   join_two(ws), _unread_ink(t, ws), digit_conf=min(numbers, default=1.0))


# Tesseract's script model for Japanese (Debian tesseract-ocr-script-jpan): a network trained
# apart from ``jpn``, so the two rarely make the same mistake. Measured on 119 name crops:
# jpn alone 86% right, the script model alone 87%; where both agree (88%) they were right
# except one pair with both confidences under 0.3.
SECOND_LANG = "Japanese"
# The tessdata repository's jpn (see ocr.models): the best reader of kanji names, the weakest
# of the three at kana and dates.
FULL_LANG = models.FULL_LANG
# Keyed by the engine object itself, not id(): an id is reused once an engine is collected.
_langs_ok: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def lang_available(engine: OcrEngine, lang: str) -> bool:
    """Whether ``engine`` can read with ``lang`` (probed once per engine and model: a missing
    traineddata file is an error from Tesseract, not an empty reading)."""
    if lang == FULL_LANG and not models.full_model_installed():
        # Looked up every time, not cached: a file check, and a long-lived engine must see a model
        # installed or a KYODO_MODEL_DIR changed after its first probe.
        return False
    known = _langs_ok.setdefault(engine, {})
    key = f"{lang}@{models.datapath_for(lang)}"  # a probe holds for the folder it loaded from
    if key not in known:
        try:
            engine.words(np.full((40, 40), 255, np.uint8), lang=lang, psm=7, dpi=WORK_DPI)
            known[key] = True
        except Exception:  # noqa: BLE001 - any failure means: do without this model
            known[key] = False
    return known[key]


def otsu(grey: np.ndarray) -> np.ndarray:
    """Black ink on white, thresholded on this crop alone: a crop's own histogram separates thin
    strokes (a light fill font at 200 dpi) better than the whole page's threshold."""
    if grey.size == 0:
        return grey
    _, bw = cv2.threshold(cv2.GaussianBlur(grey, (3, 3), 0), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return bw


INK_WHITE_CLIP = 220  # after stretching, lighter than this is background (scanner noise, grey paper)


def ink_on_white(grey: np.ndarray, bw: np.ndarray | None = None) -> np.ndarray:
    """A text line for the LSTM readers: the grey crop stretched so its ink is black and its
    paper white, with everything near paper white cleared.

    The readers are trained on grey text lines; a hard threshold throws away the edges that tell
    a thin stroke from noise. Measured on 1,229 generated line crops (40 + 60 forms), against the
    crop's own Otsu threshold: dates read 96.0% -> 98.9% by jpn (both models agreeing 96.3% ->
    98.4% of the time), addresses 89% -> 93-94%, kana 97% -> 98-99%, names unchanged (95%).
    Clearing the near-white matters: plain stretched grey kept the paper's speckle and jpn read
    thin kana (a light fill font) as kanji (kana 97% -> 73%).
    """
    bw = otsu(grey) if bw is None else bw  # the caller's own otsu(grey), when it has one
    ink_hist = cv2.calcHist([grey], [0], (bw == 0).astype(np.uint8), [256], [0, 256]).ravel()
    paper_hist = cv2.calcHist([grey], [0], (bw > 0).astype(np.uint8), [256], [0, 256]).ravel()
    if not ink_hist.any() or not paper_hist.any():
        return bw
    lo, hi = _quantile(ink_hist, 5 / 100), _quantile(paper_hist, 0.5)
    out = np.clip((grey.astype(np.float32) - lo) * (255.0 / max(1.0, hi - lo)), 0, 255).astype(np.uint8)
    out[out >= INK_WHITE_CLIP] = 255
    return out


def _quantile(hist: np.ndarray, q: float) -> float:
    """``np.percentile(values, 100 * q)`` of 8-bit values given as their histogram: the same
    number without sorting the pixels (most of :func:`ink_on_white`'s time before). The arithmetic is
    numpy's own (its virtual index and its two-sided interpolation), so the result is bit-equal."""
    cum = np.cumsum(hist.astype(np.int64))
    n = int(cum[-1])
    pos = (n - 1) * q  # numpy's virtual index for its default (linear) method
    k = int(np.floor(pos))
    t = pos - k
    a = float(np.searchsorted(cum, k, side="right"))  # the value of rank k (0-based)
    b = float(np.searchsorted(cum, min(k + 1, n - 1), side="right"))
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


LINE_SCALE = 0.6  # measured on 267 line crops: jpn read names/kana/addresses best at ~60% of 300 dpi glyphs


def read_line(engine: OcrEngine, crop: np.ndarray, lang: str, whitelist: str | None = None, scale: float = LINE_SCALE) -> Reading:
    """One handwriting-like line (a name, an address) read alone as one text line (``--psm 7``).

    Glyphs are shrunk to LINE_SCALE first (jpn: names 86% -> 89%, kana 93% -> 100% right).
    Tesseract's line finder returns nothing at all for some short clean lines ('原 誠') that it
    reads right as one word (``--psm 8``) or at another size, so an empty answer is retried so.
    """
    t = trim(crop)
    return Reading("", 1.0, 1.0, 0) if t is None else read_trimmed(engine, t, lang, whitelist, scale)


def read_trimmed(engine: OcrEngine, t: np.ndarray, lang: str, whitelist: str | None = None,
                 scale: float = LINE_SCALE) -> Reading:
    """:func:`read_line` of a crop already cut to its ink (:func:`trim`)."""
    img, ws, first = t, [], scale
    for scale, psm in ((first, 7), (first, 8), (1.0 if first != 1.0 else LINE_SCALE, 7), (0.4, 7)):
        img = t if scale == 1.0 else cv2.resize(t, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        ws = [w for w in engine.words(img, lang=lang, psm=psm, dpi=WORK_DPI, whitelist=whitelist, dictionaries=whitelist is None)
              if w.conf >= 0 and w.text.strip()]
        if ws:
            break
    out = _reading([Word(w.text, w.conf, int(w.x / scale), int(w.y / scale), int(w.w / scale), int(w.h / scale), w.line)
                     for w in ws], t)
    out.lang = lang
    return out


def blank_runs(t: np.ndarray, min_ratio: float = 0.2) -> list[float]:
    """Centres of the blank column runs inside the ink of a trimmed crop that are clearly wider
    than the spacing between characters (``min_ratio`` of the ink height), widest first: the
    candidates for the 姓/名 space."""
    ink = (t < 150).any(axis=0)
    xs = np.nonzero(ink)[0]
    if len(xs) == 0:
        return []
    rows = np.nonzero((t < 150).any(axis=1))[0]
    h = rows.max() - rows.min() + 1
    runs: list[tuple[int, float]] = []
    run_start = None
    for x in range(xs.min(), xs.max() + 1):
        if not ink[x] and run_start is None:
            run_start = x
        elif ink[x] and run_start is not None:
            if x - run_start >= min_ratio * h:
                runs.append((x - run_start, (run_start + x) / 2))
            run_start = None
    return [at for _, at in sorted(runs, key=lambda r: -r[0])]


def split_at(reading: Reading, t: np.ndarray, at: float) -> str | None:
    """The reading's characters with one space where the image has its blank at ``at``.

    Tesseract's word breaks in Japanese are arbitrary ('山本悠 真', boxes that overlap), but
    kanji and kana are about equally wide, so the share of ink width left of the blank tells how
    many characters are the family name. None when that share falls between two counts.
    """
    chars = reading.text.replace(" ", "")
    ink = np.nonzero((t < 150).any(axis=0))[0]
    if len(chars) < 2 or len(ink) == 0:
        return None
    left_w = float(at - ink.min())
    right_w = float(ink.max() - at)
    k_float = len(chars) * left_w / max(1.0, left_w + right_w)
    k = int(round(k_float))
    if abs(k_float - k) > 0.3 or not 0 < k < len(chars):
        return None
    return f"{chars[:k]} {chars[k:]}"


def _unread_ink(crop: np.ndarray, words: list[Word]) -> bool:
    """True when a run of ink columns at least half a character wide lies outside every word box."""
    ink = (crop < 150).sum(axis=0) >= 2
    covered = np.zeros_like(ink)
    for w in words:
        covered[max(0, w.x - 3): max(0, w.x + w.w + 3)] = True
    loose = np.concatenate(([0], (ink & ~covered).astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(loose))  # starts and ends of the runs of loose columns, paired
    best = int((edges[1::2] - edges[::2]).max()) if len(edges) else 0
    return best >= max(8, 0.3 * crop.shape[0])


def join_two(words: list[Word]) -> str:
    """Join words with a single space at the widest gap: 'スズキ タロ ウ' -> 'スズキ タロウ'."""
    ws = sorted(words, key=lambda w: w.x)
    if len(ws) < 2:
        return "".join(w.text for w in ws).replace(" ", "")
    gaps = [b.x - (a.x + a.w) for a, b in zip(ws, ws[1:])]
    cut = int(np.argmax(gaps)) + 1
    return "".join(w.text for w in ws[:cut]).replace(" ", "") + " " + "".join(w.text for w in ws[cut:]).replace(" ", "")


def one_line(crop: np.ndarray, min_gap: int = 6, min_band: int = 14) -> np.ndarray:
    """A value written on two lines of its box (an era line over the numbers of a date, in a table
    column) laid out as one line, left part first: the line readers read one line (psm 7).
    A crop with one band of ink comes back unchanged."""
    rows = (crop < 128).sum(axis=1) > 0
    bands: list[tuple[int, int]] = []
    start, blank = None, 0
    for y, ink in enumerate(rows):
        if ink:
            if start is None:
                start = y
            blank = 0
        elif start is not None:
            blank += 1
            if blank >= min_gap:
                bands.append((start, y - blank + 1))
                start, blank = None, 0
    if start is not None:
        bands.append((start, len(rows) - blank))
    bands = [b for b in bands if b[1] - b[0] >= min_band]
    if len(bands) < 2:
        return crop
    return hconcat([crop[a:b] for a, b in bands])


def hconcat(crops: list[np.ndarray], gap: int = 24) -> np.ndarray:
    """Digit boxes side by side as one line (their ruled borders already removed)."""
    trimmed = [t for t in (trim(c, pad=4) for c in crops) if t is not None]
    if not trimmed:
        return np.full((40, 40), 255, np.uint8)
    h = max(t.shape[0] for t in trimmed)
    out = np.full((h, sum(t.shape[1] for t in trimmed) + gap * (len(trimmed) + 1)), 255, np.uint8)
    x = gap
    for t in trimmed:
        out[(h - t.shape[0]) // 2:(h - t.shape[0]) // 2 + t.shape[0], x:x + t.shape[1]] = t
        x += t.shape[1] + gap
    return out


