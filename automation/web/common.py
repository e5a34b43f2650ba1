"""Helpers the route modules share: rendering, tenant configuration, scoped look-ups."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlmodel import Session

from automation.console import jst
from tenants.audit import audit
from tenants.config import TenantConfig
from tenants.db import session_scope
from tenants.loader import TenantFileError, get_tenant, load_all
from tenants.models import Document, Job
from tenants.privacy import mask
from tenants.users import User

from .auth import csrf_token, current_user_or_none

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["jst"] = lambda dt: jst(dt) if isinstance(dt, datetime) else (dt or "-")
templates.env.filters["mask"] = lambda s: mask(str(s)) if s is not None else ""
templates.env.filters["pct"] = lambda x: f"{float(x) * 100:.0f}%"

ROLE_JA = {"clerk": "確認担当", "tenant_admin": "自治体管理者", "platform_admin": "共同利用管理者"}
DOC_STATUS_JA = {"received": "受付", "processing": "処理中", "needs_review": "確認待ち", "ready": "登録待ち",
                 "done": "完了", "error": "エラー", "duplicate": "重複"}
JOB_STATUS_JA = {"queued": "待機中", "running": "実行中", "succeeded": "成功", "failed_business": "業務エラー",
                 "failed_application": "システムエラー", "needs_review": "確認待ち", "cancelled": "取消"}
JOB_KIND_JA = {"ocr": "OCR読取", "scenario": "RPA登録", "transcription": "文字起こし"}
RECORD_STATUS_JA = {"entered": "登録済", "skipped_already_entered": "登録済のため省略",
                    "business_error": "業務エラー", "application_error": "システムエラー"}
templates.env.globals.update(ROLE_JA=ROLE_JA, DOC_STATUS_JA=DOC_STATUS_JA, JOB_STATUS_JA=JOB_STATUS_JA,
                             JOB_KIND_JA=JOB_KIND_JA, RECORD_STATUS_JA=RECORD_STATUS_JA)


def render(request: Request, name: str, status_code: int = 200, **ctx: Any):  # noqa: ANN201
    user = current_user_or_none(request)
    base = {"user": user, "csrf": csrf_token(request), "tenant_name": tenant_name(request, user.tenant_id) if user else ""}
    return templates.TemplateResponse(request, name, {**base, **ctx}, status_code=status_code)


def engine_of(request: Request) -> Engine:
    return request.app.state.engine


def data_root(request: Request) -> Path:
    return request.app.state.data_root


def tenant_config(request: Request, tenant_id: str) -> TenantConfig:
    cache: dict[str, TenantConfig] = request.app.state.tenant_configs
    if tenant_id not in cache:
        try:
            cache[tenant_id] = get_tenant(tenant_id).config
        except TenantFileError:
            raise HTTPException(status_code=500, detail=f"自治体 {tenant_id} の設定ファイルが読み込めません。管理者に連絡してください。") from None
    return cache[tenant_id]


def tenant_name(request: Request, tenant_id: str | None) -> str:
    if not tenant_id:
        return "共同利用センター"
    try:
        return tenant_config(request, tenant_id).display_name
    except HTTPException:
        return tenant_id


def load_tenant_configs() -> dict[str, TenantConfig]:
    return {tid: t.config for tid, t in load_all().tenants.items()}


def denied(request: Request, user: User, target: str) -> HTTPException:
    """Audit an out-of-scope (or missing) object and return the 404 to raise.

    The answer is the same 404 whether the object is missing or belongs to another
    tenant (nothing leaks); the audit row records which it was.
    """
    kind, _, ident = target.partition(":")
    model = {"document": Document, "job": Job}.get(kind)
    with session_scope(engine_of(request)) as s:
        owner = None
        if model is not None and ident.isdigit():
            row = s.get(model, int(ident))
            owner = row.tenant_id if row is not None else None
        audit(s, "access.denied", actor=user.label, tenant_id=user.tenant_id, target=target,
              detail={"path": request.url.path, "method": request.method, "owner_tenant": owner})
    return HTTPException(status_code=404, detail="見つかりません")


def get_document(request: Request, s: Session, user: User, document_id: int) -> Document:
    doc = s.get(Document, document_id)
    if doc is None:
        raise denied(request, user, f"document:{document_id}")
    return doc


def get_job(request: Request, s: Session, user: User, job_id: int) -> Job:
    job = s.get(Job, job_id)
    if job is None:
        raise denied(request, user, f"job:{job_id}")
    return job
