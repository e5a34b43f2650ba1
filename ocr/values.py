"""Normalisation and validation of Japanese form values (pure functions, no OCR).

Each ``normalise_*`` returns ``(value, problem)``: the normalised value (or the best
guess) and a Japanese explanation when the value fails validation, so the caller can
flag the field instead of passing a wrong value on silently.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date

# Era start dates (first day of the era) and the last valid day.
ERAS: dict[str, tuple[date, date]] = {
    "明治": (date(1868, 1, 25), date(1912, 7, 29)),
    "大正": (date(1912, 7, 30), date(1926, 12, 24)),
    "昭和": (date(1926, 12, 25), date(1989, 1, 7)),
    "平成": (date(1989, 1, 8), date(2019, 4, 30)),
    "令和": (date(2019, 5, 1), date(2099, 12, 31)),
}
# Characters OCR commonly returns for one half of an era name.
ERA_HINTS = {"令": "令和", "平": "平成", "成": "平成", "昭": "昭和", "大": "大正", "正": "大正", "明": "明治", "治": "明治"}
# 和 ends both 昭和 and 令和; the misread first character tells them apart by its shape: 令's roof
# reads as a 亻 radical (偽和, 信和), 昭's 日 stays a 日 radical (照和, 略和). A guess, always flagged.
_WA_FIRST = {**dict.fromkeys("偽信伶今冷合会領命全", "令和"), **dict.fromkeys("照招略昨晴暗明旧", "昭和")}

_OCR_DIGIT_FIXES = str.maketrans({"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "Z": "2", "S": "5", "B": "8", "〇": "0", "ー": "-", "−": "-", "—": "-", "‐": "-", "―": "-", "–": "-"})


def to_halfwidth(text: str) -> str:
    """NFKC folds full-width digits/latin to ASCII (and half-width kana to full-width)."""
    return unicodedata.normalize("NFKC", text)


def squash(text: str) -> str:
    """Remove all whitespace: Tesseract puts spaces between CJK characters."""
    return re.sub(r"\s+", "", text or "")


def digits_only(text: str) -> str:
    return re.sub(r"\D", "", to_halfwidth(text or "").translate(_OCR_DIGIT_FIXES))


def my_number_check_digit(first11: str) -> int:
    """Official check digit of the 個人番号 (行政手続における特定の個人を識別するための番号の利用等に関する法律施行令 第八条)."""
    digits = [int(c) for c in first11]
    total = 0
    for n in range(1, 12):
        p = digits[11 - n]
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    rem = total % 11
    return 0 if rem <= 1 else 11 - rem


def valid_my_number(value: str) -> bool:
    return bool(re.fullmatch(r"\d{12}", value or "")) and my_number_check_digit(value[:11]) == int(value[11])


# Digit pairs Tesseract confuses on blurred scans (measured on generated degraded sets).
CONFUSABLE: dict[str, str] = {"0": "689", "3": "58", "5": "368", "6": "058", "8": "0356", "9": "0", "1": "7", "7": "1"}


def repair_my_number(value: str) -> str | None:
    """The one 12-digit number that differs from ``value`` in a single confusable digit and has a
    valid check digit; None when there is no such number or more than one (then a human decides).
    The result is a suggestion for the reviewer: the field stays flagged."""
    if not re.fullmatch(r"\d{12}", value or ""):
        return None
    found = set()
    for i, ch in enumerate(value):
        for alt in CONFUSABLE.get(ch, ""):
            cand = value[:i] + alt + value[i + 1:]
            if valid_my_number(cand):
                found.add(cand)
    return found.pop() if len(found) == 1 else None


def normalise_digits(text: str, length: int | None = None) -> tuple[str, str | None]:
    v = digits_only(text)
    if not v:
        return "", "数字が読み取れません"
    if length and len(v) != length:
        return v, f"桁数が{length}桁ではありません（{len(v)}桁）"
    return v, None


def normalise_my_number(text: str) -> tuple[str, str | None]:
    v = digits_only(text)
    if len(v) != 12:
        return v, f"個人番号の桁数が12桁ではありません（{len(v)}桁）"
    if not valid_my_number(v):
        return v, "個人番号のチェックデジットが一致しません"
    return v, None


def normalise_postal(text: str) -> tuple[str, str | None]:
    v = digits_only(text)
    if len(v) != 7:
        return v, "郵便番号は7桁です"
    return f"{v[:3]}-{v[3:]}", None


def normalise_phone(text: str) -> tuple[str, str | None]:
    """Keep the hyphenation as written when it is plausible (area codes vary in length)."""
    t = to_halfwidth(text or "").translate(_OCR_DIGIT_FIXES)
    t = re.sub(r"[()（）\s]", "-", t).strip("-")
    groups = [g for g in re.split(r"-+", re.sub(r"[^\d-]", "", t)) if g]
    d = "".join(groups)
    if not d.startswith("0") or len(d) not in (10, 11):
        return "-".join(groups), "電話番号の形式が正しくありません（0から始まる10〜11桁）"
    if len(groups) == 3:
        return "-".join(groups), None
    # Without readable hyphens: mobile 3-4-4, otherwise guess 3-3-4 and let a human confirm.
    if len(d) == 11:
        return f"{d[:3]}-{d[3:7]}-{d[7:]}", None
    return f"{d[:3]}-{d[3:6]}-{d[6:]}", "電話番号の区切りが読み取れません"


def normalise_kana(text: str) -> tuple[str, str | None]:
    t = to_halfwidth(text or "").strip()
    # hiragana -> katakana: readings are written in katakana on the form.
    t = "".join(chr(ord(c) + 0x60) if "ぁ" <= c <= "ゖ" else c for c in t)
    parts = [kana_orthography(p) for p in re.split(r"[\s　・]+", t) if p]
    value = " ".join(parts)
    if not parts or not all(re.fullmatch(r"[ァ-ヺー]+", p) for p in parts):
        return value, "フリガナに片仮名以外の文字があります"
    return value, None


_SMALL_TO_LARGE = str.maketrans("ァィゥェォッャュョヮ", "アイウエオツヤユヨワ")


# A small kana right after its own large form (ヤャ, イィ): one glyph read twice, in both sizes
# (the script model does it to ~8% of kana lines); no name's reading is spelt so.
_ECHO = re.compile(r"([アイウエオヤユヨワ])( ?)([ァィゥェォャュョヮ])")


def _drop_echoes(text: str) -> str:
    return _ECHO.sub(lambda m: m.group(1) + m.group(2) if m.group(3).translate(_SMALL_TO_LARGE) == m.group(1) else m.group(0), text)


def kana_orthography(text: str) -> str:
    """Undo two OCR slips that katakana spelling rules out: a small kana cannot begin a name
    ('ャマモト' -> 'ヤマモト', 'ッチヤ' -> 'ツチヤ'), and a small kana never follows its own large
    form ('ミヤャザワ' -> 'ミヤザワ', 'イィトウ' -> 'イトウ'). On a raw reading (spaces kept) only
    its very start counts as a name's start: a model's word breaks are not the 姓/名 space
    ('シ ョウタ'), so a word of it may well begin small."""
    t = text.strip()
    if t and t[0] in "ァィゥェォッャュョヮ":
        t = t[0].translate(_SMALL_TO_LARGE) + t[1:]
    return _drop_echoes(t)


def normalise_name(text: str) -> tuple[str, str | None]:
    t = to_halfwidth(text or "").strip()
    parts = [p for p in re.split(r"[\s　]+", t) if p]
    value = " ".join(parts)
    if not value:
        return "", None
    if not all(re.fullmatch(r"[\u3041-\u30ff\u3400-\u9fff\uf900-\ufaff々ー]+", p) for p in parts):
        return value, "氏名に使えない文字があります"
    if len(parts) != 2:
        return value, "姓と名の区切りが読み取れません"
    return value, None


_EDGE_MARKS = "()（）「」[]【】:：・、。,. |｜!！"  # brackets, punctuation, a ruled line's remains


def normalise_text(text: str) -> tuple[str, str | None]:
    """Squashed, without brackets or punctuation at either end (「（あて先）長野市長 様」 leaves ')'
    beside the value) and without an addressee's honorific (様, 殿) at the end."""
    t = squash(to_halfwidth(text or "")).strip(_EDGE_MARKS)
    for honorific in ("様", "殿"):
        if t.endswith(honorific) and len(t) > len(honorific) + 1:
            t = t[: -len(honorific)].rstrip(_EDGE_MARKS)
    return t, None


_ADDRESS_CHARS = re.compile(r"[\u3041-\u30ff\u3400-\u9fff\uf900-\ufaff々ヶケ0-9\-ー−の]+")


def normalise_address(text: str) -> tuple[str, str | None]:
    """An address is kanji, kana, digits and hyphens only; a stray ']' or '」' is a misread (of 丁
    in 丁目, most often), so it is flagged, with 丁目 restored as the suggestion."""
    t = squash(to_halfwidth(text or ""))
    if not t or _ADDRESS_CHARS.fullmatch(t):
        return t, None
    fixed = re.sub(r"(\d)[\]」亅J|]目", r"\1丁目", t)
    return fixed, "住所に使えない文字があります"


def guess_wa_era(text: str) -> str | None:
    """昭和 or 令和 from a misread first character before 和 (信和 -> 令和), or None. A guess: flag it."""
    i = text.find("和")
    return _WA_FIRST.get(text[i - 1]) if i > 0 else None


def parse_wareki(text: str, within_years: int | None = None, today: date | None = None) -> tuple[str, str | None]:
    """'令和 6年 4月 1日' / '平成元年…' / '昭和60.4.1' -> ISO 'YYYY-MM-DD'.

    *within_years*: the date lies within that many years before *today* (a form's own date, a
    child's birth). An era whose first character is unreadable (?和) is then the one of 昭和 and
    令和 that puts the date in that span, when only one does: no guess; a date outside it is flagged."""
    t = squash(to_halfwidth(text or ""))
    era = next((e for e in ERAS if e in t), None)
    guessed = None
    if era is None:
        hint = next((c for c in t[:3] if c in ERA_HINTS), None)
        era = ERA_HINTS.get(hint) if hint else None
    i = t.find("和")
    if era is None and i > 0 and not t[i - 1].isdigit():
        fitting = [e for e in ("昭和", "令和") if within_years is not None
                   for iso, problem in [_parse_in(t[:i - 1] + e + t[i + 1:], e)] if problem is None and _within(iso, within_years, today)]
        if len(fitting) == 1:
            era = fitting[0]
        elif (guess := guess_wa_era(t)) is not None:
            era = guessed = guess
        if era is not None:
            t = t[:i - 1] + era + t[i + 1:]
    if era is None:
        return t, "元号が読み取れません"
    iso, problem = _parse_in(t, era)
    if problem is not None:
        return iso, problem
    if not _within(iso, within_years, today):
        return iso, f"{within_years}年以上前か、今日より後の日付です"
    if guessed:
        return iso, f"元号の文字が読み取れません（{guessed}と推定）"
    return iso, None


def _parse_in(t: str, era: str) -> tuple[str, str | None]:
    """The date of *t* in *era* (ISO), or *t* and what is wrong."""
    body = t[t.find(era[-1]) + 1:] if era[-1] in t else t
    body = body.replace("元", "1").translate(_OCR_DIGIT_FIXES)
    nums = re.findall(r"\d+", body)
    if len(nums) < 3:
        return t, "年月日が読み取れません"
    y, m, d = (int(n) for n in nums[:3])
    start, end = ERAS[era]
    try:
        iso = date(start.year + y - 1, m, d)
    except ValueError:
        return t, "存在しない日付です"
    if not (start <= iso <= end):
        return iso.isoformat(), f"{era}の範囲外の日付です"
    return iso.isoformat(), None


def _within(iso: str, years: int | None, today: date | None) -> bool:
    if years is None:
        return True
    day, now = date.fromisoformat(iso), today or date.today()
    # (the 28th at most: the same day N years back may not exist, 2/29; a few days' slack is harmless)
    return date(now.year - years, now.month, min(now.day, 28)) <= day <= now


def to_wareki(d: date) -> str:
    """ISO date -> '令和6年4月1日' (used by the generator and for display)."""
    for era, (start, end) in ERAS.items():
        if start <= d <= end:
            y = d.year - start.year + 1
            return f"{era}{'元' if y == 1 else y}年{d.month}月{d.day}日"
    raise ValueError(f"date outside supported eras: {d}")


def is_kanji_name(value: str) -> bool:
    return bool(value) and normalise_name(value)[1] is None
