"""Layout-agnostic binding (ocr/bind.py) on the generator's TUNING families, one arrangement at a
time, clean renders read end to end with real Tesseract. The held-out families are measured by
bench/ocr_bench.py only, never asserted here (tests are tuning)."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import ImageDraw

from ocr import read_document
from ocr.results import Doubt, FieldState
from tests.formgen import family_layout, render_form, split_families

# (section, arrangement, the record fields that arrangement decides)
CASES = [
    ("identity", "label_inside", ["recipient_name", "recipient_kana", "phone"]),
    ("identity", "label_left", ["recipient_name", "recipient_kana", "phone"]),
    ("identity", "label_above", ["recipient_name", "phone"]),
    ("my_number", "digit_boxes", ["my_number"]),
    ("postal_code", "digit_boxes", ["postal_code"]),
    ("pension", "tick_boxes", ["pension_type"]),
    ("pension", "circle", ["pension_type"]),
    ("questions", "yes_no", ["in_facility", "resides_in_japan", "living_apart_from_spouse"]),
    ("children", "row_table", ["children.name", "children.relation"]),
    ("children", "column_table", ["children.name", "children.relation"]),
    ("children", "cards", ["children.name", "children.birth_date"]),
    ("dates", "preprinted", ["recipient_birth_date", "submission_date"]),
    ("postal_code", "in_address", ["postal_code", "address"]),
    ("lives_together", "options", ["children.lives_together"]),
]


def _family(section: str, arrangement: str) -> int:
    return next(f for f in split_families("tuning") if family_layout(f).arrangement.get(section) == arrangement)


def _cells(form, rec: dict, key: str) -> list[tuple[object, object, object]]:
    """(read value, true value, FieldResult) for the field, or for each child's cell of a column."""
    if key.startswith("children."):
        col = key.split(".", 1)[1]
        rows = form.fields["children"].rows or []
        return [(rows[i][col].value if i < len(rows) else None, child[col], rows[i][col] if i < len(rows) else None)
                for i, child in enumerate(rec["children"])]
    return [(form.fields[key].value, rec[key], form.fields[key])]


@pytest.mark.parametrize(("section", "arrangement", "keys"), CASES)
def test_each_arrangement_binds_its_fields(section: str, arrangement: str, keys: list[str], label_templates, tmp_path: Path):
    """Each field of the arrangement is found, and read right or flagged: never silently wrong,
    never 'not found' (the reading itself is measured in bench/ocr_bench.py)."""
    fid = _family(section, arrangement)
    img, rec, absent = render_form(fid, random.Random(fid))
    img.save(tmp_path / "form.png", dpi=(300, 300))
    form = read_document(tmp_path / "form.png", label_templates, memory=None).forms[0]
    assert form.template == "genkyo_todoke"
    right = total = 0
    for key in keys:
        if key.split(".")[0] in absent:
            continue
        for got, want, fr in _cells(form, rec, key):
            where = f"family {fid} ({family_layout(fid).arrangement}): {key}"
            assert fr is not None and Doubt.not_found not in fr.reasons, f"{where} not found"
            assert got == want or fr.doubtful, f"{where}: {got!r} for {want!r}, not flagged"
            right, total = right + (got == want), total + 1
    assert right >= total / 2, f"family {fid}: only {right} of {total} read right"


def test_a_question_the_layout_does_not_ask_is_absent_and_left_out_of_the_record(label_templates, tmp_path: Path):
    fid = next(f for f in split_families("tuning") if "in_facility" not in family_layout(f).questions)
    img, rec, absent = render_form(fid, random.Random(fid))
    assert "in_facility" in absent
    img.save(tmp_path / "form.png", dpi=(300, 300))
    form = read_document(tmp_path / "form.png", label_templates, memory=None).forms[0]
    assert form.fields["in_facility"].state == FieldState.absent
    assert not form.fields["in_facility"].doubtful
    assert "in_facility" not in form.record()


def test_an_unfound_question_is_unread_and_flagged_never_no(label_templates, tmp_path: Path):
    """A form that asks the question but whose tick boxes are gone (cut off by the scan) must not say 'no'."""
    fid = _family("questions", "yes_no")
    img, rec, absent = render_form(fid, random.Random(fid))
    assert "resides_in_japan" in rec
    # Whiten the right fifth of the page, where the はい/いいえ boxes of this family sit.
    ImageDraw.Draw(img).rectangle([int(img.width * 0.72), 0, img.width, img.height], fill=(255, 255, 255))
    img.save(tmp_path / "form.png", dpi=(300, 300))
    form = read_document(tmp_path / "form.png", label_templates, memory=None).forms[0]
    fr = form.fields["resides_in_japan"]
    assert fr.value is None and fr.state == FieldState.unread and fr.doubtful


@pytest.mark.parametrize(("texts", "ticked", "want"), [
    (["口はぃ", "いいぇ"], 0, True),  # glyph noise and small kana as the layout pass reads them
    (["はい", "いぃぇ"], 1, False),
    (["紹い", "いいえ"], 0, True),  # unreadable yes: the position says, and the field is flagged
])
def test_a_two_box_answer_is_read_from_the_text_beside_the_ticked_box(texts: list[str], ticked: int, want: bool):
    import numpy as np

    from ocr.fields import checkbox_field
    from ocr.grid import Cell
    from ocr.locate import Target

    bw = np.zeros((200, 600), np.uint8)
    squares = [Cell(20, 50, 40, 40), Cell(300, 50, 40, 40)]
    sq = squares[ticked]
    bw[sq.y + 8: sq.y + sq.h - 8, sq.x + 8: sq.x + sq.w - 8] = 255  # a filled tick
    target = Target(box=Cell(0, 0, 600, 200), squares=squares, options=texts)
    fr = checkbox_field("q", "質問", bw, target, 0, (["はい"], ["いいえ"]))
    assert fr.value is want
    assert fr.doubtful == (texts[0] == "紹い")
