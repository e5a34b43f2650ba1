"""Creating and steering jobs. The job table is the system of record; the queue only
carries wake-ups ("a job of kind K is waiting"), sent after the creating transaction
commits so a worker never looks for a job it cannot see yet."""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tenants.audit import audit
from tenants.models import Job, JobStatus, utcnow

log = logging.getLogger(__name__)

_PENDING = "kyodo_dispatch"


def scenario_job_key(document_id: int) -> str:
    """One key for "enter this document's record", whether OCR or the clerk's approval queues it,
    so a re-run OCR after an approval can never queue the entry twice."""
    return f"scenario:doc:{document_id}"


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
    """Insert a queued job in the caller's transaction, or return the job already holding the key.

    The wake-up message is sent when the caller's transaction commits (never before, never
    on rollback); if the process dies in between, the reaper resends it.
    """
    from automation.runner.tenantcache import seat_pool

    if idempotency_key:
        existing = _by_key(session, idempotency_key)
        if existing is not None:
            return existing
    payload = payload or {}
    job = Job(tenant_id=tenant_id, kind=kind, payload=payload, idempotency_key=idempotency_key,
              priority=priority, document_id=document_id, max_attempts=max_attempts,
              pool=seat_pool(tenant_id, kind, payload), dispatched_at=utcnow())
    if not _savepoint_safe(session):
        session.add(job)
        session.flush()
        dispatch_after_commit(session, job)
        return job
    try:
        with session.begin_nested():  # a concurrent insert of the same key loses cleanly
            session.add(job)
            session.flush()
    except IntegrityError:
        if idempotency_key and (existing := _by_key(session, idempotency_key)) is not None:
            return existing
        raise
    dispatch_after_commit(session, job)
    return job


def _savepoint_safe(session: Session) -> bool:
    """SQLite's driver opens its transaction only at the first write; a SAVEPOINT issued
    before that would itself be the transaction and its RELEASE would commit the caller's
    work early. There, skip the savepoint (SQLite's single writer makes the race rare)."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return True
    return bool(getattr(conn.connection.dbapi_connection, "in_transaction", False))


def _by_key(session: Session, key: str) -> Job | None:
    return session.exec(select(Job).where(Job.idempotency_key == key)).scalars().first()  # type: ignore[call-overload]


def dispatch_after_commit(session: Session, job: Job) -> None:
    session.info.setdefault(_PENDING, []).append((job.kind, job.pool, job.id))


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    from automation.runner.queue import send_wake

    for kind, pool, job_id in pending:
        try:
            send_wake(kind, pool=pool, job_id=job_id)
        except Exception as e:  # noqa: BLE001 - the reaper resends; the job is safe in the database
            log.warning("could not send wake-up for job %s (%s); the reaper will resend it", job_id, e)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:  # noqa: ANN001
    if previous_transaction.parent is None:  # only the outermost rollback discards
        session.info.pop(_PENDING, None)


def retry_job(session: Session, job_id: int, *, actor: str = "cli") -> Job:
    """Queue a finished (failed or cancelled) job again with a fresh attempt budget."""
    job = session.get(Job, job_id)
    if job is None:
        raise LookupError(f"no job {job_id}")
    if job.status in (JobStatus.queued, JobStatus.running):
        raise ValueError(f"job {job_id} is {job.status}; only finished jobs can be retried")
    session.execute(update(Job).execution_options(synchronize_session=False).where(Job.id == job_id).values(
        status=JobStatus.queued, attempts=0, error=None, run_after=None, lease_owner=None, lease_until=None,
        finished_at=None, dispatched_at=utcnow(), updated_at=utcnow()))
    audit(session, "job.retry", actor=actor, tenant_id=job.tenant_id, target=f"job/{job_id}", detail={"was": str(job.status)})
    session.refresh(job)
    dispatch_after_commit(session, job)
    return job


def cancel_job(session: Session, job_id: int, *, actor: str = "cli") -> Job:
    """Cancel a queued or running job (a running one's result is discarded when it ends)."""
    job = session.get(Job, job_id)
    if job is None:
        raise LookupError(f"no job {job_id}")
    if JobStatus(job.status).finished:
        raise ValueError(f"job {job_id} already finished ({job.status})")
    was_running = job.status == JobStatus.running
    session.execute(update(Job).execution_options(synchronize_session=False).where(Job.id == job_id).values(
        status=JobStatus.cancelled, finished_at=utcnow(), updated_at=utcnow(), lease_until=None))
    audit(session, "job.cancel", actor=actor, tenant_id=job.tenant_id, target=f"job/{job_id}", detail={"was": str(job.status)})
    session.refresh(job)
    if job.document_id and not was_running:
        # Every file a clerk gave us ends in done/ or error/: a cancelled job's file goes to error/.
        # A running job may still be entering the record; its worker moves the file when it stops.
        from automation.runner.worker import fail_document

        fail_document(session, job, f"ジョブ {job_id} が取り消されたため処理していません（{actor}）。",
                      f"job {job_id} was cancelled by {actor}; the file was not processed")
    return job
