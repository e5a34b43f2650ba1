"""``scenario``: enter records into the tenant's business system while holding a licence seat.

The worker has already taken the seat (see ``claim.py``). The RPA step is idempotent: the
scenario's guard looks the record up in the business system before it submits, so a job
re-run after a crash reports ``skipped_already_entered`` instead of entering twice.
"""
from __future__ import annotations

import threading
from typing import Any

from sqlmodel import Session

from automation.intake import finish_document
from tenants.models import Document, DocumentStatus, utcnow
from tenants.privacy import mask

from .base import ApplicationError, BusinessError, JobContext, Outcome

OK = ("entered", "skipped_already_entered")
_local = threading.local()


def thread_browser():  # noqa: ANN201 - automation.rpa is imported lazily
    """This worker thread's BrowserSession: one Chromium and the saved logins, reused across jobs.

    Each scenario job carries one record, so launching a browser per job would be exactly the
    browser-per-record baseline that bench/rpa_bench.py measures against.
    """
    from automation.rpa import BrowserSession

    if getattr(_local, "browser", None) is None:
        _local.browser = BrowserSession()
    return _local.browser


def close_thread_browser() -> None:
    """Called by the worker loop when its thread ends (Playwright's sync API is bound to its thread)."""
    browser = getattr(_local, "browser", None)
    if browser is not None:
        _local.browser = None
        browser.close()


def handle(ctx: JobContext) -> Outcome:
    try:
        from automation.rpa import RpaConfigError, ScenarioError, run_scenario
    except ImportError as e:
        raise ApplicationError(f"the RPA executor is not installed: {e}", "RPA実行部がインストールされていません。") from None
    p = ctx.payload
    name = p.get("scenario")
    records: list[dict[str, Any]] = list(p.get("records") or [])
    if not name:
        raise BusinessError("scenario job without a scenario name", "シナリオ名が指定されていません。")
    if not records:
        return Outcome(result={"scenario": name, "records": 0, "note": "nothing to enter"})
    started = utcnow()
    try:
        run = run_scenario(name, ctx.tenant, records, artifacts_dir=ctx.work_dir(), browser=thread_browser())
    except (RpaConfigError, ScenarioError) as e:
        raise BusinessError(f"scenario '{name}' cannot run: {mask(str(e))}",
                            f"シナリオ「{name}」を実行できません（設定の誤り）。管理者に連絡してください。") from None
    ended = utcnow()
    counts: dict[str, int] = {}
    for r in run.records:
        counts[r.status] = counts.get(r.status, 0) + 1
    usage = [ctx.usage("rpa.record", 1.0, f"record-{r.index}", {"scenario": name, "status": r.status}) for r in run.records]
    usage.append(ctx.usage("rpa.run", 1.0, "", {"scenario": name}))
    seconds = max(0.0, (ended - started).total_seconds())
    usage.append(ctx.usage("rpa.robot_seconds", round(seconds, 3), "", {
        "pool": ctx.pool, "started_at": started.isoformat(), "ended_at": ended.isoformat(),
        "scenario": name, "records": len(run.records)}))
    result = {"scenario": name, "counts": counts, "seconds": round(run.seconds, 3), "trace": run.trace,
              "records": [{"index": r.index, "status": r.status, "message": mask(r.message), "screenshot": r.screenshot}
                          for r in run.records]}
    app_errors = [r for r in run.records if r.status == "application_error"]
    biz_errors = [r for r in run.records if r.status == "business_error"]
    if app_errors:
        raise ApplicationError(f"{len(app_errors)} record(s) hit an application error: {mask(app_errors[0].message)}",
                               "業務システムの操作中にエラーが発生しました。", usage=usage, result=result)
    if biz_errors:
        msg = mask(biz_errors[0].message)
        raise BusinessError(f"business error: {msg}", f"業務システムが受け付けませんでした: {msg}", usage=usage, result=result)
    doc_id = p.get("document_id") or (ctx.document.id if ctx.document else None)

    def apply(session: Session) -> None:
        if not doc_id:
            return
        d = session.get(Document, doc_id)
        if d is not None and d.status not in (DocumentStatus.done, DocumentStatus.error):
            finish_document(session, d, outcome="done", tenant=ctx.tenant)

    assert all(r.status in OK or r.status == "dry_run" for r in run.records)
    return Outcome(result=result, usage=usage, apply=apply)
