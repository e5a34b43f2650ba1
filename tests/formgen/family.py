"""A family: one municipality's layout of the 児童手当 現況届, drawn from its id.

Arrangement axes are assigned by construction so that every option occurs in both splits
(the identity arrangement cycles with the id, the others follow a fixed per-split
permutation); everything else (wording, order, sizes, colours, fonts) is drawn from
``random.Random(family_id)``.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ocr.generate import FILL_FONTS, FONT_DIR, MAYORS, PENSIONS, PLACES, PRINT_FONT

from tests.formgen.geometry import Sheet

Split = Literal["tuning", "heldout"]
Colour = tuple[int, int, int]
SPLIT_BASE: dict[Split, int] = {"tuning": 0, "heldout": 1000}
FAMILIES_PER_SPLIT = 50

ARRANGEMENTS: dict[str, tuple[str, ...]] = {
    "identity": ("label_left", "label_pairs", "label_inside", "label_above"),
    "children": ("row_table", "column_table", "cards"),
    "pension": ("tick_boxes", "circle"),
    "questions": ("yes_no", "statement_tick"),
    "my_number": ("plain", "digit_boxes"),
    "postal_code": ("plain", "digit_boxes", "in_address"),
    "dates": ("written", "preprinted"),
    "lives_together": ("tick_box", "options"),
    "addressed_to": ("cell", "line"),
    "header": ("top", "bottom"),
    "shading": ("none", "grey", "colour"),
    "stamp": ("none", "stamp"),
    "scan": ("grey", "colour"),
}

IDENTITY_FIELDS = ("recipient_number", "recipient_kana", "recipient_name", "recipient_birth_date", "postal_code", "address", "phone",
                   "my_number", "spouse_name")
QUESTIONS = ("supervision_confirmed", "livelihood_confirmed", "in_facility", "resides_in_japan", "living_apart_from_spouse")
OLD_STYLE_QUESTIONS = ("supervision_confirmed", "livelihood_confirmed")

LABELS: dict[str, tuple[str, ...]] = {
    "recipient_number": ("受給者番号", "受給者No."),
    "recipient_name": ("受給者氏名", "請求者氏名", "氏名（受給者）", "受給者の氏名"),
    "recipient_kana": ("フリガナ", "ふりがな"),
    "recipient_birth_date": ("生年月日", "受給者生年月日"),
    "postal_code": ("郵便番号", "〒"),
    "address": ("住所", "現住所", "住所（居住地）"),
    "phone": ("電話番号", "連絡先電話番号", "連絡先"),
    "my_number": ("個人番号", "マイナンバー", "個人番号（マイナンバー）"),
    "spouse_name": ("配偶者氏名", "配偶者の氏名"),
    "submission_date": ("提出日", "届出日", "提出年月日", "記入日"),
    "addressed_to": ("宛先", "あて先"),
    "pension_type": ("年金の種類", "加入年金", "加入している年金制度"),
}
CHILD_LABELS: dict[str, tuple[str, ...]] = {
    "name": ("児童氏名", "氏名", "児童の氏名"),
    "birth_date": ("生年月日",),
    "relation": ("続柄",),
    "lives_together": ("同居", "同別居", "同居・別居"),
}
QUESTION_TEXT: dict[str, tuple[str, ...]] = {
    "supervision_confirmed": ("上記の児童を監護していますか", "あなたは上記の児童を監護していますか", "児童を監護していますか"),
    "livelihood_confirmed": ("上記の児童と生計を同じくしていますか", "児童と生計が同一ですか"),
    "in_facility": ("児童は施設に入所していますか", "児童は児童福祉施設等に入所していますか"),
    "resides_in_japan": ("児童は日本国内に住所がありますか", "児童は国内に居住していますか"),
    "living_apart_from_spouse": ("配偶者と別居していますか", "配偶者と別居（単身赴任等）していますか"),
}
# Old style: a label cell, one tick box, a statement (only these two exist on old forms).
STATEMENTS: dict[str, tuple[tuple[str, str], ...]] = {
    "supervision_confirmed": (("監護の確認", "上記の児童を監護しています"), ("監護", "児童を監護している"),
                              ("監護の状況", "上記の児童を監護している")),
    "livelihood_confirmed": (("生計同一の確認", "上記の児童と生計を同じくしています"), ("生計同一", "児童と生計を同じくしている"),
                             ("生計の状況", "上記の児童と生計が同一である")),
}
TITLES = ("児童手当 現況届", "児童手当・特例給付 現況届", "児童手当 現況届（受給者用）", "児童手当現況届")
FORM_NUMBERS = ("様式第3号", "様式第3号（第4条関係）", "様式第5号", "第3号様式")
HEADINGS: dict[str, tuple[str, ...]] = {
    "identity": ("受給者について", "受給者", "受給者（請求者）の状況", "請求者"),
    "children": ("監護している児童", "対象児童", "対象となる児童", "児童の状況"),
    "pension": ("年金の加入状況", "加入年金", "年金"),
    "questions": ("確認事項", "次の事項について該当するものに印をつけてください", "現況の確認"),
}
DECLARATIONS = ("上記のとおり届け出ます。", "上記のとおり現況を届け出ます。", "記載事項に相違ありません。")
NOTES = ("※ この届は、毎年6月1日の状況を記入し、6月30日までに提出してください。",
         "※ 提出がない場合、6月分以降の手当が受けられなくなることがあります。",
         "※ 個人番号の記入に当たっては、番号確認及び身元確認を行います。",
         "※ 記入事項に変更があった場合は、速やかに届け出てください。",
         "※ 偽りその他不正の手段により手当を受けた場合は、返還を求めることがあります。")
OFFICE_CELLS = ("受付", "審査", "入力", "決裁", "備考", "確認")
SHADES: tuple[Colour, ...] = ((255, 236, 236), (230, 242, 255), (234, 247, 230), (255, 246, 222))
FORM_INKS: tuple[Colour, ...] = ((0, 0, 0), (0, 0, 0), (25, 45, 125), (20, 90, 55), (105, 65, 30))
VALUE_INKS: tuple[Colour, ...] = ((15, 15, 20), (25, 45, 165))
PRINT_FONTS = (PRINT_FONT, FONT_DIR / "ipaexfont-mincho/ipaexm.ttf", FONT_DIR / "ipafont-gothic/ipag.ttf", FONT_DIR / "noto/NotoSansCJK-Regular.ttc")
BODY_SECTIONS = ("identity", "children", "pension", "questions")


@dataclass(frozen=True)
class FamilyLayout:
    """Every choice of one family; ``str()`` of it says what the family is (``sheet`` is the geometry)."""
    family_id: int
    split: Split
    city: str
    arrangement: dict[str, str]
    identity_order: tuple[str, ...]  # identity fields in reading order (packed into rows by width in draw)
    labels: dict[str, str]
    child_labels: dict[str, str]
    child_columns: tuple[str, ...]  # row_table column order
    card_labels: Literal["left", "inside"]
    sections: tuple[str, ...]  # body sections top to bottom
    questions: tuple[str, ...]
    question_text: dict[str, str]
    statements: dict[str, tuple[str, str]]  # old-style questions: (label, statement)
    pension_options: tuple[str, ...]
    title: str
    title_centered: bool
    form_number: str
    form_number_right: bool
    headings: dict[str, str]
    numbered_headings: bool
    declaration: str
    notes: tuple[str, ...]
    notes_at_top: bool
    office_cells: tuple[str, ...]  # empty: no office-use box
    shade: Colour | None
    form_ink: Colour
    value_ink: Colour
    print_font: Path
    fill_font: Path
    mark: Literal["tick", "cross", "fill"]
    stamp_shape: Literal["circle", "rect"]
    line_width: int
    row_height: int
    label_size: int
    value_size: int
    margin: int
    gap: int
    sheet: Sheet = field(default_factory=Sheet, repr=False, compare=False)

    @property
    def fields(self) -> set[str]:
        """The record keys this family's form prints."""
        return self.sheet.fields()

    def describe(self) -> str:
        arr = ", ".join(f"{k}={v}" for k, v in self.arrangement.items())
        rows = " / ".join(" | ".join(self.labels[f] for f in row) for row in self.sheet.identity_rows)
        return (f"family {self.family_id} ({self.split}, {self.city}): {arr}\n  title {self.title!r}, sections {self.sections}\n"
                f"  identity rows: {rows}\n  questions: {self.questions}\n  fonts {self.print_font.name}/{self.fill_font.name}, "
                f"ink {self.form_ink}/{self.value_ink}, shade {self.shade}, row {self.row_height}px")

    def __str__(self) -> str:
        return self.describe()


def split_of(family_id: int) -> Split:
    for split, base in SPLIT_BASE.items():
        if base <= family_id < base + FAMILIES_PER_SPLIT:
            return split
    raise ValueError(f"family {family_id} is in no split (tuning 0..49, heldout 1000..1049)")


def split_families(split: Split) -> list[int]:
    return list(range(SPLIT_BASE[split], SPLIT_BASE[split] + FAMILIES_PER_SPLIT))


def arrangement_of(family_id: int) -> dict[str, str]:
    """Axis -> option. Per split, each axis runs through its options over a fixed permutation
    of the 50 families, so every option occurs in both splits whatever else is drawn."""
    split = split_of(family_id)
    idx = family_id - SPLIT_BASE[split]
    out: dict[str, str] = {}
    for axis, options in ARRANGEMENTS.items():
        if axis == "identity":
            out[axis] = options[idx % len(options)]
            continue
        perm = random.Random(f"formgen/{split}/{axis}").sample(range(FAMILIES_PER_SPLIT), FAMILIES_PER_SPLIT)
        out[axis] = options[perm[idx] % len(options)]
    return out


def _identity_order(rng: random.Random, arrangement: dict[str, str]) -> tuple[str, ...]:
    """Order of the identity fields; rows are packed later by width (see draw)."""
    in_address = arrangement["postal_code"] == "in_address"
    groups: list[list[str]] = [["recipient_kana", "recipient_name"], ["recipient_birth_date"], ["phone"], ["my_number"], ["spouse_name"]]
    if in_address:
        groups.append(["address"])
    elif rng.random() < 0.8:
        groups.append(["postal_code", "address"])
    else:
        groups += [["postal_code"], ["address"]]
    rng.shuffle(groups)
    # The recipient number usually heads the block (it is what the office files by).
    groups.insert(0 if rng.random() < 0.6 else rng.randint(0, len(groups)), ["recipient_number"])
    return tuple(f for g in groups for f in g)


def _draw_choices(family_id: int) -> FamilyLayout:
    rng = random.Random(family_id)
    arrangement = arrangement_of(family_id)
    city = rng.choice(PLACES)[0]
    labels = {k: rng.choice(v) for k, v in LABELS.items()}
    if arrangement["postal_code"] == "in_address":
        labels["address"] = rng.choice(("住所", "現住所"))
    n_questions = rng.randint(1, len(QUESTIONS))
    questions = [q for q in QUESTIONS if q in rng.sample(QUESTIONS, n_questions)]
    if arrangement["questions"] == "statement_tick" and not set(questions) & set(OLD_STYLE_QUESTIONS):
        questions.insert(0, rng.choice(OLD_STYLE_QUESTIONS))
    columns = ["name", "birth_date", "relation", "lives_together"]
    rng.shuffle(columns)
    if rng.random() < 0.6:  # most tables start with the name
        columns.remove("name")
        columns.insert(0, "name")
    body = list(BODY_SECTIONS)
    rng.shuffle(body)
    if rng.random() < 0.7:  # the recipient usually comes first
        body.remove("identity")
        body.insert(0, "identity")
    shading = arrangement["shading"]
    shade: Colour | None = None if shading == "none" else (rng.choice(((236, 236, 236), (228, 228, 228))) if shading == "grey" else rng.choice(SHADES))
    form_ink = rng.choice(FORM_INKS)
    n_notes = rng.randint(0, 3)
    return FamilyLayout(
        family_id=family_id, split=split_of(family_id), city=city, arrangement=arrangement,
        identity_order=_identity_order(rng, arrangement), labels=labels,
        child_labels={k: rng.choice(v) for k, v in CHILD_LABELS.items()}, child_columns=tuple(columns),
        card_labels=rng.choice(("left", "inside")), sections=tuple(body), questions=tuple(questions),
        question_text={q: rng.choice(QUESTION_TEXT[q]) for q in questions},
        statements={q: rng.choice(STATEMENTS[q]) for q in OLD_STYLE_QUESTIONS},
        pension_options=tuple(rng.sample(PENSIONS, len(PENSIONS))),
        title=rng.choice(TITLES), title_centered=rng.random() < 0.7,
        form_number=rng.choice(FORM_NUMBERS), form_number_right=rng.random() < 0.4,
        headings={k: rng.choice(v) for k, v in HEADINGS.items()}, numbered_headings=rng.random() < 0.5,
        declaration=rng.choice(DECLARATIONS), notes=tuple(rng.sample(NOTES, n_notes)), notes_at_top=rng.random() < 0.3,
        office_cells=tuple(rng.sample(OFFICE_CELLS, rng.randint(3, 5))) if rng.random() < 0.7 else (),
        shade=shade, form_ink=form_ink, value_ink=rng.choice(VALUE_INKS),
        print_font=rng.choice(PRINT_FONTS), fill_font=rng.choice(FILL_FONTS),
        mark=rng.choice(("tick", "cross", "fill")), stamp_shape=rng.choice(("circle", "rect")),
        line_width=rng.choice((2, 3, 3, 4)), row_height=rng.randint(112, 136), label_size=rng.randint(34, 40),
        value_size=rng.randint(44, 52), margin=rng.randint(150, 210), gap=rng.randint(50, 70),
    )


def mayor_of(layout: FamilyLayout) -> str:
    return MAYORS[layout.city]
