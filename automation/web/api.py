"""JSON API under /api/ for a municipality's other systems (same authorisation as the pages).

Authenticate with the session cookie (plus ``X-CSRF-Token`` on POST) or with
``Authorization: Bearer <token>`` from ``POST /api/token``. My Numbers are masked in
every answer: other systems read status and results, not personal numbers.
"""
from __future__ import annotations

import os
import tempfile
import re
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select

from tenants.audit import audit
from tenants.db import session_scope
from tenants.models import Document, Job
from tenants.privacy import mask, mask_value
from tenants.users import Role, User

from .auth import issue_token, require, user_session
from .common import data_root, engine_of, get_document, get_job, tenant_config
from .pages_jobs import job_query
from .throttle import check_password

router = APIRouter(prefix="/api", tags=["api"])
AnyUser = Annotated[User, Depends(require(Role.clerk, Role.tenant_admin, Role.platform_admin))]
TenantUser = Annotated[User, Depends(require(Role.clerk, Role.tenant_admin))]
ALLOWED_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".wav", ".mp3", ".m4a", ".flac", ".ogg"}
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


class TokenIn(BaseModel):
    tenant: str | None = Field(default=None, description="tenant id; empty for a platform administrator")
    username: str
    password: str


class TokenOut(BaseModel):
    token: str
    token_type: str = "bearer"


class DocumentOut(BaseModel):
    id: int
    tenant_id: str
    filename: str
    status: str
    template: str | None
    pages: int
    error: str | None
    created_at: datetime
    updated_at: datetime


class DocumentDetail(DocumentOut):
    record: dict[str, Any] | None = Field(default=None, description="field values (My Number masked)")
    doubtful_fields: list[str] = Field(default_factory=list)
    ocr_result: dict[str, Any] | None = Field(default=None, description="the full FormResult (My Number masked)")


class JobOut(BaseModel):
    id: int
    tenant_id: str
    kind: str
    status: str
    attempts: int
    max_attempts: int
    document_id: int | None
    error: str | None
    result: dict[str, Any] | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SubmitOut(BaseModel):
    filename: str = Field(description="name the file was saved under in the inbox")
    folder: str = Field(description="inbox subfolder ('' for the inbox itself)")
    size: int


def _doc_out(doc: Document) -> DocumentOut:
    return DocumentOut(id=doc.id, tenant_id=doc.tenant_id, filename=doc.filename, status=str(doc.status),
                       template=doc.template, pages=doc.pages, error=mask(doc.error) if doc.error else None,
                       created_at=doc.created_at, updated_at=doc.updated_at)


def _mask_my_number(ocr: dict[str, Any] | None) -> dict[str, Any] | None:
    if not ocr:
        return ocr
    ocr = mask_value(ocr)
    for f in (ocr.get("fields") or {}).values():
        if f.get("type") == "my_number":
            f["value"] = "************" if f.get("value") else f.get("value")
            f["raw"] = None
    return ocr


def job_out(job: Job) -> JobOut:
    return JobOut(id=job.id, tenant_id=job.tenant_id, kind=job.kind, status=str(job.status), attempts=job.attempts,
                  max_attempts=job.max_attempts, document_id=job.document_id, error=mask(job.error) if job.error else None,
                  result=mask_value(job.result) if job.result else None, created_at=job.created_at,
                  started_at=job.started_at, finished_at=job.finished_at)


@router.post("/token", response_model=TokenOut, summary="Exchange a password for an API token (90 days)")
def token(request: Request, body: TokenIn) -> TokenOut:
    with session_scope(engine_of(request)) as s:
        check = check_password(s, body.tenant or None, body.username, body.password, via="token")
    if check.locked_until is not None:
        raise HTTPException(status_code=429, detail="too many failed attempts for this user name; try again in 15 minutes")
    user = check.user
    if user is None:
        raise HTTPException(status_code=401, detail="invalid tenant, username or password")
    return TokenOut(token=issue_token(user, request.app.state.secret_key))


@router.get("/documents", response_model=list[DocumentOut], summary="List the tenant's documents, newest first")
def list_documents(request: Request, user: AnyUser, status: str = "", limit: int = 100) -> list[DocumentOut]:
    stmt = select(Document).order_by(Document.created_at.desc(), Document.id.desc()).limit(min(max(limit, 1), 1000))  # type: ignore[attr-defined]
    if status:
        stmt = stmt.where(Document.status == status)
    with user_session(engine_of(request), user) as s:
        return [_doc_out(d) for d in s.exec(stmt).scalars()]  # type: ignore[call-overload]


@router.get("/documents/{document_id}", response_model=DocumentDetail, summary="A document with its OCR result")
def read_document(request: Request, document_id: int, user: AnyUser) -> DocumentDetail:
    with user_session(engine_of(request), user) as s:
        doc = get_document(request, s, user, document_id)
    ocr = _mask_my_number(doc.ocr_result)
    record = None
    doubtful: list[str] = []
    if ocr:
        fields = ocr.get("fields") or {}
        record = {name: f.get("value") for name, f in fields.items()}
        doubtful = [name for name, f in fields.items() if f.get("reasons")]
    return DocumentDetail(**_doc_out(doc).model_dump(), record=record, doubtful_fields=doubtful, ocr_result=ocr)


def safe_filename(name: str) -> str:
    """A plain file name: no folders, no '..', no control characters, at most 150 characters."""
    name = unicodedata.normalize("NFC", os.path.basename(name.replace("\\", "/"))).strip()
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", name)
    if name in ("", ".", "..") or name.startswith("."):
        raise HTTPException(status_code=422, detail="the file name is empty or hidden; send a normal file name such as scan.pdf")
    stem, suffix = os.path.splitext(name)
    if suffix.lower() not in ALLOWED_SUFFIXES:
        raise HTTPException(status_code=415, detail=f"files of type '{suffix or '(none)'}' are not accepted; "
                                                    f"send one of {', '.join(sorted(ALLOWED_SUFFIXES))}")
    return stem[:150 - len(suffix)] + suffix


def _link_to_free_name(src: Path, folder: Path, name: str) -> Path:
    stem, suffix = Path(name).stem, Path(name).suffix
    for n in range(10_000):
        target = folder / (name if n == 0 else f"{stem}-{n}{suffix}")
        try:
            os.link(src, target)
            return target
        except FileExistsError:
            continue
    raise HTTPException(status_code=409, detail=f"too many files named '{name}' are waiting in the inbox")


@router.post("/documents", response_model=SubmitOut, status_code=202,
             summary="Submit a file into the tenant's inbox (intake picks it up)")
async def submit_document(request: Request, user: TenantUser, file: Annotated[UploadFile, File()],
                          folder: Annotated[str, Form(description="inbox subfolder (a configured route), '' for the inbox")] = "") -> SubmitOut:
    tenant = tenant_config(request, user.tenant_id)  # type: ignore[arg-type]
    routes = {r.folder for r in tenant.routes} | {""}
    if folder not in routes:
        raise HTTPException(status_code=422, detail=f"unknown inbox folder '{folder}'; configured: {', '.join(sorted(routes - {''})) or 'none'}")
    name = safe_filename(file.filename or "")
    inbox = tenant.folder_paths(data_root(request))["inbox"]
    target_dir = (inbox / folder) if folder else inbox
    target_dir.mkdir(parents=True, exist_ok=True)
    # Written under a unique hidden name, then linked to the first free visible name: os.link
    # fails instead of overwriting, so two uploads of "scan.pdf" at once both survive, and intake
    # never sees half a file.
    fd, tmp = tempfile.mkstemp(prefix=".upload-", suffix=".part", dir=target_dir)
    part = Path(tmp)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := await file.read(1 << 20):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise HTTPException(status_code=413, detail=f"file larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
                out.write(chunk)
        if size == 0:
            raise HTTPException(status_code=422, detail="the file is empty")
        target = _link_to_free_name(part, target_dir, name)
    finally:
        part.unlink(missing_ok=True)
    with session_scope(engine_of(request)) as s:
        audit(s, "api.submit", actor=user.label, tenant_id=user.tenant_id, target=f"inbox:{folder}/{target.name}",
              detail={"size": size})
    return SubmitOut(filename=target.name, folder=folder, size=size)


@router.get("/jobs", response_model=list[JobOut], summary="List jobs, newest first")
def list_jobs(request: Request, user: AnyUser, status: str = "", kind: str = "", limit: int = 100) -> list[JobOut]:
    with user_session(engine_of(request), user) as s:
        return [job_out(j) for j in s.exec(job_query(user, status=status, kind=kind, limit=min(max(limit, 1), 1000))).scalars()]  # type: ignore[call-overload]


@router.get("/jobs/{job_id}", response_model=JobOut, summary="One job with its result")
def read_job(request: Request, job_id: int, user: AnyUser) -> JobOut:
    with user_session(engine_of(request), user) as s:
        return job_out(get_job(request, s, user, job_id))
