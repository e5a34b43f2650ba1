"""Creating jobs. The job table is the system of record; the queue only carries job ids."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from tenants.models import Job


def enqueue(
    session: Session,
    *,
    tenant_id: str,
    kind: str,
    payload: dict[str, Any] | None = None,
    idempotency_key: str | None = None,
    priority: int = 0,
    document_id: int | None = None,
    max_attempts: int = 3,
) -> Job:
    """Insert a queued job in the caller's transaction, or return the job already holding the key."""
    if idempotency_key:
        existing = session.exec(select(Job).where(Job.idempotency_key == idempotency_key)).scalars().first()  # type: ignore[call-overload]
        if existing is not None:
            return existing
    job = Job(tenant_id=tenant_id, kind=kind, payload=payload or {}, idempotency_key=idempotency_key,
              priority=priority, document_id=document_id, max_attempts=max_attempts)
    session.add(job)
    session.flush()
    return job
