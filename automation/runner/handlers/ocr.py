"""``ocr``: read a scan against the tenant's form templates.

All fields confident and valid -> the document is ``ready`` and a scenario job is queued
with its record; any doubt (or an unknown form) -> ``needs_review`` (the web UI's review
approves later and queues the scenario job); unreadable input -> error/ with the reason.
Page images are kept at ``work/doc-<id>/page-<n>.png`` for the review screen.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlmodel import Session

from automation.intake import finish_document, result_path
from automation.jobs import enqueue, scenario_job_key
from tenants.models import Document, DocumentStatus, JobStatus, utcnow
from tenants.privacy import mask_value
from tenants.settings import get_settings

from .base import ApplicationError, BusinessError, JobContext, Outcome, require_document

DEFAULT_SCENARIO = "child_allowance_status_report"


def templates_for(ctx: JobContext) -> list[Any]:
    from ocr import load_templates

    scenario = ctx.payload.get("scenario") or DEFAULT_SCENARIO
    folder = get_settings().scenarios_dir / scenario / "forms"
    templates = load_templates(folder)
    wanted = [ctx.payload["template"]] if ctx.payload.get("template") else list(ctx.tenant.ocr.form_variants)
    chosen = [t for t in templates if t.id in wanted] if wanted else templates
    # A route naming a template the folder lacks: fall back to all, so the form is still classified.
    return chosen or templates


def save_pages(pages: list[Any], folder: Path) -> list[Path]:
    import cv2

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n, page in enumerate(pages, start=1):
        p = folder / f"page-{n}.png"
        if not cv2.imwrite(str(p), page):
            raise ApplicationError(f"could not write {p}", "ページ画像を保存できませんでした。")
        out.append(p)
    return out


def _apply_threshold(form: Any, threshold: float | None) -> None:
    """A municipality's stricter review threshold: a field below it is doubtful too."""
    if threshold is None:
        return
    from ocr.results import Doubt

    for f in form.fields.values():
        if f.confidence < threshold and Doubt.low_confidence not in f.reasons:
            f.reasons.append(Doubt.low_confidence)
    if form.doubtful_fields():
        form.status = "needs_review"


def handle(ctx: JobContext) -> Outcome:
    try:
        from ocr import read_document
        from ocr.errors import OcrInputError
        from ocr.results import FormResult
    except ImportError as e:
        raise ApplicationError(f"the OCR engine is not installed: {e}", "OCRエンジンがインストールされていません。") from None
    doc = require_document(ctx, "an ocr", "OCR対象のファイル")
    path = Path(doc.path)
    try:
        read = read_document(path, templates_for(ctx), dpi=ctx.tenant.ocr.dpi)
    except OcrInputError as e:
        raise BusinessError(str(e), e.message_ja) from None
    except ImportError as e:
        raise ApplicationError(str(e)) from None
    page_dir = ctx.folders["work"] / f"doc-{doc.id}"
    save_pages(read.pages, page_dir)
    forms = list(read.forms)
    for f in forms:
        _apply_threshold(f, ctx.tenant.ocr.review_threshold)
    usage = [ctx.usage("ocr.page", 1.0, f"page-{n}", {"file": doc.filename}) for n in range(1, read.page_count + 1)]
    n_fields = sum(len(f.fields) for f in forms)
    if n_fields:
        usage.append(ctx.usage("ocr.field", float(n_fields), "fields", {"forms": len(forms)}))
    known = [f for f in forms if f.template]
    if not known:
        primary = forms[0] if forms else FormResult(source=doc.filename, template=None, status="needs_review")
        if not primary.reasons:
            primary.reasons.append("様式を判別できませんでした（未登録の帳票の可能性があります）。")
        ready = False
    else:
        primary = known[0]
        ready = all(f.status == "ready" and not f.doubtful_fields() for f in forms) and len(known) == len(forms)
    scenario = ctx.payload.get("scenario") or DEFAULT_SCENARIO
    has_scenario = scenario in ctx.tenant.scenarios
    result: dict[str, Any] = {
        "pages": read.page_count, "forms": len(forms), "template": primary.template,
        "status": "ready" if ready else "needs_review",
        "doubtful": {str(i): f.doubtful_fields() for i, f in enumerate(forms) if f.doubtful_fields()},
        "reasons": primary.reasons,
    }
    outbox_json = result_path(ctx.folders, doc, ".ocr.json")
    outbox_json.write_text(json.dumps(mask_value([f.record() for f in forms]), ensure_ascii=False, indent=1, default=str),
                           encoding="utf-8")

    def apply(session: Session) -> None:
        d = session.get(Document, doc.id)
        assert d is not None
        d.ocr_result = primary.model_dump(mode="json")
        d.pages = read.page_count
        d.template = primary.template
        d.updated_at = utcnow()
        if not ready:
            d.status = DocumentStatus.needs_review
            session.add(d)
            return
        d.status = DocumentStatus.ready
        session.add(d)
        if has_scenario:
            job = enqueue(session, tenant_id=ctx.tenant.id, kind="scenario", priority=ctx.job.priority,
                          payload={"scenario": scenario, "records": [f.record() for f in known], "document_id": d.id},
                          idempotency_key=scenario_job_key(d.id), document_id=d.id)
            result["scenario_job"] = job.id
        else:
            finish_document(session, d, outcome="done", tenant=ctx.tenant)  # the OCR JSON in outbox/ is the product

    return Outcome(status=JobStatus.succeeded if ready else JobStatus.needs_review, result=result, usage=usage, apply=apply)
