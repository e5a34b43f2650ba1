"""Plausible 現況届 records (the OCR contract's keys) and matching recipients for the sandbox.

Used by tests, the benchmark and the demo when no OCR output is at hand. Deterministic
for a seed; My Numbers carry a valid check digit (and are fictitious).
"""
from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from .store import PENSION_TYPES, my_number_check_digit

_SEI = [("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("宮澤", "ミヤザワ"),
        ("小林", "コバヤシ"), ("丸山", "マルヤマ"), ("髙野", "タカノ"), ("北村", "キタムラ"), ("塚田", "ツカダ")]
_MEI = [("太郎", "タロウ"), ("花子", "ハナコ"), ("健一", "ケンイチ"), ("美咲", "ミサキ"), ("翔太", "ショウタ"),
        ("由美", "ユミ"), ("大輔", "ダイスケ"), ("さくら", "サクラ"), ("﨑人", "サキト"), ("陽菜", "ヒナ")]
_KIDS = [("蓮", "長男"), ("結衣", "長女"), ("湊", "次男"), ("陽葵", "次女"), ("樹", "三男"), ("凛", "三女")]
_TOWNS = {"長野市": ("380", "長野県長野市大字鶴賀緑町{n}番地"), "小布施町": ("381", "長野県上高井郡小布施町大字小布施{n}番地")}


def fake_my_number(rng: random.Random) -> str:
    first = "".join(str(rng.randint(0, 9)) for _ in range(11))
    return first + str(my_number_check_digit(first))


def sample_records(count: int, *, seed: int = 0, municipality: str = "長野市", start_number: int = 1000001) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    prefix, addr = _TOWNS.get(municipality, ("380", municipality + "{n}番地"))
    out = []
    for i in range(count):
        sei, sei_k = _SEI[rng.randrange(len(_SEI))]
        mei, mei_k = _MEI[rng.randrange(len(_MEI))]
        birth = date(1980, 1, 1) + timedelta(days=rng.randrange(365 * 15))
        kids = []
        for k in range(rng.randint(1, 3)):
            name, rel = _KIDS[(k * 2 + rng.randint(0, 1)) % len(_KIDS)]
            kids.append({"name": f"{sei} {name}", "birth_date": (date(2010, 4, 2) + timedelta(days=rng.randrange(365 * 14))).isoformat(),
                         "relation": rel, "lives_together": rng.random() > 0.15})
        out.append({
            "recipient_number": str(start_number + i),
            "recipient_name": f"{sei} {mei}",
            "recipient_kana": f"{sei_k} {mei_k}",
            "recipient_birth_date": birth.isoformat(),
            "postal_code": f"{prefix}-{rng.randint(0, 9999):04d}",
            "address": addr.format(n=rng.randint(1, 2999)),
            "phone": f"026-{rng.randint(200, 299)}-{rng.randint(0, 9999):04d}",
            "my_number": fake_my_number(rng),
            "spouse_name": "" if rng.random() < 0.3 else f"{sei} {_MEI[rng.randrange(len(_MEI))][0]}",
            "children": kids,
            "pension_type": PENSION_TYPES[rng.randrange(3)],
            "supervision_confirmed": True,
            "livelihood_confirmed": True,
            "submission_date": (date(2026, 6, 1) + timedelta(days=rng.randrange(30))).isoformat(),
            "addressed_to": f"{municipality}長",
        })
    return out


def recipients_for(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The sandbox recipients that make *records* findable."""
    return [{"recipient_number": r["recipient_number"], "recipient_name": r["recipient_name"],
             "recipient_kana": r.get("recipient_kana", ""), "address": r.get("address", "")} for r in records]
