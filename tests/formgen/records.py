"""Values for one filled form of a family, in ``ocr.generate.random_record``'s conventions,
extended with a fourth child and the three newer questions."""
from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from ocr.generate import FEMALE, MALE, MAYORS, random_record

from tests.formgen.family import QUESTIONS, FamilyLayout

ORDER = ("長", "次", "三", "四")


def _fourth_child(rng: random.Random, rec: dict[str, Any]) -> dict[str, Any]:
    sur = rec["recipient_name"].split(" ")[0]
    sex = rng.choice(["男", "女"])
    given, _kana = rng.choice(MALE if sex == "男" else FEMALE)
    n_same = sum(1 for c in rec["children"] if c["relation"].endswith(sex))
    last = date.fromisoformat(rec["children"][-1]["birth_date"])
    birth = min(last + timedelta(days=rng.randint(400, 1500)), date(2024, 5, 31))
    return {"name": f"{sur} {given}", "birth_date": birth.isoformat(), "relation": f"{ORDER[n_same]}{sex}",
            "lives_together": rng.random() < 0.9}


def family_record(lay: FamilyLayout, rng: random.Random) -> tuple[dict[str, Any], list[str]]:
    """The record (exactly the fields this family's form prints) and the fields it has no place for."""
    # Redraw until the address is in the family's municipality: the conventions (address, postal
    # prefix, area code, mayor) then stay exactly random_record's. About six draws on average.
    for _ in range(1000):
        rec = random_record(rng)
        if rec["addressed_to"] == MAYORS[lay.city]:
            break
    if len(rec["children"]) == 3 and rng.random() < 0.4:
        rec["children"].append(_fourth_child(rng, rec))
    # random_record may give two children the same name; no family does that.
    seen: set[str] = set()
    for child in rec["children"]:
        while child["name"] in seen:
            pool = MALE if child["relation"].endswith("男") else FEMALE
            child["name"] = f"{child['name'].split(' ')[0]} {rng.choice(pool)[0]}"
        seen.add(child["name"])
    rec["in_facility"] = rng.random() < 0.05
    rec["resides_in_japan"] = rng.random() < 0.95
    rec["living_apart_from_spouse"] = bool(rec["spouse_name"]) and rng.random() < 0.1
    printed = lay.fields
    record = {k: v for k, v in rec.items() if k in printed}
    absent = sorted(k for k in rec if k not in printed)
    assert all(k in QUESTIONS for k in absent), absent  # only questions may be missing from a form
    return record, absent
