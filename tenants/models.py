"""Database models (SQLModel): the same declarative models on SQLite and PostgreSQL.

Times are stored in UTC (timezone-aware) and shown in Asia/Tokyo by the UI and CLI.
The job table is the system of record for all work (see DESIGN.md); the queue only
carries job ids.
"""
from __future__ import annotations

from datetime import datetime, timezone
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, String, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _ts(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), **kw)


def _ts_opt(**kw: Any) -> Any:
    return Field(default=None, sa_type=DateTime(timezone=True), **kw)


def _json(default: Any = None) -> Any:
    if default is None:
        return Field(default=None, sa_column=Column(JSON, nullable=True))
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed_business = "failed_business"
    failed_application = "failed_application"
    needs_review = "needs_review"
    cancelled = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobStatus.succeeded, JobStatus.failed_business, JobStatus.failed_application, JobStatus.cancelled)


class DocumentStatus(StrEnum):
    received = "received"
    processing = "processing"
    needs_review = "needs_review"
    ready = "ready"
    done = "done"
    error = "error"
    duplicate = "duplicate"


class Tenant(SQLModel, table=True):
    """A municipality, mirrored from its tenant file so rows can reference it."""

    id: str = Field(primary_key=True, max_length=64)
    display_name: str
    population: int = 0
    enabled: bool = True
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Document(SQLModel, table=True):
    """A file a clerk handed in (scan or recording), from intake to done/ or error/."""

    __table_args__ = (UniqueConstraint("tenant_id", "sha256", name="uq_document_tenant_sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    filename: str
    path: str = Field(description="where the file is now (processing/, done/ or error/)")
    sha256: str = Field(max_length=64)
    size: int = 0
    media_type: str = ""
    route: str = Field(default="", description="inbox subfolder it came through")
    template: str | None = None
    # Enums are stored as plain strings: new states need no ALTER TYPE on PostgreSQL.
    status: DocumentStatus = Field(default=DocumentStatus.received, index=True, sa_type=String(32))
    pages: int = 0
    ocr_result: dict[str, Any] | None = _json()
    error: str | None = None
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class Job(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("idempotency_key", name="uq_job_idempotency_key"),
        Index("ix_job_dispatch", "status", "priority", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    tenant_id: str = Field(foreign_key="tenant.id", index=True, max_length=64)
    kind: str = Field(index=True, max_length=32)
    status: JobStatus = Field(default=JobStatus.queued, sa_type=String(32))
    priority: int = Field(default=0, description="higher runs first among a tenant's jobs")
    attempts: int = 0
    max_attempts: int = 3
    lease_until: datetime | None = _ts_opt()
    lease_owner: str | None = None
    heartbeat_at: datetime | None = _ts_opt()
    idempotency_key: str | None = Field(default=None, max_length=200)
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    # Runner columns (revision 0002_runner): the licence pool whose seat the job needs,
    # when its wake-up message was last sent (the reaper resends lost ones), and the
    # earliest time a retried job may run again (backoff).
    pool: str | None = Field(default=None, max_length=64, index=True)
    dispatched_at: datetime | None = _ts_opt()
    run_after: datetime | None = _ts_opt()
    payload: dict[str, Any] = _json(dict)
    result: dict[str, Any] | None = _json()
    error: str | None = None
    created_at: datetime = _ts()
    started_at: datetime | None = _ts_opt()
    finished_at: datetime | None = _ts_opt()
    updated_at: datetime = _ts()


class UsageEvent(SQLModel, table=True):
    """CloudEvents-shaped usage record; (source, event_id) is unique so a resend counts once."""

    __tablename__ = "usage_event"
    __tenant_column__ = "subject"
    __table_args__ = (
        UniqueConstraint("source", "event_id", name="uq_usage_event_source_id"),
        Index("ix_usage_event_subject_type_time", "subject", "type", "time"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=200)
    source: str = Field(max_length=200)
    type: str = Field(max_length=64)
    subject: str = Field(foreign_key="tenant.id", max_length=64, description="the tenant")
    time: datetime = _ts()
    value: float = Field(default=1.0, description="the quantity (pages, seconds, records)")
    job_id: int | None = Field(default=None, index=True)
    data: dict[str, Any] = _json(dict)


class AuditEvent(SQLModel, table=True):
    """Who did what and when; append-only, hash-chained (see tenants/audit.py)."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    time: datetime = _ts()
    tenant_id: str | None = Field(default=None, index=True, max_length=64)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64, index=True)
    target: str = ""
    detail: dict[str, Any] = _json(dict)
    prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(default="", max_length=64)
