"""Turn located targets and their readings into FieldResults with value, confidence and doubts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import re

import numpy as np

from ocr.grid import Cell, fill_ratio
from ocr.locate import MATCH, Target, best_score
from ocr.marks import Ringed
from ocr.reading import FULL_LANG, Reading
from ocr.results import Box, Doubt, FieldResult, FieldType
from ocr import places
from ocr import values as V

# Thresholds, tuned on generated scans (see bench/README.md "OCR").
LOW_CONF = 0.45  # lowest Tesseract word confidence accepted without a human look
# Kanji names: jpn confidently swaps look-alike name kanji (蓮/運, 凛/漂, 翔/閉); below this a
# name is wrong too often to pass unseen (measured: 5 of 6 unflagged wrong names sat under 0.70).
NAME_LOW_CONF = 0.70
# Lines read by two independently trained models (see pipeline._read_lines): when both
# give the same name, the pair is trusted once the surer of the two is at least this sure
# (measured: the one agreeing-but-wrong pair of 105 had confidences 0.24/0.26).
NAME_AGREE_CONF = 0.50
# A disagreement the third model leaves open is settled by a reading at least this sure that is
# surer than every reading of another value (measured on 25 name disagreements of 363 names:
# 9 more settled, all right; at 0.80, 2 of 21 settled were wrong).
SURE_CONF = 0.85
CHECK_ON = 0.14  # ink share inside a checkbox above which it is ticked
CHECK_UNSURE = (0.07, 0.14)  # between these nobody should trust the machine


T = TypeVar("T")

CODE_TYPES = (FieldType.digits, FieldType.postal_code, FieldType.phone, FieldType.my_number)


def two_part(ftype: FieldType, name: str) -> bool:
    """A value written as two words, 姓 and 名 (names and their kana)."""
    return ftype == FieldType.kana or (ftype == FieldType.text and name.endswith("name"))


def reading_kind(t: FieldType) -> str:
    if t in CODE_TYPES:
        return "digits"
    if t == FieldType.date_wareki:
        return "date"
    return "text"


def normalise(t: FieldType, raw: str, length: int | None = None, within_years: int | None = None) -> tuple[Any, str | None]:
    if t == FieldType.digits:
        return V.normalise_digits(raw, length)
    if t == FieldType.postal_code:
        return V.normalise_postal(raw)
    if t == FieldType.phone:
        return V.normalise_phone(raw)
    if t == FieldType.my_number:
        return V.normalise_my_number(raw)
    if t == FieldType.date_wareki:
        return V.parse_wareki(raw, within_years)
    if t == FieldType.kana:
        return V.normalise_kana(raw)
    return V.normalise_text(raw)


def normalise_named(name: str, t: FieldType, raw: str, length: int | None = None,
                    within_years: int | None = None) -> tuple[Any, str | None]:
    """Names keep the space between family and given name; other text is squashed."""
    if t == FieldType.text and name.endswith("name"):
        return V.normalise_name(raw)
    return normalise(t, raw, length, within_years)


def box_of(c: Cell | None, page: int) -> Box | None:
    return Box(page=page, x=c.x, y=c.y, w=c.w, h=c.h) if c else None


@dataclass
class EraChoice:
    """A date form printing several eras, one to be circled: which one is (None: no ring found)."""

    era: str | None
    guessed: bool = False  # the ring's inside misread; the era guessed from the misread character
    printed: list[Cell] = field(default_factory=list)  # the rings and printed eras, whitened before the date is read
    only_misread: bool = False  # the one era printed (no ring): it replaces a reading's era only when that is misread


_FIRST_NUMBER = re.compile(r"[0-9０-９元]")
_ERA_TEXT = re.compile("|".join(V.ERAS) + "|[・･]")


def with_era(text: str, choice: EraChoice | None) -> str:
    """The reading of a date whose era is chosen by a ring: the printed eras (and the ring's strokes
    read as noise around them) give way to the circled one, the written numbers stay."""
    if choice is None or choice.era is None:
        return text
    if _ERA_TEXT.search(text):
        if choice.only_misread:
            return text
        return choice.era + _ERA_TEXT.split(text)[-1]
    first = _FIRST_NUMBER.search(text)
    if choice.only_misread:
        prefix = text[: first.start()] if first else text
        if not any(ch in prefix for ch in "和成") or V.guess_wa_era(text) not in (None, choice.era):
            # No misread era before the numbers ('4年: the era and a digit lost), or the misread
            # character's shape says another era: left to the reading, flagged.
            return text
    # No era read (信和 for 令和, or the eras whitened): the written numbers from the first digit.
    return choice.era + (text[first.start():] if first else text)


@dataclass
class FieldInput:
    name: str
    type: FieldType
    label: str
    required: bool
    length: int | None
    target: Target | None
    reading: Reading | None
    second: str | None  # independent reading (layout pass), raw
    recheck: Reading | None = None  # full-resolution re-read of text with other preprocessing
    third: Reading | None = None  # codes: a reading by a separately trained model (the script model)
    two_models: bool = False  # names: reading and recheck come from two separately trained models
    tie_break: Callable[[], Reading] | None = None  # a third model's reading, read on call (lines; a My Number)
    era_choice: EraChoice | None = None  # a date printed with several eras
    within_years: int | None = None  # a date: at most this many years before today (the template says)


def _squash(v: Any) -> str:
    return str(v or "").replace(" ", "")


def text_field(fi: FieldInput, page: int) -> FieldResult:
    fr = _text_field(fi, page)
    printed_eras = sum(era in (fi.reading.text if fi.reading else "") for era in V.ERAS)
    if fi.type == FieldType.date_wareki and fi.era_choice is None and printed_eras >= 2:
        fi.era_choice = EraChoice(era=None)  # the layout pass missed the printed eras; the reading did not
    choice = fi.era_choice
    if choice is not None and fr.value and (choice.era is None or choice.guessed):
        # Several eras printed and none circled (or the ring not seen), or the ring's era guessed.
        fr.reasons.append(Doubt.invalid)
        fr.messages.append("元号の○印が見つかりません。元号を確認してください" if choice.era is None
                           else f"○印の中の元号が読み取れません（{choice.era}と推定）。元号を確認してください")
        fr.confidence = min(fr.confidence, 0.2)
    return fr


def _text_field(fi: FieldInput, page: int) -> FieldResult:
    fr = FieldResult(name=fi.name, type=fi.type, label=fi.label, box=box_of(fi.target.box if fi.target else None, page))
    if fi.target is None:
        fr.value = "" if fi.type != FieldType.date_wareki else None
        fr.reasons.append(Doubt.not_found)
        fr.messages.append(f"「{fi.label}」の欄が見つかりません")
        return fr
    r = fi.reading or Reading("", 0.0, 0.0, 0)
    if fi.era_choice is not None:
        for rd in (r, fi.recheck):
            if rd is not None:
                rd.text = with_era(rd.text, fi.era_choice)
        if fi.tie_break is not None:
            tb = fi.tie_break
            fi.tie_break = lambda: _era_reading(tb(), fi.era_choice)
    fr.raw = r.text
    spaced = two_part(fi.type, fi.name)
    text = r.two_part if spaced and r.two_part else r.text
    value, problem = normalise_named(fi.name, fi.type, text, fi.length, fi.within_years)
    if fi.two_models and fi.recheck is not None and (r.text.strip() or fi.recheck.text.strip()):
        return _name_field(fr, fi, r, fi.recheck)
    if not r.text.strip():
        fr.value = "" if fi.type != FieldType.date_wareki else None
        written = r.conf < 1.0 or bool(fi.second and fi.second.strip())  # ink present, nothing read
        fr.confidence = 1.0 if not (fi.required or written) else 0.0
        if written:
            fr.reasons.append(Doubt.low_confidence)
            fr.messages.append(f"「{fi.label}」に記入がありますが読み取れません")
        elif fi.required:
            fr.reasons.append(Doubt.missing_required)
            fr.messages.append(f"「{fi.label}」が空欄です")
        return fr
    if problem and fi.recheck is not None and fi.recheck.text.strip():
        # The first reading fails validation (My Number check digit, phone shape): a valid
        # independent re-read is the better value; it stays flagged below all the same.
        v3, p3 = normalise_named(fi.name, fi.type, fi.recheck.two_part if spaced else fi.recheck.text, fi.length, fi.within_years)
        if p3 is None and v3 and fi.type == FieldType.my_number and (
                fi.second is not None and normalise(fi.type, fi.second) == (v3, None)
                or fi.tie_break is not None and normalise(fi.type, fi.tie_break().text, fi.length, fi.within_years) == (v3, None)):
            # The check digit and two readings (eng on the crop's own threshold, and the layout
            # pass at half resolution or the script model on its grey) confirm the re-read; the
            # first one's misread is explained.
            fr.raw, fr.value, fr.confidence = fi.recheck.text, v3, float(max(fi.recheck.conf, 0.9))
            return fr
        if p3 is None and v3:
            fr.reasons.append(Doubt.disagreement)
            fr.messages.append("1回目の読み取りが不正な値のため、2回目の読み取り結果を採用しました")
            fr.raw = fi.recheck.text
            fr.value = v3
            fr.confidence = float(max(0.0, min(0.4, fi.recheck.conf)))
            return fr
    if problem and fi.type == FieldType.my_number and (fixed := V.repair_my_number(str(value or ""))):
        value = fixed  # a suggestion only: the invalid doubt below keeps it flagged
        problem += "（検査用数字から1桁を推定しました）"
    fr.value = value
    conf = r.conf
    if not problem and _code_confirmed(fi, value):
        # Independent readings give the same valid code: Tesseract's own confidence adds nothing
        # (measured: the consistent misreads had 0.96; the check digit or jpn caught them).
        fr.confidence = float(max(conf, 0.9))
        return fr
    if problem:
        fr.reasons.append(Doubt.invalid)
        fr.messages.append(problem)
        conf = min(conf, 0.2)
    disagree = False
    if fi.second is not None:
        v2, p2 = normalise_named(fi.name, fi.type, fi.second, fi.length, fi.within_years)
        # Only a half-resolution reading that is itself valid is evidence against the first.
        disagree = p2 is None and bool(v2) and _squash(v2) != _squash(value)
    if fi.recheck is not None and fi.recheck.text.strip():
        # The full-resolution re-read with other preprocessing must give the same characters.
        v3, _ = normalise_named(fi.name, fi.type, fi.recheck.two_part if spaced else fi.recheck.text, fi.length, fi.within_years)
        disagree = disagree or _squash(v3) != _squash(value)
    if disagree:
        fr.reasons.append(Doubt.disagreement)
        fr.messages.append("2回の読み取り結果が一致しません")
        conf = min(conf, 0.4)
    if r.unread_ink:
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append("読み取れなかった文字があります")
    if conf < (NAME_LOW_CONF if spaced and fi.type == FieldType.text else LOW_CONF) and Doubt.invalid not in fr.reasons and not r.unread_ink:
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append("読み取りの確信度が低い文字があります")
    fr.confidence = float(max(0.0, min(1.0, conf)))
    return fr


def _era_reading(rd: Reading, choice: EraChoice | None) -> Reading:
    rd.text = with_era(rd.text, choice)
    return rd


def _code_confirmed(fi: FieldInput, value: Any) -> bool:
    """A code (number, postal code, phone, My Number) that the other readings confirm.

    ``recheck`` is eng again on the crop's own threshold, ``third`` a separately trained model
    (the script model, see pipeline.read_fields). A My Number carries a check digit, so eng twice
    is enough; a code without one also needs the third's agreement, because eng misreads a
    blurred 6 as 5 the same way twice.
    """
    if fi.type not in CODE_TYPES or fi.recheck is None or not value:
        return False
    def same(rd: Reading | None) -> bool:
        return rd is not None and normalise(fi.type, rd.text, fi.length, fi.within_years) == (value, None)
    if not same(fi.recheck):
        return False
    return fi.type == FieldType.my_number or (fi.third is not None and same(fi.third))


def _name_field(fr: FieldResult, fi: FieldInput, r: Reading, r2: Reading) -> FieldResult:
    """A text value (name, kana, address) from two readings: the same value from both, surely
    enough, passes; anything else is flagged, with the more confident valid reading as the
    suggested value."""
    spaced = two_part(fi.type, fi.name)

    def candidate(rd: Reading) -> tuple[bool, float, Any, str | None, Reading]:
        """(valid, confidence, value, problem, reading)"""
        text = (rd.two_part or rd.text) if spaced else rd.text
        v, p = normalise_named(fi.name, fi.type, text, fi.length, fi.within_years)
        if p is None and fi.name == "address":
            v, p = V.normalise_address(str(v))
            if p is None and places.known_address(str(v)) is False:
                if (fix := places.correct_address(str(v))) is not None:
                    v, p = fix[0], f"住所の「{fix[1]}」は郵便番号データにないため「{fix[2]}」と推定しました（確認してください）"
                else:
                    p = "住所の市区町村名・町名が郵便番号データにありません"
        if p is None and fi.name == "addressed_to" and places.known_mayor(str(v)) is False:
            p = "宛先の市区町村名が郵便番号データにありません"
        return p is None and bool(v), rd.conf, v, p, rd

    cands = [candidate(r), candidate(r2)]
    agree = cands[0][2] == cands[1][2] and bool(cands[0][2])
    closed = fi.name == "addressed_to" and places.available()
    if closed and not agree and sum(c[0] for c in cands) == 1:
        # A closed list (the municipalities Japan Post lists): one reading on it, one not
        # ('上田市長' / '上上田市長'); the listed one, read surely enough, is the value.
        valid = next(c for c in cands if c[0])
        if valid[1] >= NAME_AGREE_CONF:
            cands = [valid, valid]
            agree = True
    if spaced and not agree and all(c[2] for c in cands) and _squash(cands[0][2]) == _squash(cands[1][2]):
        # Same characters; only one model put the 姓/名 space in (jpn often glues them): the
        # space comes from the reading that has one, when only one has.
        with_space = [c for c in cands if c[0] and " " in str(c[2])]
        if len(with_space) == 1 and all(" " not in str(c[2]) for c in cands if c is not with_space[0]):
            cands = [with_space[0], with_space[0]]
            agree = True
    if not agree and fi.tie_break is not None:
        third = candidate(fi.tie_break())
        listed = fi.name in ("address", "addressed_to") and places.available()
        if (pair := _tie_break(cands, third, listed, name=spaced and fi.type == FieldType.text)) is not None:
            cands, agree = pair, True
    ok, conf, value, problem, best = max(cands, key=lambda c: (c[0], c[1])) if not agree else max(cands, key=lambda c: c[1])
    fr.raw = best.text
    fr.value = value
    if problem:
        fr.reasons.append(Doubt.invalid)
        fr.messages.append(problem)
        conf = min(conf, 0.2)
    if not agree:
        fr.reasons.append(Doubt.disagreement)
        fr.messages.append("2回の読み取り結果が一致しません")
        conf = min(conf, 0.4)
    elif not problem:
        floor = NAME_AGREE_CONF if r2.independent else NAME_LOW_CONF
        if fi.type == FieldType.date_wareki and fi.within_years is not None:
            # The date's span leaves one era: only the numbers' confidence counts (the era's word,
            # garbled as 偽和, was low and is explained).
            conf, floor = max(c[4].digit_conf for c in cands), NAME_AGREE_CONF
        # A whole entry of the closed list: a junk mark's low confidence (| 松本市長) says nothing.
        listed = closed and bool(places.known_mayor(str(value)))
        if conf < floor and not listed:
            fr.reasons.append(Doubt.low_confidence)
            fr.messages.append("読み取りの確信度が低い文字があります")
    if spaced and any(c[4].split_unsure and c[2] == value for c in cands) and not fr.reasons:
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append("姓と名の区切りを確認してください")
        conf = min(conf, 0.5)
    if all(c[4].unread_ink for c in cands):  # the readings the value stands on
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append("読み取れなかった文字があります")
    fr.confidence = float(max(0.0, min(1.0, conf)))
    return fr


def _tie_break(cands: list[tuple], third: tuple, listed: bool = False, name: bool = False) -> list[tuple] | None:
    """The two readings that settle a line the first two models disagree on, once a third has
    read it: two that agree, one of them jpn_full's; or, for a value checked against a closed
    list (``listed``: addresses and the mayor addressed, against Japan Post's list), the one
    reading on the list when each of the others is a single character away from it; for a name,
    a reading far surer than the rest (see SURE_CONF).

    Measured on 1,229 generated line crops: two of three with jpn_full among them settled 11 of
    25 name disagreements, 10 right and one wrong (原運 for 原蓮: jpn_full and the script model
    alike), and every date, kana and relation disagreement and half the address ones, all right.
    Plain two of three settled 17 names right but 5 wrong: jpn and the script model share
    misreads (和志 for 和也, 運 for 蓮), so their agreement alone does not settle a name.
    The list rule is for the rare town kanji that two models misread differently (雁田 read as
    座田 and 麻田, jpn_full right): the others agree with it on every digit of the house number.
    """
    for c in cands:
        if third[0] and c[0] and third[2] == c[2] and FULL_LANG in (third[4].lang, c[4].lang):
            return [c, third]
    if listed:
        valid = {str(c[2]) for c in (*cands, third) if c[0]}
        if len(valid) == 1:
            value = valid.pop()
            on_list = max((c for c in (*cands, third) if c[0]), key=lambda c: c[1])
            others = [str(c[2] or "") for c in (*cands, third) if not c[0]]
            if all(_one_edit(o, value) for o in others):  # (the usual confidence rule follows)
                return [on_list, on_list]
    if not name:
        return None
    # Names: three different answers, or two of the weaker models agreeing against jpn_full: a
    # reading far surer than every other one stands (和也 at 0.96 against 和志 at 0.75 and 和世
    # at 0.01; 恵 at 0.92 against jpn_full's 惠 at 0.81). Measured on names only: elsewhere a
    # sure reading may still differ from the others in a digit.
    sure: dict[str, tuple] = {}
    for c in (*cands, third):
        if c[0] and c[1] > sure.get(str(c[2]), (None, -1.0))[1]:
            sure[str(c[2])] = c
    ranked = sorted(sure.values(), key=lambda c: -c[1])
    if ranked and ranked[0][1] >= SURE_CONF and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        return [ranked[0], ranked[0]]
    return None


def _one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by changing, dropping or adding one character."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return a == b
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:]
    return a[i + 1:] == b[i:] if len(a) > len(b) else a[i:] == b[i + 1:]


def _squares_missing(fr: FieldResult, target: Target | None, empty: bool | None, message_ja: str) -> bool:
    """Mark *fr* not found (value *empty*) when the locator found no tick boxes; True if so."""
    if target is not None and target.squares:
        return False
    fr.value = empty
    fr.reasons.append(Doubt.not_found)
    fr.messages.append(message_ja)
    return True


def checkbox_field(name: str, label: str, bw: np.ndarray, target: Target | None, page: int,
                   answers: tuple[list[str], list[str]] | None = None) -> FieldResult:
    fr = FieldResult(name=name, type=FieldType.checkbox, label=label, box=box_of(target.box if target else None, page))
    # Not found is not "no": the value stays unknown and a clerk looks (an unfound 監護 once read as no).
    if target is not None and not target.squares and target.circled is not None and answers is not None:
        return _circled_field(fr, target.circled, lambda opt: opt in answers[0], "「はい」「いいえ」")
    if _squares_missing(fr, target, None, f"「{label}」のチェック欄が見つかりません"):
        return fr
    if answers is not None and len(target.squares) >= 2 and any(
            best_score(_fold_small_kana(t), answers[0] + answers[1]) >= 0.6 for t in target.options):
        return _answer_field(fr, bw, target, answers, page)
    sq = target.squares[0]
    fr.box = box_of(sq, page)
    ratio = fill_ratio(bw, sq)
    fr.raw = f"fill={ratio:.3f}"
    text = _fold_small_kana(target.options[0]) if target.options else ""
    named = [i for i, a in enumerate(answers or ()) if best_score(text, a) >= MATCH or any(w in text for w in a)]
    if named:
        # One box beside printed answers: the other answer's box was lost (a tick drawn through
        # it), or this "box" is a glyph of an answer (同 of 同居). An empty いいえ box is no はい,
        # and a ticked one may be ink of print: a clerk looks.
        fr.reasons.append(Doubt.not_found)
        fr.messages.append(f"「{answers[0][0]}」「{answers[1][0]}」の一方のチェック欄が見つかりません" if answers else
                           "チェック欄の一方が見つかりません")
        return fr
    fr.value = ratio >= CHECK_ON
    margin = abs(ratio - CHECK_ON)
    fr.confidence = float(min(1.0, 0.5 + margin * 5))
    if CHECK_UNSURE[0] <= ratio < CHECK_UNSURE[1]:
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append("チェックの有無がはっきりしません")
    return fr


def _circled_field(fr: FieldResult, ring: Ringed, value: Callable[[str], Any], what: str) -> FieldResult:
    """An answer chosen by a ring round its printed text (see ocr.marks); an inferred choice that the
    full-resolution reading of the ring did not confirm is flagged."""
    fr.raw = f"circled={ring.option or '?'} rings={ring.count}"
    if ring.option is None:
        fr.value = None
        fr.reasons.append(Doubt.invalid if ring.count else Doubt.missing_required)
        fr.messages.append(f"{what}の複数に○印があります" if ring.count > 1 else f"{what}に○印が見つかりません")
        return fr
    fr.value = value(ring.option)
    fr.confidence = 0.9
    if ring.inferred:
        fr.confidence = 0.4
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append(f"{what}の○印の中の文字が読み取れません。○印の位置を確認してください")
    return fr


_SMALL_KANA = str.maketrans("ぁぃぅぇぉゃゅょっァィゥェォャュョッ", "あいうえおやゆよつアイウエオヤユヨツ")


def _fold_small_kana(text: str) -> str:
    """The layout pass reads a printed い as ぃ often; answers are compared with small kana folded."""
    return text.translate(_SMALL_KANA).replace(" ", "")


def _one_ticked(fr: FieldResult, bw: np.ndarray, target: Target, several: str, none: str) -> tuple[list[float], int | None]:
    """The boxes' fills and the one ticked box; None (with the doubt and message set) when none or
    several are ticked."""
    fills = [fill_ratio(bw, sq) for sq in target.squares]
    fr.raw = " ".join(f"{t or '?'}={f:.2f}" for t, f in zip(target.options, fills))
    ticked = [i for i, f in enumerate(fills) if f >= CHECK_ON]
    if len(ticked) == 1:
        return fills, ticked[0]
    fr.value = None
    fr.reasons.append(Doubt.invalid if ticked else Doubt.missing_required)
    fr.messages.append(several if ticked else none)
    return fills, None


def _answer_field(fr: FieldResult, bw: np.ndarray, target: Target, answers: tuple[list[str], list[str]], page: int) -> FieldResult:
    """A yes/no question answered by ticking one of two boxes (はい / いいえ, 同居 / 別居): the
    ticked box's printed text says which; none or both ticked, or text that names neither, is unread."""
    fills, ticked = _one_ticked(fr, bw, target, "「はい」「いいえ」の両方に印があります", "「はい」「いいえ」のどちらにも印がありません")
    if ticked is None:
        return fr
    text = _fold_small_kana(target.options[ticked] if ticked < len(target.options) else "")
    yes, no = best_score(text, answers[0]), best_score(text, answers[1])
    # The answer printed whole beside the box, glyph noise around it (口はい, はぃ read for はい):
    # containment settles it when only one side's answer is there (はい is not inside いいえ).
    has_yes, has_no = (any(_fold_small_kana(a) in text for a in side) for side in answers)
    if has_yes != has_no:
        yes, no = float(has_yes), float(has_no)
    if (max(yes, no) < 0.6 or abs(yes - no) < 0.2) and len(target.squares) == 2 and len(target.options) == 2:
        # The ticked box's text garbled by the tick (はMO), the other box's read clearly.
        def says(text: str) -> bool | None:
            t_yes, t_no = (any(_fold_small_kana(a) in _fold_small_kana(text) for a in side) for side in answers)
            return t_yes if t_yes != t_no else None
        if (answer := _left_over(target.options, ticked, (True, False), says)) is not None:
            yes, no = float(answer), float(not answer)
    if max(yes, no) < 0.6 or abs(yes - no) < 0.2:
        # Position decides when the text is unreadable: the first box is the affirmative one on every
        # form seen, but that is a guess a clerk confirms.
        fr.value = ticked == 0
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append("印の付いた選択肢の文字が読み取れません")
        fr.confidence = 0.3
    else:
        fr.value = yes > no
        fr.confidence = float(min(1.0, 0.5 + abs(fills[ticked] - CHECK_ON) * 5))
    fr.box = box_of(target.squares[ticked], page)
    if any(CHECK_UNSURE[0] <= f < CHECK_UNSURE[1] for f in fills):
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append("チェックの有無がはっきりしない選択肢があります")
    return fr


def _left_over(texts: list[str], ticked: int, choices: Sequence[T], says: Callable[[str], T | None]) -> T | None:
    """One box per choice: when the text beside every other box names a choice (*says*), each a
    different one, the ticked box is the one choice left over."""
    named = {says(t) for i, t in enumerate(texts) if i != ticked}
    left = [c for c in choices if c not in named]
    return left[0] if None not in named and len(named) == len(texts) - 1 and len(left) == 1 else None


def choice_field(name: str, label: str, options: list[str], bw: np.ndarray, target: Target | None, page: int) -> FieldResult:
    fr = FieldResult(name=name, type=FieldType.choice, label=label, box=box_of(target.box if target else None, page))
    if target is not None and not target.squares and target.circled is not None:
        return _circled_field(fr, target.circled, lambda opt: opt, "選択肢")
    if _squares_missing(fr, target, None, f"「{label}」の選択欄が見つかりません"):
        return fr
    fills, ticked = _one_ticked(fr, bw, target, "選択肢が複数選ばれています", "選択肢が選ばれていません")
    if ticked is None:
        return fr
    text = target.options[ticked] if ticked < len(target.options) else ""
    scores = [(best_score(text, [o]), o) for o in options]
    s, opt = max(scores)
    if s < 0.6 and len(target.squares) == len(options) == len(target.options):
        # The ticked box's text garbled by the tick (|共合), every other box's read clearly.
        def says(t: str) -> str | None:
            sc, o = max((best_score(t, [o]), o) for o in options)
            return o if sc >= 0.6 else None
        if (left := _left_over(target.options, ticked, options, says)) is not None:
            s, opt = 0.8, left
    fr.value = opt
    fr.confidence = float(min(1.0, s))
    fr.box = box_of(target.squares[ticked], page)
    if s < 0.6:
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append("選ばれた選択肢の文字が読み取れません")
    if any(CHECK_UNSURE[0] <= f < CHECK_UNSURE[1] for f in fills):
        fr.reasons.append(Doubt.low_confidence)
        fr.messages.append("チェックの有無がはっきりしない選択肢があります")
    return fr


def cross_checks(fields: dict[str, FieldResult]) -> None:
    """Dates that contradict each other: a child born before the parent, a report from the future."""
    def iso(v: Any) -> date | None:
        try:
            return date.fromisoformat(v) if isinstance(v, str) else None
        except ValueError:
            return None

    parent = iso(fields["recipient_birth_date"].value) if "recipient_birth_date" in fields else None
    submitted = iso(fields["submission_date"].value) if "submission_date" in fields else None
    table = fields.get("children")
    for row in (table.rows or []) if table else []:
        cell = row.get("birth_date")
        born = iso(cell.value) if cell else None
        if cell and born and parent and born <= parent:
            cell.reasons.append(Doubt.cross_field)
            cell.messages.append("児童の生年月日が受給者の生年月日より前です")
        if cell and born and submitted and born > submitted:
            cell.reasons.append(Doubt.cross_field)
            cell.messages.append("児童の生年月日が提出日より後です")
