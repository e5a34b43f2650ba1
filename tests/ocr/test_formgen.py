"""The randomised 現況届 layout generator (tests/formgen): splits, determinism, truth, geometry."""
from __future__ import annotations

import hashlib
import json
import random
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from ocr.generate import A4
from ocr.values import valid_my_number
from tests.formgen import ARRANGEMENTS, family_layout, generate, render_blank, split_families, split_of
from tests.formgen.__main__ import main
from tests.formgen.draw import PAGE_BOTTOM
from tests.formgen.family import IDENTITY_FIELDS, QUESTIONS
from tests.formgen.paint import paint

ALL_IDS = split_families("tuning") + split_families("heldout")
RECORD_FIELDS = {*IDENTITY_FIELDS, "children", "pension_type", "submission_date", "addressed_to", *QUESTIONS}


def _first(split: str, **arrangement: str) -> int:
    return next(f for f in split_families(split) if all(family_layout(f).arrangement[k] == v for k, v in arrangement.items()))  # type: ignore[arg-type]


def test_split_of() -> None:
    assert split_of(0) == split_of(49) == "tuning"
    assert split_of(1000) == split_of(1049) == "heldout"
    for outside in (-1, 50, 999, 1050):
        with pytest.raises(ValueError):
            split_of(outside)
    assert len(split_families("tuning")) == len(split_families("heldout")) == 50


@pytest.mark.parametrize("split", ["tuning", "heldout"])
def test_every_option_occurs_in_both_splits(split: str) -> None:
    layouts = [family_layout(f) for f in split_families(split)]  # type: ignore[arg-type]
    for axis, options in ARRANGEMENTS.items():
        assert {lay.arrangement[axis] for lay in layouts} == set(options), axis
    assert {lay.card_labels for lay in layouts if lay.arrangement["children"] == "cards"} == {"left", "inside"}
    assert {lay.mark for lay in layouts} == {"tick", "cross", "fill"}


def test_families_differ_but_each_is_fixed() -> None:
    assert family_layout(3).describe() == family_layout.__wrapped__(3).describe()
    assert len({family_layout(f).describe() for f in ALL_IDS}) == len(ALL_IDS)
    assert "label_" in str(family_layout(1003))


def test_geometry_fits_the_page_and_values_never_cover_print() -> None:
    page = (0, 0, A4[0], A4[1])
    for f in ALL_IDS:
        sheet = family_layout(f).sheet
        assert sheet.bottom <= PAGE_BOTTOM, f
        for item in [c.rect for c in sheet.cells] + [lb.rect for lb in sheet.labels]:
            assert page[0] <= item.x and item.right <= page[2] and page[1] <= item.y and item.bottom <= page[3], (f, item)
        written = [s for s in sheet.slots if s.kind in ("text", "char", "year", "month", "day")]
        for s in written:
            assert s.box.contains(s.rect) or s.box == s.rect, (f, s)
            hit = [lb.text for lb in sheet.labels if lb.rect.overlaps(s.rect)]
            assert not hit, (f, s.field, hit)
        for a, b in zip(written, written[1:]):
            if a.field != b.field:
                assert not a.rect.overlaps(b.rect), (f, a.field, b.field)
        if sheet.stamp is not None:
            assert not any(sheet.stamp.overlaps(c.rect) for c in sheet.cells), f


def test_label_inside_lies_in_the_value_box() -> None:
    for split in ("tuning", "heldout"):
        lay = family_layout(_first(split, identity="label_inside"))
        for field in lay.identity_order:
            label = lay.sheet.label_of(field)
            assert 24 <= label.size <= 32
            for slot in lay.sheet.slots_of(field):
                if slot.kind in ("text", "year", "era"):
                    assert slot.box.contains(label.rect), (field, label, slot)
                    assert label.rect.bottom <= slot.rect.y + 4, field  # the value is written below the label
        # ...and on a left-label family the label is outside the box.
        other = family_layout(_first(split, identity="label_left"))
        label = other.sheet.label_of("recipient_name")
        assert not other.sheet.slots_of("recipient_name")[0].box.overlaps(label.rect)


def test_blank_has_no_values() -> None:
    for f in (_first("tuning", stamp="stamp", dates="preprinted"), _first("heldout", my_number="digit_boxes")):
        lay = family_layout(f)
        blank = np.asarray(render_blank(f).convert("L"))
        filled = np.asarray(paint(lay, _record(f), random.Random(1)).convert("L"))
        inked = 0
        for s in lay.sheet.slots:
            r = s.rect.inset(6)  # inside the lines of its box
            if s.kind in ("era", "circle"):
                continue  # printed text under a circle
            assert blank[r.y:r.bottom, r.x:r.right].min() == 255, (f, s.field, s.kind)
            inked += int(filled[r.y:r.bottom, r.x:r.right].min() < 128)
        assert inked > 20
        assert lay.sheet.stamp is not None
        st = lay.sheet.stamp
        assert blank[st.y:st.bottom, st.x:st.right].min() == 255
        assert np.array_equal(blank, np.asarray(render_blank(f).convert("L")))


def _record(f: int) -> dict[str, object]:
    from tests.formgen.records import family_record

    return family_record(family_layout(f), random.Random(f))[0]


def test_truth_matches_what_is_drawn(tmp_path: Path) -> None:
    partial = [f for f in split_families("tuning") if len(family_layout(f).questions) < len(QUESTIONS)][:3]
    ids = partial + [_first("tuning", questions="statement_tick"), _first("tuning", postal_code="in_address")]
    truth = generate(tmp_path, 6, split="tuning", seed=3, families=ids, degrade=False)
    lines = [json.loads(t) for t in truth.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 6
    for line in lines:
        assert set(line) == {"file", "page", "family", "split", "arrangement", "record", "absent"}
        assert (tmp_path / line["file"]).exists() and line["page"] == 0 and line["split"] == "tuning"
        lay = family_layout(line["family"])
        rec, absent = line["record"], line["absent"]
        assert line["arrangement"] == lay.arrangement
        assert set(rec) == lay.fields and set(rec) | set(absent) == RECORD_FIELDS and not set(rec) & set(absent)
        assert set(absent) == set(QUESTIONS) - set(lay.questions)
        assert re.fullmatch(r"\d{3}-\d{4}", rec["postal_code"]) and re.fullmatch(r"\d{7}", rec["recipient_number"])
        assert valid_my_number(rec["my_number"]) and re.fullmatch(r"[\d-]+", rec["phone"])
        for key in ("recipient_birth_date", "submission_date"):
            date.fromisoformat(rec[key])
        assert rec["pension_type"] in lay.pension_options and rec["addressed_to"].endswith(("市長", "町長"))
        assert 1 <= len(rec["children"]) <= 4
        for child in rec["children"]:
            assert set(child) == {"name", "birth_date", "relation", "lives_together"} and isinstance(child["lives_together"], bool)
        assert all(isinstance(rec[q], bool) for q in lay.questions)
    assert any(line["absent"] for line in lines)


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_arguments_same_files(tmp_path: Path) -> None:
    for name in ("a", "b"):
        generate(tmp_path / name, 2, split="heldout", seed=11, degrade=True)
    assert _hashes(tmp_path / "a") == _hashes(tmp_path / "b")
    generate(tmp_path / "c", 1, split="heldout", seed=12, degrade=False)
    assert _hashes(tmp_path / "a")["truth.jsonl"] != _hashes(tmp_path / "c")["truth.jsonl"]


def test_families_must_belong_to_the_split(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path, 1, split="heldout", seed=0, families=[3])


def test_cli(tmp_path: Path) -> None:
    assert main([str(tmp_path / "blank.png"), "--blank", "1004"]) == 0
    assert (tmp_path / "blank.png").exists()
    assert main([str(tmp_path / "set"), "--split", "tuning", "--count", "1", "--seed", "2", "--no-degrade"]) == 0
    assert len((tmp_path / "set" / "truth.jsonl").read_text(encoding="utf-8").splitlines()) == 1
