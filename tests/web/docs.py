"""Test material for the web tests: a flagged 現況届 (scan image + FormResult) and a failed job.

The form is drawn here with a Japanese font and the FormResult is built field by field
with the boxes it was drawn in, so exactly two known fields are misread and flagged (a
real OCR read flags whatever it doubts; the OCR engine's accuracy is measured in its own
tests and bench).
"""
from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy.engine import Engine

from automation.web.validators import my_number_check_digit, to_wareki
from ocr.results import Box, FieldResult, FieldType, FormResult
from tenants.config import TenantConfig
from tenants.db import session_scope
from tenants.models import Document, DocumentStatus, Job, JobStatus

FONT = "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf"
_FIRST11 = "31415926535"
MY_NUMBER = _FIRST11 + str(my_number_check_digit(_FIRST11))

TRUTH: dict[str, Any] = {
    "recipient_number": "1234567",
    "recipient_name": "長野 太郎",
    "recipient_kana": "ナガノ タロウ",
    "recipient_birth_date": "1988-07-14",
    "postal_code": "380-8512",
    "address": "長野県長野市大字鶴賀緑町1613番地",
    "phone": "026-226-4911",
    "my_number": MY_NUMBER,
    "spouse_name": "長野 花子",
    "children": [{"name": "長野 一郎", "birth_date": "2015-04-02", "relation": "長男", "lives_together": True}],
    "pension_type": "厚生年金",
    "supervision_confirmed": True,
    "livelihood_confirmed": True,
    "submission_date": "2024-06-10",
    "addressed_to": "長野市長",
}
# What the OCR "misread": the clerk must correct these two with the keyboard.
MISREAD = {"recipient_name": "長野 大郎", "recipient_birth_date": "1988-07-11"}

LAYOUT: list[tuple[str, str, FieldType]] = [
    ("recipient_number", "受給者番号", FieldType.digits),
    ("recipient_name", "受給者氏名", FieldType.text),
    ("recipient_kana", "フリガナ", FieldType.kana),
    ("recipient_birth_date", "生年月日", FieldType.date_wareki),
    ("postal_code", "郵便番号", FieldType.postal_code),
    ("address", "住所", FieldType.text),
    ("phone", "電話番号", FieldType.phone),
    ("my_number", "個人番号", FieldType.my_number),
    ("spouse_name", "配偶者氏名", FieldType.text),
    ("pension_type", "年金の種類", FieldType.choice),
    ("supervision_confirmed", "監護の確認", FieldType.checkbox),
    ("livelihood_confirmed", "生計同一の確認", FieldType.checkbox),
    ("submission_date", "提出日", FieldType.date_wareki),
    ("addressed_to", "宛先", FieldType.text),
]
CHILD_COLS: list[tuple[str, str, FieldType]] = [
    ("name", "児童氏名", FieldType.text), ("birth_date", "生年月日", FieldType.date_wareki),
    ("relation", "続柄", FieldType.text), ("lives_together", "同居", FieldType.checkbox),
]


def _shown(name: str, value: Any, ftype: FieldType) -> str:
    if ftype == FieldType.date_wareki:
        return to_wareki(date.fromisoformat(value))
    if ftype == FieldType.checkbox:
        return "☑" if value else "☐"
    if ftype == FieldType.my_number:
        return " ".join([value[:4], value[4:8], value[8:]])
    return str(value)


def draw_form(path: Path) -> dict[str, Box]:
    """Draw the 現況届 (A4 at 150 dpi) with the misread values; return each value cell's box."""
    w, h = 1240, 1754
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    title, label, value = (ImageFont.truetype(FONT, s) for s in (44, 26, 30))
    d.text((w // 2, 90), "児童手当 現況届", font=title, fill=0, anchor="mm")
    d.text((100, 150), "長野市長 様", font=label, fill=0)
    boxes: dict[str, Box] = {}
    y, row_h, x0, x1, x2 = 200, 66, 80, 330, 1160
    shown = {**TRUTH, **MISREAD}
    for name, lab, ftype in LAYOUT:
        d.rectangle((x0, y, x2, y + row_h), outline=0, width=2)
        d.line((x1, y, x1, y + row_h), fill=0, width=2)
        d.text((x0 + 14, y + row_h // 2), lab, font=label, fill=0, anchor="lm")
        d.text((x1 + 20, y + row_h // 2), _shown(name, shown[name], ftype), font=value, fill=0, anchor="lm")
        boxes[name] = Box(page=0, x=x1 + 4, y=y + 4, w=x2 - x1 - 8, h=row_h - 8)
        y += row_h
    y += 30
    d.text((x0, y), "監護している児童", font=label, fill=0)
    y += 40
    cols = [x0, 420, 700, 900, x2]
    for i, (_c, lab, _t) in enumerate(CHILD_COLS):
        d.rectangle((cols[i], y, cols[i + 1], y + row_h), outline=0, width=2)
        d.text((cols[i] + 12, y + row_h // 2), lab, font=label, fill=0, anchor="lm")
    y += row_h
    for r, child in enumerate(TRUTH["children"]):
        for i, (col, _lab, ftype) in enumerate(CHILD_COLS):
            d.rectangle((cols[i], y, cols[i + 1], y + row_h), outline=0, width=2)
            d.text((cols[i] + 12, y + row_h // 2), _shown(col, child[col], ftype), font=value, fill=0, anchor="lm")
            boxes[f"children.{r}.{col}"] = Box(page=0, x=cols[i] + 4, y=y + 4, w=cols[i + 1] - cols[i] - 8, h=row_h - 8)
        y += row_h
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return boxes


def hand_built_form(page: Path) -> FormResult:
    boxes = draw_form(page)
    fields: dict[str, FieldResult] = {}
    for name, lab, ftype in LAYOUT:
        wrong = name in MISREAD
        fields[name] = FieldResult(
            name=name, type=ftype, label=lab, value=MISREAD.get(name, TRUTH[name]), raw=None,
            confidence=0.41 if wrong else 0.97, reasons=["low_confidence"] if wrong else [],
            messages=["文字の一部がかすれています"] if wrong else [], box=boxes[name])
    rows = [{col: FieldResult(name=col, type=ft, label=lab, value=child[col], confidence=0.95, box=boxes[f"children.{r}.{col}"])
             for col, lab, ft in CHILD_COLS} for r, child in enumerate(TRUTH["children"])]
    fields["children"] = FieldResult(name="children", type=FieldType.table, label="監護している児童",
                                     value=TRUTH["children"], confidence=0.95, rows=rows)
    # keep the contract's key order (children after spouse_name)
    order = [n for n, _l, _t in LAYOUT[:9]] + ["children"] + [n for n, _l, _t in LAYOUT[9:]]
    return FormResult(source="genkyo-001.png", template="genkyo_todoke", classification_score=0.93, page_indices=[0],
                      fields={n: fields[n] for n in order}, status="needs_review")


def add_flagged_document(engine: Engine, tenant: TenantConfig, data_root: Path, name: str = "genkyo-001.png") -> int:
    """Insert a needs_review 現況届 with its page image where the runner puts it; return its id."""
    folders = tenant.folder_paths(data_root)
    kept = folders["processing"] / name
    kept.parent.mkdir(parents=True, exist_ok=True)
    with session_scope(engine) as s:
        doc = Document(tenant_id=tenant.id, filename=name, path=str(kept), sha256="0" * 64,
                       media_type="image/png", route="現況届", template="genkyo_todoke", status=DocumentStatus.processing, pages=1)
        s.add(doc)
        s.flush()
        doc_id = doc.id
    page = folders["work"] / f"doc-{doc_id}" / "page-1.png"
    form = hand_built_form(page)
    kept.write_bytes(page.read_bytes())
    with session_scope(engine) as s:
        doc = s.get(Document, doc_id)
        doc.ocr_result = form.model_dump(mode="json")
        doc.status = DocumentStatus.needs_review
        doc.sha256 = hashlib.sha256(f"{tenant.id}:{doc_id}".encode()).hexdigest()
        s.add(doc)
    return doc_id


def add_failed_job(engine: Engine, tenant: TenantConfig, data_root: Path, screenshot_png: bytes) -> int:
    """A scenario job that failed with a business error, with its screenshot under work/."""
    with session_scope(engine) as s:
        job = Job(tenant_id=tenant.id, kind="scenario", status=JobStatus.failed_business, attempts=1,
                  payload={"scenario": "child_allowance_status_report", "records": [{"recipient_number": "7654321"}]})
        s.add(job)
        s.flush()
        job_id = job.id
    art = tenant.folder_paths(data_root)["work"] / f"job-{job_id}"
    art.mkdir(parents=True, exist_ok=True)
    shot = art / "record-1-failure.png"
    shot.write_bytes(screenshot_png)
    trace = art / "trace.zip"
    trace.write_bytes(b"PK\x05\x06" + b"\x00" * 18)  # an empty zip archive
    with session_scope(engine) as s:
        job = s.get(Job, job_id)
        job.result = {"records": [{"status": "business_error", "message": "該当する受給者が見つかりません",
                                   "seconds": 2.4, "screenshot": str(shot)}], "trace": str(trace), "seconds": 3.1}
        job.error = "1件の業務エラー"
        s.add(job)
    return job_id
