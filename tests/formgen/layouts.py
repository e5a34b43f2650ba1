"""``family_layout``: a family's choices (family.py) with its fitted geometry (draw.py). Its own
module because draw needs FamilyLayout from family, so family cannot import draw."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from tests.formgen.draw import fit_sheet
from tests.formgen.family import FamilyLayout, _draw_choices


@lru_cache(maxsize=256)
def family_layout(family_id: int) -> FamilyLayout:
    """The family's choices and its fitted geometry (cached: it is the same for every form)."""
    choices = _draw_choices(family_id)
    row_height, sheet = fit_sheet(choices)
    return replace(choices, row_height=row_height, sheet=sheet)

