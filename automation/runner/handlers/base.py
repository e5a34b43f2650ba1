"""What a job handler gets and returns.

A handler does the slow work (OCR, a browser run, transcription) outside any database
transaction and returns an :class:`Outcome`. The worker then writes, in ONE transaction,
the job's new status, the outcome's usage events, its document changes and follow-up
jobs (``Outcome.apply``), the audit event, and the seat release. A retried job produces
the same usage event ids (:meth:`JobContext.usage`), so it never counts twice.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from tenants.config import TenantConfig
from tenants.models import Document, Job, JobStatus
from tenants.usage import UsageIn


@dataclass
class JobContext:
    job: Job
    tenant: TenantConfig
    engine: Engine
    folders: dict[str, Path]
    attempt: int
    pool: str | None = None
    document: Document | None = None
    lost: Callable[[], bool] = lambda: False

    @property
    def payload(self) -> dict[str, Any]:
        return self.job.payload or {}

    def usage(self, type_: str, value: float, item: str = "", data: dict[str, Any] | None = None) -> UsageIn:
        """A usage event whose id depends only on (job, type, item): attempt-independent."""
        suffix = f":{item}" if item else ""
        return UsageIn(event_id=f"job-{self.job.id}:{type_}{suffix}", source="kyodo/runner", type=type_,
                       subject=self.tenant.id, value=value, job_id=self.job.id, data=data or {})

    def work_dir(self) -> Path:
        d = self.folders["work"] / f"job-{self.job.id}"
        d.mkdir(parents=True, exist_ok=True)
        return d


@dataclass
class Outcome:
    status: JobStatus = JobStatus.succeeded
    result: dict[str, Any] = field(default_factory=dict)
    usage: list[UsageIn] = field(default_factory=list)
    # Runs inside the finishing transaction: document state, follow-up jobs.
    apply: Callable[[Session], None] | None = None


class JobError(Exception):
    """A job failed; ``message_ja`` goes to the clerk (reason file, UI)."""

    retry = False

    def __init__(self, message_en: str, message_ja: str = "", *, usage: list[UsageIn] | None = None,
                 result: dict[str, Any] | None = None):
        super().__init__(message_en)
        self.message_ja = message_ja or "処理中にエラーが発生しました。"
        self.usage = usage or []
        self.result = result or {}


class BusinessError(JobError):
    """The input or the business system says no (wrong data, recipient unknown): no retry."""


class ApplicationError(JobError):
    """Something broke (browser crash, system down): retried with backoff up to max_attempts."""

    retry = True


def require_document(ctx: JobContext, what_en: str, what_ja: str) -> Document:
    """The job's document, or a business error (no retry) naming what was expected."""
    if ctx.document is None:
        raise BusinessError(f"{what_en} job needs a document", f"{what_ja}がありません。")
    return ctx.document
