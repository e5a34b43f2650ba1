"""The clerk's check-and-correct step, as plain functions (the web routes and tests call them).

A document in ``needs_review`` holds the OCR result (``Document.ocr_result`` =
``FormResult.model_dump(mode="json")``). The clerk's values are validated with
:mod:`automation.web.validators`; every changed value is stored as a
:class:`tenants.users.FieldCorrection` (ground truth for OCR accuracy) and audited.
Approving enqueues the scenario job in the same transaction as the status change;
rejecting sends the kept file to ``error/`` with the clerk's reason.

Every function takes the caller's session; the web layer opens it with
``tenants.scope.tenant_session`` so a clerk can only ever touch their own tenant's rows.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlmodel import Session

from automation.intake import finish_document
from automation.jobs import enqueue, scenario_job_key
from automation.web.validators import validate
from ocr.results import Box, FieldResult, FieldState, FormResult
from tenants.audit import audit
from tenants.config import TenantConfig
from tenants.models import Document, DocumentStatus, Job, utcnow
from tenants.settings import get_settings
from tenants.usage import UsageIn, record_usage
from tenants.users import FieldCorrection, User

log = logging.getLogger(__name__)

SCENARIO = "child_allowance_status_report"
DOUBT_JA = {
    "low_confidence": "読み取りの確信度が低い",
    "invalid": "形式が正しくない",
    "disagreement": "読み取り結果が一致しない",
    "missing_required": "必須項目が空欄",
    "cross_field": "他の項目と矛盾している",
    "not_found": "記入欄が見つからない",
}


class ReviewError(Exception):
    """The document cannot be reviewed now (wrong state); ``message_ja`` is shown to the clerk."""

    def __init__(self, message_ja: str, message_en: str):
        super().__init__(message_en)
        self.message_ja = message_ja


class ReviewField(BaseModel):
    """One input on the review screen (a form field, or one cell of a table row)."""

    key: str = Field(description="field name, table cells as 'children.0.name'")
    label: str
    type: str
    value: Any = None
    confidence: float = 0.0
    reasons: list[str] = Field(default_factory=list, description="reasons for doubt, in Japanese")
    messages: list[str] = Field(default_factory=list)
    box: Box | None = None
    doubtful: bool = False
    options: list[str] = Field(default_factory=list, description="a choice field's allowed values (from its template)")

    @property
    def text(self) -> str:
        """The value as the clerk edits it."""
        if self.value is None:
            return ""
        if isinstance(self.value, bool):
            return "1" if self.value else ""
        return str(self.value)


class QueueItem(BaseModel):
    id: int
    filename: str
    template: str | None
    created_at: datetime
    doubtful: int
    fields: int


class Outcome(BaseModel):
    """What a review action did: errors per field key (nothing saved then), or the job."""

    errors: dict[str, str] = Field(default_factory=dict)
    corrections: int = 0
    job_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


def form_of(doc: Document) -> FormResult:
    if not doc.ocr_result:
        raise ReviewError("この書類には読み取り結果がありません", f"document {doc.id} has no OCR result")
    return FormResult.model_validate(doc.ocr_result)


def _reasons(f: FieldResult) -> list[str]:
    return [DOUBT_JA.get(str(r), str(r)) for r in f.reasons]


def choice_options(form: FormResult) -> dict[str, list[str]]:
    """The allowed values of the form's choice fields, from its template (empty if it is gone)."""
    if not form.template:
        return {}
    folders = sorted(get_settings().scenarios_dir.glob("*/forms"))
    # Re-read only when a template file changed: the review page asks once per field crop.
    stamp = tuple((str(p), p.stat().st_mtime_ns) for f in folders for p in sorted(f.glob("*.yaml")))
    return dict(_choice_options(form.template, stamp))


@lru_cache(maxsize=32)
def _choice_options(template_id: str, stamp: tuple) -> tuple[tuple[str, list[str]], ...]:
    from ocr import load_templates

    for folder in dict.fromkeys(Path(p).parent for p, _m in stamp):
        for t in load_templates(folder):
            if t.id == template_id:
                return tuple((f.name, list(f.options)) for f in t.fields if f.options)
    return ()


def review_fields(form: FormResult) -> list[ReviewField]:
    """Flatten the form into inputs in reading order; table cells become their own inputs."""
    options = choice_options(form)
    out: list[ReviewField] = []
    for name, f in form.fields.items():
        if f.state == FieldState.absent:
            continue  # a question this municipality's form does not ask: nothing to check or type
        if f.rows is not None:
            for i, row in enumerate(f.rows):
                for col, cell in row.items():
                    out.append(ReviewField(
                        key=f"{name}.{i}.{col}", label=f"{f.label or name} {i + 1}: {cell.label or col}",
                        type=str(cell.type), value=cell.value, confidence=cell.confidence,
                        reasons=_reasons(cell) + (_reasons(f) if i == 0 and col == next(iter(row)) else []),
                        messages=cell.messages, box=cell.box, doubtful=cell.doubtful,
                    ))
            continue
        out.append(ReviewField(key=name, label=f.label or name, type=str(f.type), value=f.value,
                               confidence=f.confidence, reasons=_reasons(f), messages=f.messages,
                               box=f.box, doubtful=f.doubtful, options=options.get(name, [])))
    return out


def _cell(form: FormResult, key: str) -> FieldResult | None:
    parts = key.split(".")
    f = form.fields.get(parts[0])
    if f is None:
        return None
    if len(parts) == 1:
        return f if f.rows is None else None
    if len(parts) != 3 or f.rows is None or not parts[1].isdigit() or int(parts[1]) >= len(f.rows):
        return None
    return f.rows[int(parts[1])].get(parts[2])


def record_of(form: FormResult) -> dict[str, Any]:
    """The scenario record: ``FormResult.record()`` with table values rebuilt from their cells."""
    record = form.record()
    for name, f in form.fields.items():
        if f.rows is not None:
            record[name] = [{col: cell.value for col, cell in row.items()} for row in f.rows]
    return record


def list_review_queue(session: Session, limit: int = 200) -> list[QueueItem]:
    """Documents waiting for review in the session's tenant, oldest first."""
    stmt = (select(Document).where(Document.status == DocumentStatus.needs_review)
            .order_by(Document.created_at, Document.id).limit(limit))
    items = []
    for doc in session.exec(stmt).scalars():  # type: ignore[call-overload]
        try:
            fields = review_fields(form_of(doc))
        except (ReviewError, ValueError):
            fields = []
        items.append(QueueItem(id=doc.id, filename=doc.filename, template=doc.template, created_at=doc.created_at,
                               doubtful=sum(f.doubtful for f in fields), fields=len(fields)))
    return items


def count_review_queue(session: Session) -> int:
    stmt = select(func.count()).select_from(Document).where(Document.status == DocumentStatus.needs_review)
    return int(session.exec(stmt).scalar_one())  # type: ignore[call-overload]


def _meter_review(session: Session, doc: Document, outcome: str, corrections: int) -> None:
    """One ``ocr.review`` event per reviewed document (目視確認件数); the id makes a repeat count once."""
    record_usage(session, UsageIn(event_id=f"document-{doc.id}", source="kyodo/web/review", type="ocr.review",
                                  subject=doc.tenant_id, value=1.0,
                                  data={"document_id": doc.id, "outcome": outcome, "corrections": corrections}))


def _require_reviewable(doc: Document) -> None:
    if doc.status != DocumentStatus.needs_review:
        raise ReviewError(f"この書類は確認待ちではありません（状態: {doc.status}）",
                          f"document {doc.id} is {doc.status}, not needs_review")


def _hide(value: Any) -> Any:
    """Hide a My Number entirely (even a misread one that no 12-digit pattern would catch)."""
    return "＊" * len(str(value)) if value else value


def apply_corrections(session: Session, doc: Document, values: dict[str, Any], *, user: User) -> Outcome:
    """Validate the clerk's values; when all are valid, store them and one correction row per change.

    Fields the clerk submitted count as confirmed (their doubts are cleared). With any
    invalid value nothing is saved and the errors are returned per field key.
    """
    _require_reviewable(doc)
    form = form_of(doc)
    errors: dict[str, str] = {}
    accepted: list[tuple[str, FieldResult, Any]] = []
    options = choice_options(form)
    for key, raw in values.items():
        cell = _cell(form, key)
        if cell is None:
            errors[key] = "この項目はこの書類にありません"
            continue
        checked = validate(str(cell.type), raw)
        if not checked.ok:
            errors[key] = checked.message
        elif key in options and checked.value not in options[key] and checked.value not in (None, ""):
            # The business system only knows these values: a typo here would fail the robot later.
            errors[key] = f"選択肢（{'・'.join(options[key])}）から選んでください"
        else:
            accepted.append((key, cell, checked.value))
    if errors:
        return Outcome(errors=errors)
    changed = []
    for key, cell, value in accepted:
        if value != cell.value:
            # Corrections are kept as OCR ground truth; a My Number must not get a second,
            # permanent copy there, so only its masked form (and the fact of the correction) is kept.
            keep = _hide if str(cell.type) == "my_number" else (lambda v: v)
            changed.append(FieldCorrection(
                tenant_id=doc.tenant_id, document_id=doc.id, field=key, field_type=str(cell.type),
                ocr_value=keep(cell.value), corrected_value=keep(value), confidence=cell.confidence,
                user_id=user.id, username=user.username))
            cell.value = value
        cell.reasons = []
        if cell.state == FieldState.unread:
            cell.state = FieldState.value  # the clerk read it from the paper
    for name, f in form.fields.items():  # a table is confirmed when all its cells are
        if f.rows is not None and all(not c.reasons for row in f.rows for c in row.values()):
            f.reasons = []
            f.value = [{col: c.value for col, c in row.items()} for row in f.rows]
    session.add_all(changed)
    doc.ocr_result = form.model_dump(mode="json")
    doc.updated_at = utcnow()
    session.add(doc)
    if changed:
        # Field names only: values may be personal data (the audit log masks My Numbers anyway).
        audit(session, "review.correct", actor=user.label, tenant_id=doc.tenant_id, target=f"document:{doc.id}",
              detail={"fields": [c.field for c in changed]})
    session.flush()
    return Outcome(corrections=len(changed))


def approve(session: Session, doc: Document, values: dict[str, Any], *, user: User) -> Outcome:
    """Apply the clerk's values and send the record on: scenario job queued, document ``ready``."""
    outcome = apply_corrections(session, doc, values, user=user)
    if not outcome.ok:
        return outcome
    form = form_of(doc)
    if form.doubtful_fields():
        left = [f.label or n for n, f in form.fields.items() if f.doubtful]
        return Outcome(errors={"_form": "未確認の項目があります: " + "、".join(left)})
    job = enqueue(session, tenant_id=doc.tenant_id, kind="scenario",
                  payload={"scenario": SCENARIO, "records": [record_of(form)], "document_id": doc.id},
                  idempotency_key=scenario_job_key(doc.id), document_id=doc.id)
    doc.status = DocumentStatus.ready
    doc.updated_at = utcnow()
    session.add(doc)
    _meter_review(session, doc, "approved", outcome.corrections)
    audit(session, "review.approve", actor=user.label, tenant_id=doc.tenant_id, target=f"document:{doc.id}",
          detail={"job": job.id, "corrections": outcome.corrections})
    session.flush()
    return Outcome(corrections=outcome.corrections, job_id=job.id)


def reject(session: Session, doc: Document, reason: str, *, user: User, tenant: TenantConfig) -> Path | None:
    """Send the document to ``error/`` with the clerk's reason (Japanese) beside it."""
    _require_reviewable(doc)
    reason = reason.strip()
    if not reason:
        raise ReviewError("差し戻しの理由を入力してください", "a reason is required to reject a document")
    reason_ja = f"確認担当者（{user.username}）が差し戻しました: {reason}"
    reason_en = f"rejected on review by {user.label}"
    audit(session, "review.reject", actor=user.label, tenant_id=doc.tenant_id, target=f"document:{doc.id}",
          detail={"reason": reason})
    _meter_review(session, doc, "rejected", 0)
    return finish_document(session, doc, outcome="error", reason_ja=reason_ja, reason_en=reason_en, tenant=tenant)


def corrections_for(session: Session, document_id: int) -> list[FieldCorrection]:
    stmt = select(FieldCorrection).where(FieldCorrection.document_id == document_id).order_by(FieldCorrection.id)
    return list(session.exec(stmt).scalars())  # type: ignore[call-overload]


def job_for_document(session: Session, document_id: int) -> Job | None:
    stmt = select(Job).where(Job.document_id == document_id, Job.kind == "scenario").order_by(Job.id.desc())  # type: ignore[union-attr]
    return session.exec(stmt).scalars().first()  # type: ignore[call-overload]
