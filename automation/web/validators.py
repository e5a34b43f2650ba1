"""Validation and normalisation of the values a clerk types on the review screen.

``static/validate.js`` mirrors this module line for line so the browser can say
"this is not a valid date" while the clerk types; the server runs this module again on
approve, so a browser without JavaScript (or a hand-made POST) gets the same checks.
``tests/web/test_validators.py`` runs both on the same cases and compares them.

Messages are Japanese (clerk-facing) and never repeat the value (it may be a My Number).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Any

from pydantic import BaseModel

# (name, aliases, first day, last day); a date must fall inside its era.
ERAS: list[tuple[str, tuple[str, ...], date, date]] = [
    ("令和", ("令和", "R"), date(2019, 5, 1), date(2099, 12, 31)),
    ("平成", ("平成", "H"), date(1989, 1, 8), date(2019, 4, 30)),
    ("昭和", ("昭和", "S"), date(1926, 12, 25), date(1989, 1, 7)),
    ("大正", ("大正", "T"), date(1912, 7, 30), date(1926, 12, 24)),
]
_ERA_DATE = re.compile(r"^(令和|平成|昭和|大正|R|H|S|T)\s*(元|[0-9]{1,2})\s*[年.\-/]\s*([0-9]{1,2})\s*[月.\-/]\s*([0-9]{1,2})\s*日?$")
_ISO_DATE = re.compile(r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?$")
_KANA = re.compile(r"^[\u30A1-\u30FA\u30FC\u30FB ]+$")
_PHONE = re.compile(r"^0[0-9]{1,4}-[0-9]{1,4}-[0-9]{3,4}$")


class Checked(BaseModel):
    ok: bool
    value: Any = None
    message: str = ""


def normalise_text(s: str) -> str:
    """NFKC (full-width digits and letters to ASCII, half-width kana to full-width), trimmed, one space."""
    s = unicodedata.normalize("NFKC", s or "")
    return re.sub(r"\s+", " ", s).strip()


def _digits(s: str) -> str:
    return re.sub(r"[\s\-‐−ー]", "", s)


def my_number_check_digit(first11: str) -> int:
    """Check digit of a 個人番号 (総務省令 第五条): weights 2..7,2..6 from the right."""
    total = 0
    for n in range(1, 12):
        p = int(first11[11 - n])
        q = n + 1 if n <= 6 else n - 5
        total += p * q
    r = total % 11
    return 0 if r <= 1 else 11 - r


def parse_date(s: str) -> tuple[date | None, str]:
    m = _ERA_DATE.match(s)
    if m:
        alias, y, mo, d = m.groups()
        era = next(e for e in ERAS if alias in e[1])
        year = 1 if y == "元" else int(y)
        try:
            value = date(era[2].year + year - 1, int(mo), int(d))
        except ValueError:
            return None, "存在しない日付です"
        if not (era[2] <= value <= era[3]):
            return None, f"{era[0]}{year}年{int(mo)}月{int(d)}日は{era[0]}の期間外です"
        return value, ""
    m = _ISO_DATE.match(s)
    if m:
        try:
            value = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None, "存在しない日付です"
        if not (1900 <= value.year <= 2100):
            return None, "年が範囲外です"
        return value, ""
    return None, "日付は「令和6年4月1日」または「2024-04-01」の形で入力してください"


def to_wareki(d: date) -> str:
    for name, _aliases, start, end in ERAS:
        if start <= d <= end:
            y = d.year - start.year + 1
            return f"{name}{'元' if y == 1 else y}年{d.month}月{d.day}日"
    return d.isoformat()


def validate(field_type: str, raw: Any) -> Checked:
    """Check one typed value; return the normalised value or a Japanese message."""
    if field_type == "checkbox":
        if isinstance(raw, bool):
            return Checked(ok=True, value=raw)
        return Checked(ok=True, value=str(raw).strip().lower() in ("1", "true", "on", "yes", "✓", "レ"))
    s = normalise_text(str(raw) if raw is not None else "")
    if field_type == "date_wareki":
        if not s:
            return Checked(ok=False, message="日付を入力してください")
        d, msg = parse_date(s)
        return Checked(ok=d is not None, value=d.isoformat() if d else None, message=msg)
    if field_type == "postal_code":
        digits = _digits(s).replace("〒", "")
        if not re.fullmatch(r"[0-9]{7}", digits):
            return Checked(ok=False, message="郵便番号は7桁の数字です（例: 380-8512）")
        return Checked(ok=True, value=f"{digits[:3]}-{digits[3:]}")
    if field_type == "phone":
        if not s:
            return Checked(ok=True, value="")
        s = re.sub(r"[‐−ー]", "-", s).replace(" ", "")
        digits = s.replace("-", "")
        if not re.fullmatch(r"0[0-9]{9,10}", digits):
            return Checked(ok=False, message="電話番号は0から始まる10桁または11桁です")
        if "-" in s:
            if not _PHONE.match(s):
                return Checked(ok=False, message="電話番号の区切り（-）の位置が正しくありません")
            return Checked(ok=True, value=s)
        if len(digits) == 11:
            return Checked(ok=True, value=f"{digits[:3]}-{digits[3:7]}-{digits[7:]}")
        return Checked(ok=False, message="市外局番の区切りを「-」で入力してください（例: 026-226-4911）")
    if field_type == "my_number":
        digits = _digits(s)
        if not re.fullmatch(r"[0-9]{12}", digits):
            return Checked(ok=False, message="個人番号は12桁の数字です")
        if my_number_check_digit(digits[:11]) != int(digits[11]):
            return Checked(ok=False, message="個人番号のチェックデジットが一致しません")
        return Checked(ok=True, value=digits)
    if field_type == "digits":
        digits = _digits(s)
        if not re.fullmatch(r"[0-9]+", digits):
            return Checked(ok=False, message="数字で入力してください")
        return Checked(ok=True, value=digits)
    if field_type == "kana":
        if not s:
            return Checked(ok=True, value="")
        kana = "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in s)  # ひらがな -> カタカナ
        if not _KANA.match(kana):
            return Checked(ok=False, message="フリガナは全角カタカナで入力してください")
        return Checked(ok=True, value=kana)
    return Checked(ok=True, value=s)
