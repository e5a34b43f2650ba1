"""Generator of realistic test scans of the 児童手当 現況届 with ground truth.

Two layout variants of the same form (different order, wording, cell sizes, one box per
digit for the My Number in ``b``) are filled with plausible values in a handwriting-like
printed font with jitter, rendered at 300 dpi and degraded like real scans. Ground truth
goes to ``truth.jsonl`` with the exact record keys of the scenario contract. A third layout,
``c``, is drawn only when asked for: it is kept out of every set the readers are tuned on, so
that it checks how the template does on a layout it has never seen.
"""
from __future__ import annotations

import io
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ocr.values import my_number_check_digit, to_wareki

A4 = (2480, 3508)  # 300 dpi
FONT_DIR = Path("/usr/share/fonts/opentype")
PRINT_FONT = FONT_DIR / "ipaexfont-gothic/ipaexg.ttf"
# Fill-in fonts differ from the printed one so values look like a different hand.
FILL_FONTS = [FONT_DIR / "noto/NotoSansCJK-Regular.ttc", FONT_DIR / "ipaexfont-mincho/ipaexm.ttf", FONT_DIR / "ipafont-gothic/ipag.ttf"]

SURNAMES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"), ("渡辺", "ワタナベ"),
            ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
            ("丸山", "マルヤマ"), ("宮沢", "ミヤザワ"), ("小松", "コマツ"), ("北沢", "キタザワ"), ("滝沢", "タキザワ"), ("清水", "シミズ"),
            ("池田", "イケダ"), ("竹内", "タケウチ"), ("土屋", "ツチヤ"), ("柳沢", "ヤナギサワ"), ("原", "ハラ"), ("松本", "マツモト")]
MALE = [("太郎", "タロウ"), ("健一", "ケンイチ"), ("大輔", "ダイスケ"), ("翔太", "ショウタ"), ("直樹", "ナオキ"), ("誠", "マコト"),
        ("拓也", "タクヤ"), ("和也", "カズヤ"), ("蓮", "レン"), ("悠真", "ユウマ"), ("陽翔", "ハルト"), ("湊", "ミナト")]
FEMALE = [("花子", "ハナコ"), ("陽子", "ヨウコ"), ("美咲", "ミサキ"), ("由美", "ユミ"), ("恵", "メグミ"), ("真由美", "マユミ"),
          ("彩", "アヤ"), ("結衣", "ユイ"), ("陽菜", "ヒナ"), ("葵", "アオイ"), ("凛", "リン"), ("芽依", "メイ")]
# (city, postal prefix, area code, towns)
PLACES = [("長野市", "380", "026", ["鶴賀", "南長野", "西後町", "若里", "三輪", "吉田", "篠ノ井布施高田", "松代町松代"]),
          ("松本市", "390", "0263", ["中央", "深志", "島立", "寿北", "里山辺"]),
          ("上田市", "386", "0268", ["材木町", "常田", "中央", "大手"]),
          ("上高井郡小布施町", "381", "026", ["小布施", "雁田", "大島"]),
          ("飯田市", "395", "0265", ["本町", "江戸町", "松尾町"]),
          ("佐久市", "385", "0267", ["中込", "岩村田", "野沢"])]
MAYORS = {"長野市": "長野市長", "松本市": "松本市長", "上田市": "上田市長", "上高井郡小布施町": "小布施町長", "飯田市": "飯田市長", "佐久市": "佐久市長"}
PENSIONS = ["厚生年金", "国民年金", "共済組合"]


# ----------------------------------------------------------------------------- values

def _my_number(rng: random.Random) -> str:
    body = "".join(str(rng.randint(0, 9)) for _ in range(11))
    return body + str(my_number_check_digit(body))


def _date_between(rng: random.Random, a: date, b: date) -> date:
    return a + timedelta(days=rng.randint(0, (b - a).days))


def random_record(rng: random.Random) -> dict[str, Any]:
    sur, sur_k = rng.choice(SURNAMES)
    female = rng.random() < 0.5
    given, given_k = rng.choice(FEMALE if female else MALE)
    city, postal3, area, towns = rng.choice(PLACES)
    birth = _date_between(rng, date(1975, 1, 1), date(2001, 12, 31))
    submission = _date_between(rng, date(2024, 6, 1), date(2025, 6, 30))
    children = []
    counts = {"男": 0, "女": 0}
    order = ["長", "次", "三"]
    n_children = rng.choice([1, 1, 2, 2, 3])
    child_birth = _date_between(rng, max(birth + timedelta(days=365 * 20), date(2007, 4, 2)), date(2023, 12, 31))
    for _ in range(n_children):
        sex = rng.choice(["男", "女"])
        cg, _k = rng.choice(MALE if sex == "男" else FEMALE)
        children.append({"name": f"{sur} {cg}", "birth_date": child_birth.isoformat(),
                         "relation": f"{order[counts[sex]]}{sex}", "lives_together": rng.random() < 0.9})
        counts[sex] += 1
        child_birth = min(child_birth + timedelta(days=rng.randint(400, 1500)), date(2024, 5, 31))
    spouse = ""
    if rng.random() < 0.8:
        sg, _k = rng.choice(MALE if female else FEMALE)
        spouse = f"{sur} {sg}"
    if area == "026":
        phone = f"026-{rng.randint(200, 299)}-{rng.randint(0, 9999):04d}"
    elif rng.random() < 0.3:
        phone = f"0{rng.choice([7, 8, 9])}0-{rng.randint(1000, 9999)}-{rng.randint(0, 9999):04d}"
    else:
        phone = f"{area}-{rng.randint(10, 99)}-{rng.randint(0, 9999):04d}"
    return {
        "recipient_number": f"{rng.randint(0, 9999999):07d}",
        "recipient_name": f"{sur} {given}",
        "recipient_kana": f"{sur_k} {given_k}",
        "recipient_birth_date": birth.isoformat(),
        "postal_code": f"{postal3}-{rng.randint(0, 9999):04d}",
        "address": f"長野県{city}{rng.choice(towns)}{rng.randint(1, 30)}丁目{rng.randint(1, 40)}番{rng.randint(1, 20)}号",
        "phone": phone,
        "my_number": _my_number(rng),
        "spouse_name": spouse,
        "children": children,
        "pension_type": rng.choice(PENSIONS),
        "supervision_confirmed": rng.random() < 0.93,
        "livelihood_confirmed": rng.random() < 0.93,
        "submission_date": submission.isoformat(),
        "addressed_to": MAYORS[city],
    }


# ----------------------------------------------------------------------------- drawing

_font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    key = (str(path), size)
    if key not in _font_cache:
        _font_cache[key] = ImageFont.truetype(str(path), size, index=0)
    return _font_cache[key]


@dataclass
class Pen:
    draw: ImageDraw.ImageDraw
    rng: random.Random
    fill_font: Path

    def rect(self, x: int, y: int, w: int, h: int, width: int = 3) -> None:
        self.draw.rectangle([x, y, x + w, y + h], outline=0, width=width)

    def label(self, x: int, y: int, w: int, h: int, text: str, size: int = 40, shade: bool = True) -> None:
        if shade:
            self.draw.rectangle([x, y, x + w, y + h], fill=235)
        self.rect(x, y, w, h)
        f = _font(PRINT_FONT, size)
        tw = self.draw.textlength(text, font=f)
        self.draw.text((x + max(12, (w - tw) / 2), y + (h - size) / 2 - 4), text, font=f, fill=0)

    def value(self, x: int, y: int, w: int, h: int, text: str, size: int = 46, box: bool = True) -> None:
        if box:
            self.rect(x, y, w, h)
        if not text:
            return
        size = size + self.rng.randint(-4, 4)
        f = _font(self.fill_font, size)
        while self.draw.textlength(text, font=f) > w - 40 and size > 24:
            size -= 2
            f = _font(self.fill_font, size)
        jx, jy = self.rng.randint(10, 40), self.rng.randint(-6, 6)
        # Slight per-character baseline jitter: a hand is never on a perfect line.
        cx = x + jx
        for ch in text:
            self.draw.text((cx, y + (h - size) / 2 - 6 + jy + self.rng.randint(-2, 2)), ch, font=f, fill=self.rng.randint(0, 40))
            cx += self.draw.textlength(ch, font=f) + self.rng.choice([0, 0, 1, 2])

    def checkbox(self, x: int, y: int, checked: bool, size: int = 40) -> None:
        self.draw.rectangle([x, y, x + size, y + size], outline=0, width=3)
        if checked:
            j = self.rng.randint
            style = self.rng.choice(["tick", "cross", "fill"])
            if style == "tick":
                self.draw.line([(x + 6 + j(-3, 3), y + size // 2), (x + size // 2, y + size - 6), (x + size + 8, y - 10 + j(-4, 4))], fill=0, width=7)
            elif style == "cross":
                self.draw.line([(x + 5, y + 5), (x + size - 5, y + size - 5)], fill=0, width=6)
                self.draw.line([(x + size - 5, y + 5), (x + 5, y + size - 5)], fill=0, width=6)
            else:
                self.draw.rectangle([x + 7, y + 7, x + size - 7, y + size - 7], fill=20)

    def options(self, x: int, y: int, h: int, options: Sequence[str], chosen: str, gap: int = 90) -> None:
        f = _font(PRINT_FONT, 40)
        cx = x + 30
        for opt in options:
            self.checkbox(cx, y + (h - 40) // 2, opt == chosen)
            self.draw.text((cx + 60, y + (h - 40) / 2 - 4), opt, font=f, fill=0)
            cx += 60 + int(self.draw.textlength(opt, font=f)) + gap

    def text(self, x: int, y: int, text: str, size: int = 40) -> None:
        self.draw.text((x, y), text, font=_font(PRINT_FONT, size), fill=0)


_CHILD_COLUMN = {"児童氏名": "name", "氏名": "name", "児童の氏名": "name", "生年月日": "birth_date", "続柄": "relation",
                 "同居": "lives_together", "同別居": "lives_together"}


def _children_table(pen: Pen, rec: dict[str, Any], x0: int, y: int, rh: int, cols: list[tuple[str, int]], *, shade: bool) -> int:
    """Header row plus three rows (unused ones blank); returns the y below the table."""
    cx = x0
    for lab, w in cols:
        pen.label(cx, y, w, rh, lab, size=40 if shade else 38, shade=shade)
        cx += w
    y += rh
    for child in list(rec["children"]) + [None] * (3 - len(rec["children"])):
        cx = x0
        for lab, w in cols:
            key = _CHILD_COLUMN[lab]
            v = None if child is None else child[key]
            if key == "lives_together":
                pen.rect(cx, y, w, rh)
                pen.checkbox(cx + w // 2 - 20, y + rh // 2 - 20, bool(v))
            else:
                pen.value(cx, y, w, rh, "" if v is None else (to_wareki(date.fromisoformat(v)) if key == "birth_date" else v))
            cx += w
        y += rh
    return y


def _choice_row(pen: Pen, x0: int, y: int, rh: int, label: tuple[str, int, int], vw: int, options: Sequence[str], chosen: str,
                gap: int, *, shade: bool) -> None:
    """A label (text, width, font size) and a cell of tick boxes, one per option."""
    text, lw, size = label
    pen.label(x0, y, lw, rh, text, size=size, shade=shade)
    pen.rect(x0 + lw, y, vw, rh)
    pen.options(x0 + lw, y, rh, options, chosen, gap=gap)


def _check_rows(pen: Pen, x0: int, y: int, rh: int, lw: int, vw: int, rec: dict[str, Any], rows: list[tuple[str, str]], size: int,
                *, shade: bool) -> None:
    """The supervision and livelihood confirmations: (label, statement) rows, each a tick box."""
    for (label, statement), key in zip(rows, ("supervision_confirmed", "livelihood_confirmed")):
        pen.label(x0, y, lw, rh, label, size=size, shade=shade)
        pen.rect(x0 + lw, y, vw, rh)
        pen.checkbox(x0 + lw + 30, y + rh // 2 - 20, rec[key])
        pen.text(x0 + lw + 100, y + rh // 2 - 24, statement, size=size)
        y += rh


def draw_variant_a(rec: dict[str, Any], pen: Pen) -> None:
    """The project's own 現況届: one label column on the left, values to the right."""
    x0, lw, vw, rh = 160, 520, 1640, 120
    pen.text(820, 150, "児童手当 現況届", size=80)
    y = 330
    # Top row: 宛先 | value | 提出日 | value
    pen.label(x0, y, 300, rh, "宛先")
    pen.value(x0 + 300, y, 700, rh, rec["addressed_to"])
    pen.label(x0 + 1000, y, 300, rh, "提出日")
    pen.value(x0 + 1300, y, 860, rh, to_wareki(date.fromisoformat(rec["submission_date"])))
    y += rh + 60
    pen.text(x0, y, "受給者について記入してください", size=40)
    y += 70
    rows: list[tuple[str, str]] = [
        ("受給者番号", rec["recipient_number"]),
        ("フリガナ", rec["recipient_kana"]),
        ("受給者氏名", rec["recipient_name"]),
        ("生年月日", to_wareki(date.fromisoformat(rec["recipient_birth_date"]))),
        ("郵便番号", rec["postal_code"]),
        ("住所", rec["address"]),
        ("電話番号", rec["phone"]),
        ("個人番号", rec["my_number"]),
        ("配偶者氏名", rec["spouse_name"]),
    ]
    for lab, val in rows:
        pen.label(x0, y, lw, rh, lab)
        pen.value(x0 + lw, y, vw, rh, val)
        y += rh
    _choice_row(pen, x0, y, rh, ("年金の種類", lw, 40), vw, PENSIONS, rec["pension_type"], 90, shade=True)
    y += rh + 60
    pen.text(x0, y, "監護している児童", size=40)
    y += 70
    cols = [("児童氏名", 700), ("生年月日", 720), ("続柄", 380), ("同居", 360)]
    y = _children_table(pen, rec, x0, y, rh, cols, shade=True)
    y += 60
    _check_rows(pen, x0, y, rh, lw, vw, rec, [("監護の確認", "上記の児童を監護しています"), ("生計同一の確認", "上記の児童と生計を同じくしています")],
                40, shade=True)


def _label_value_rows(pen: Pen, x0: int, y: int, rh: int, rows: list[list[tuple[str, int, str, int]]], *, shade: bool) -> int:
    """Rows of (label, label width, value, value width) pairs side by side; returns the y below them."""
    for row in rows:
        cx = x0
        for lab, lw, val, vw in row:
            pen.label(cx, y, lw, rh, lab, size=38, shade=shade)
            pen.value(cx + lw, y, vw, rh, val)
            cx += lw + vw
        y += rh
    return y


def _digit_boxes(pen: Pen, x0: int, y: int, rh: int, label: tuple[str, int, int], digits: str, width: int, size: int,
                 *, shade: bool) -> None:
    """A label (text, width, font size) and one box per digit across *width*."""
    text, lw, label_size = label
    pen.label(x0, y, lw, rh, text, size=label_size, shade=shade)
    bw = width // len(digits)
    for i, ch in enumerate(digits):
        pen.value(x0 + lw + i * bw, y, bw, rh, ch, size=size)


def draw_variant_b(rec: dict[str, Any], pen: Pen) -> None:
    """Another municipality's layout: pairs per row, other wording, one box per digit."""
    x0, rh = 200, 140
    pen.text(x0, 170, "児童手当・特例給付 現況届", size=72)
    y = 360
    pen.label(x0, y, 320, rh, "提出日", shade=False)
    pen.value(x0 + 320, y, 760, rh, to_wareki(date.fromisoformat(rec["submission_date"])))
    pen.label(x0 + 1080, y, 260, rh, "宛先", shade=False)
    pen.value(x0 + 1340, y, 740, rh, rec["addressed_to"])
    y += rh + 80
    pairs = [
        [("請求者氏名", 360, rec["recipient_name"], 700), ("受給者番号", 340, rec["recipient_number"], 680)],
        [("フリガナ", 360, rec["recipient_kana"], 1720)],
        [("生年月日", 360, to_wareki(date.fromisoformat(rec["recipient_birth_date"])), 700), ("郵便番号", 340, rec["postal_code"], 680)],
        [("現住所", 360, rec["address"], 1720)],
        [("連絡先電話番号", 360, rec["phone"], 700), ("配偶者の氏名", 340, rec["spouse_name"], 680)],
    ]
    y = _label_value_rows(pen, x0, y, rh, pairs, shade=False)
    # マイナンバー: one box per digit.
    _digit_boxes(pen, x0, y, rh, ("マイナンバー", 360, 38), rec["my_number"], 1720, 54, shade=False)
    y += rh + 80
    pen.text(x0, y, "対象児童", size=40)
    y += 70
    cols = [("続柄", 300), ("氏名", 760), ("生年月日", 700), ("同居", 320)]
    y = _children_table(pen, rec, x0, y, rh, cols, shade=False)
    y += 80
    _choice_row(pen, x0, y, rh, ("加入年金", 420, 38), 1660, ["国民年金", "厚生年金", "共済組合"], rec["pension_type"], 120, shade=False)
    _check_rows(pen, x0, y + rh, rh, 420, 1660, rec, [("監護", "児童を監護している"), ("生計同一", "児童と生計を同じくしている")], 38,
                shade=False)


def draw_variant_c(rec: dict[str, Any], pen: Pen) -> None:
    """A third municipality's layout, kept out of every tuning set (``generate_set`` draws a and b
    unless asked): other synonyms of every label (氏名（受給者）, ふりがな, 〒, 連絡先, 届出日, あて先,
    児童の氏名, 同別居, 加入している年金, 監護の状況), other pairings and widths, the children's columns
    in another order, the options in another order. Tests read it to check that the template
    generalises beyond the two layouts it was tuned on."""
    x0, rh = 180, 130
    pen.text(x0, 160, "児童手当 現況届（受給者用）", size=64)
    top = [("あて先", 260, rec["addressed_to"], 680), ("届出日", 260, to_wareki(date.fromisoformat(rec["submission_date"])), 920)]
    y = _label_value_rows(pen, x0, 320, rh, [top], shade=True) + 70
    pen.text(x0, y, "1 受給者", size=44)
    y += 70
    pairs = [
        [("ふりがな", 340, rec["recipient_kana"], 1780)],
        [("氏名（受給者）", 340, rec["recipient_name"], 820), ("受給者生年月日", 360, to_wareki(date.fromisoformat(rec["recipient_birth_date"])), 600)],
        [("〒", 120, rec["postal_code"], 420), ("住所", 200, rec["address"], 1380)],
        [("連絡先", 340, rec["phone"], 820), ("受給者番号", 360, rec["recipient_number"], 600)],
        [("配偶者氏名", 340, rec["spouse_name"], 1780)],
    ]
    y = _label_value_rows(pen, x0, y, rh, pairs, shade=True)
    _digit_boxes(pen, x0, y, rh, ("個人番号（マイナンバー）", 560, 36), rec["my_number"], 1560, 52, shade=True)
    y += rh + 70
    pen.text(x0, y, "2 対象となる児童", size=44)
    y += 70
    cols = [("児童の氏名", 660), ("続柄", 300), ("生年月日", 760), ("同別居", 400)]
    y = _children_table(pen, rec, x0, y, rh, cols, shade=True)
    y += 70
    _choice_row(pen, x0, y, rh, ("加入している年金", 460, 38), 1660, ["共済組合", "厚生年金", "国民年金"], rec["pension_type"], 110, shade=True)
    _check_rows(pen, x0, y + rh, rh, 460, 1660, rec, [("監護の状況", "上記の児童を監護している"), ("生計の状況", "上記の児童と生計が同一である")],
                38, shade=True)


VARIANTS = {"a": draw_variant_a, "b": draw_variant_b, "c": draw_variant_c}


def blank_record() -> dict[str, Any]:
    return {"recipient_number": "", "recipient_name": "", "recipient_kana": "", "recipient_birth_date": None, "postal_code": "",
            "address": "", "phone": "", "my_number": " " * 12, "spouse_name": "", "children": [], "pension_type": "",
            "supervision_confirmed": False, "livelihood_confirmed": False, "submission_date": None, "addressed_to": ""}


def render(rec: dict[str, Any], variant: str, rng: random.Random | None = None, blank: bool = False) -> Image.Image:
    rng = rng or random.Random(0)
    img = Image.new("L", A4, 255)
    pen = Pen(ImageDraw.Draw(img), rng, rng.choice(FILL_FONTS))
    if blank:
        _draw_blank(variant, pen)
    else:
        VARIANTS[variant](rec, pen)
    return img


def _draw_blank(variant: str, pen: Pen) -> None:
    """Draw the form with empty values (reference image for the zone template)."""
    rec = random_record(random.Random(0))
    rec.update({k: "" for k in ("recipient_number", "recipient_name", "recipient_kana", "postal_code", "address", "phone", "spouse_name", "addressed_to")})
    rec.update({"my_number": " " * 12, "pension_type": "", "supervision_confirmed": False, "livelihood_confirmed": False, "children": []})
    orig = pen.value

    def value(x: int, y: int, w: int, h: int, text: str, size: int = 46, box: bool = True) -> None:
        orig(x, y, w, h, "", size, box)

    pen.value = value  # type: ignore[method-assign]
    VARIANTS[variant](rec, pen)


# ----------------------------------------------------------------------------- degrading

def degrade(img: Image.Image, rng: random.Random, *, upside_down: bool = False) -> tuple[Image.Image, int]:
    """Scan-like damage; returns the image and the dpi it is 'scanned' at."""
    dpi = 200 if rng.random() < 0.2 else 300
    angle = rng.uniform(-3, 3)
    scale = rng.uniform(0.95, 1.05) * dpi / 300
    w, h = img.size
    img = img.resize((int(w * scale), int(h * scale)), Image.LANCZOS)
    bg = rng.randint(205, 250) if rng.random() < 0.4 else 255
    img = img.rotate(angle + (180 if upside_down else 0), resample=Image.BICUBIC, expand=True, fillcolor=255)
    arr = np.asarray(img).astype(np.float32)
    # Grey paper / uneven illumination.
    if bg < 255:
        yy, xx = np.mgrid[0:arr.shape[0], 0:arr.shape[1]]
        grad = (bg - 15) + 15 * (xx / arr.shape[1])
        arr = np.where(arr > grad, grad, arr)
    # Scanner border: a dark strip on one side sometimes.
    if rng.random() < 0.3:
        side = rng.randint(10, 40)
        arr[:, :side] = rng.randint(30, 90)
    arr += np.random.default_rng(rng.randint(0, 2**31)).normal(0, rng.uniform(2, 9), arr.shape)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.4, 1.1)))
    return img, dpi


def _save(img: Image.Image, path: Path, dpi: int, rng: random.Random) -> Path:
    if rng.random() < 0.5:
        path = path.with_suffix(".jpg")
        img.save(path, "JPEG", quality=rng.randint(55, 90), dpi=(dpi, dpi))
    else:
        path = path.with_suffix(".png")
        img.save(path, "PNG", dpi=(dpi, dpi))
    return path


def generate_set(out_dir: Path, count: int, *, seed: int = 0, variants: Sequence[str] = ("a", "b"), degrade: bool = True) -> Path:
    """Write ``count`` filled forms (alternating variants) and ``truth.jsonl``; return the jsonl path.

    Some files are multi-page PDFs (two forms in one file): their truth line carries
    ``"page": n`` (0-based) so a checker can pair forms with records.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    lines = []
    i = 0
    while i < count:
        variant = variants[i % len(variants)]
        as_pdf = degrade and count - i >= 2 and rng.random() < 0.12
        n_pages = 2 if as_pdf else 1
        pages, recs, dpis = [], [], []
        for p in range(n_pages):
            v = variants[(i + p) % len(variants)]
            rec = random_record(rng)
            img = render(rec, v, rng)
            dpi = 300
            if degrade:
                img, dpi = _degrade(img, rng, upside_down=rng.random() < 0.15)
            pages.append(img)
            recs.append((v, rec))
            dpis.append(dpi)
        name = f"scan-{seed:03d}-{i:04d}"
        if as_pdf:
            path = out_dir / f"{name}.pdf"
            # A PDF's pages share one resolution here (PIL writes one for all): a page degraded to
            # another dpi is resampled to it, or it would come out as a smaller sheet of paper.
            pages = [pg if d == dpis[0] else pg.resize((round(pg.width * dpis[0] / d), round(pg.height * dpis[0] / d)))
                     for pg, d in zip(pages, dpis)]
            pages[0].save(path, "PDF", save_all=True, append_images=pages[1:], resolution=float(dpis[0]))
            for p, (v, rec) in enumerate(recs):
                lines.append({"file": path.name, "page": p, "variant": v, "record": rec})
        else:
            path = _save(pages[0], out_dir / name, dpis[0], rng) if degrade else out_dir / f"{name}.png"
            if not degrade:
                pages[0].save(path, "PNG", dpi=(300, 300))
            lines.append({"file": path.name, "variant": variant, "record": recs[0][1]})
        i += n_pages
    truth = out_dir / "truth.jsonl"
    truth.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return truth


_degrade = degrade  # generate_set's parameter shadows the function name


def pdf_bytes(images: Sequence[Image.Image], dpi: int = 300) -> bytes:
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=list(images[1:]), resolution=float(dpi))
    return buf.getvalue()
