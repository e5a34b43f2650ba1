"""Jobs for administrators: list with filters, a job's page, screenshots, traces, retry, cancel."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlalchemy import select

from automation import jobs as jobs_api
from tenants.models import Job, JobStatus
from tenants.privacy import mask_value
from tenants.users import Role, User

from .auth import require, user_session
from .common import data_root, engine_of, get_job, render, tenant_config, tenant_name

router = APIRouter(include_in_schema=False)
Admin = Annotated[User, Depends(require(Role.tenant_admin, Role.platform_admin))]
PAGE_SIZE = 100


def job_query(user: User, *, status: str = "", kind: str = "", tenant: str = "", limit: int = PAGE_SIZE):  # noqa: ANN201
    stmt = select(Job).order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)  # type: ignore[attr-defined]
    if status:
        stmt = stmt.where(Job.status == status)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    if tenant and user.role == Role.platform_admin:
        stmt = stmt.where(Job.tenant_id == tenant)
    return stmt


@router.get("/jobs")
def jobs_list(request: Request, user: Admin, status: str = "", kind: str = "", tenant: str = ""):  # noqa: ANN201
    with user_session(engine_of(request), user) as s:
        rows = list(s.exec(job_query(user, status=status, kind=kind, tenant=tenant)).scalars())  # type: ignore[call-overload]
    return render(request, "jobs.html", jobs=rows, filters={"status": status, "kind": kind, "tenant": tenant},
                  statuses=[st.value for st in JobStatus], kinds=["ocr", "scenario", "transcription"],
                  tenants=request.app.state.tenant_configs, flash=request.session.pop("flash", ""))


def artifact_files(job: Job) -> dict[str, list[str]]:
    """Screenshot and trace paths named anywhere in ``Job.result`` (runner and RPA shapes)."""
    shots: list[str] = []
    traces: list[str] = []

    def walk(v: Any, key: str = "") -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                walk(x, k)
        elif isinstance(v, list):
            for x in v:
                walk(x, key)
        elif isinstance(v, str) and v:
            if key in ("screenshot", "screenshots", "failure_screenshot") and v not in shots:
                shots.append(v)
            elif key in ("trace", "traces") and v not in traces:
                traces.append(v)

    walk(job.result or {})
    return {"screenshots": shots, "traces": traces}


def _artifact(request: Request, job: Job, raw: str) -> Path:
    """Resolve an artifact path and refuse anything outside the tenant's folders or the data root."""
    root = data_root(request).resolve()
    tenant_dirs = [p.resolve() for p in tenant_config(request, job.tenant_id).folder_paths(root).values()]
    p = Path(raw)
    if not p.is_absolute():
        p = root / p
    p = p.resolve()
    if not any(p.is_relative_to(d) for d in [root / "tenants" / job.tenant_id, *tenant_dirs]):
        raise HTTPException(status_code=404, detail="ファイルが見つかりません")
    if not p.is_file():
        raise HTTPException(status_code=404, detail="ファイルが見つかりません（削除された可能性があります）")
    return p


@router.get("/jobs/{job_id}")
def job_page(request: Request, job_id: int, user: Admin):  # noqa: ANN201
    with user_session(engine_of(request), user) as s:
        job = get_job(request, s, user, job_id)
    result = mask_value(job.result or {})
    records = result.get("records") if isinstance(result.get("records"), list) else []
    files = artifact_files(job)
    return render(request, "job.html", job=job, job_tenant=tenant_name(request, job.tenant_id), result=result, records=records, files=files,
                  payload=mask_value(job.payload or {}), flash=request.session.pop("flash", ""),
                  can_retry=JobStatus(job.status).finished, can_cancel=not JobStatus(job.status).finished)


def _nth_artifact(request: Request, user: Any, job_id: int, kind: str, n: int, missing_ja: str) -> tuple[Any, Path]:
    """The n-th screenshot or trace of a job the user may see (404 otherwise)."""
    with user_session(engine_of(request), user) as s:
        job = get_job(request, s, user, job_id)
    found = artifact_files(job)[kind]
    if not 0 <= n < len(found):
        raise HTTPException(status_code=404, detail=missing_ja)
    return job, _artifact(request, job, found[n])


@router.get("/jobs/{job_id}/screenshots/{n}.png")
def job_screenshot(request: Request, job_id: int, n: int, user: Admin):  # noqa: ANN201
    _job, path = _nth_artifact(request, user, job_id, "screenshots", n, "スクリーンショットがありません")
    return FileResponse(path, media_type="image/png")


@router.get("/jobs/{job_id}/traces/{n}")
def job_trace(request: Request, job_id: int, n: int, user: Admin):  # noqa: ANN201
    job, path = _nth_artifact(request, user, job_id, "traces", n, "トレースがありません")
    return FileResponse(path, media_type="application/zip", filename=f"job-{job.id}-{path.name}")


def _steer(request: Request, job_id: int, user: User, action: str):  # noqa: ANN202
    fn = jobs_api.retry_job if action == "retry" else jobs_api.cancel_job
    with user_session(engine_of(request), user) as s:
        get_job(request, s, user, job_id)  # 404 + audit when out of scope
        try:
            fn(s, job_id, actor=user.label)
        except ValueError:
            request.session["flash"] = ("このジョブは終了していないため再実行できません。" if action == "retry"
                                        else "このジョブは既に終了しているため取り消せません。")
            return RedirectResponse(f"/jobs/{job_id}", status_code=303)
    request.session["flash"] = "ジョブを再実行待ちに戻しました。" if action == "retry" else "ジョブを取り消しました。"
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)


@router.post("/jobs/{job_id}/retry")
def retry(request: Request, job_id: int, user: Admin):  # noqa: ANN201
    return _steer(request, job_id, user, "retry")


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, job_id: int, user: Admin):  # noqa: ANN201
    return _steer(request, job_id, user, "cancel")
