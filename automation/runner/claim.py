"""Claiming the next job: fair turns across tenants, then priority, then age.

A worker that receives a wake-up does not simply run the job named in the message: it
asks the database which waiting job should run next. For a job that needs a licence
seat it first takes a seat (compare-and-set), then picks among the waiting jobs of that
pool the tenant that holds the fewest running jobs (ties: the one served longest ago),
then that tenant's highest priority, oldest job. So one municipality's 500 records do
not starve another's 5. Per-tenant caps (``max_concurrent_jobs``, pool caps) skip a
tenant until one of its jobs ends. The job itself is claimed with a compare-and-set
UPDATE (``status='queued'`` -> ``running``), so two workers never run a job twice.

The caps are count-then-claim, so claims must not interleave. On PostgreSQL (READ COMMITTED)
two workers would both count a tenant's running jobs before either commits and both start
one: a transaction-level advisory lock makes claims take turns (a claim takes milliseconds;
the lock ends with the caller's commit). SQLite needs none: WAL lets one writer in at a time
and a read snapshot that went stale cannot be upgraded to a write (SQLITE_BUSY_SNAPSHOT), so
the late claim is retried on fresh counts (``worker.with_retry``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, case, func, or_, select, text, update
from sqlmodel import Session

from tenants.licensing import PoolConfig, acquire_seat, attach_seat, release_seat
from tenants.models import Document, DocumentStatus, Job, JobStatus, utcnow

from .tenantcache import pools, tenant_config

log = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CLAIM_LOCK_KEY = 0x6B796F646F  # b"kyodo": the advisory lock all workers' claims share


@dataclass
class Claim:
    job_id: int
    tenant_id: str
    kind: str
    pool: str | None
    seat_no: int | None
    attempt: int


def _aware(dt: datetime | None) -> datetime:
    if dt is None:
        return _EPOCH
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt


def _due(now: datetime):  # noqa: ANN202
    return or_(Job.run_after.is_(None), Job.run_after <= now)  # type: ignore[union-attr,operator]


def _pool_filter(pool: str | None):  # noqa: ANN202
    return Job.pool == pool if pool else Job.pool.is_(None)  # type: ignore[union-attr]


def _pick(session: Session, kinds: list[str], pool: PoolConfig | None, now: datetime, exclude: set[int]) -> Job | None:
    pool_name = pool.name if pool else None
    base = [Job.kind.in_(kinds), Job.status == JobStatus.queued, _due(now), _pool_filter(pool_name)]  # type: ignore[attr-defined]
    if exclude:
        base.append(Job.id.not_in(exclude))  # type: ignore[union-attr]
    # One grouped pass over this pool's jobs: waiting, running and last start per tenant.
    is_waiting = and_(Job.status == JobStatus.queued, _due(now))
    if exclude:
        is_waiting = and_(is_waiting, Job.id.not_in(exclude))  # type: ignore[union-attr]
    stats = session.execute(
        select(Job.tenant_id,
               func.sum(case((is_waiting, 1), else_=0)),
               func.sum(case((Job.status == JobStatus.running, 1), else_=0)),
               func.max(Job.started_at))
        .where(Job.kind.in_(kinds), _pool_filter(pool_name),  # type: ignore[attr-defined]
               # finished jobs of the last day count for "served longest ago" (turn order)
               or_(Job.status.in_([JobStatus.queued, JobStatus.running]), Job.started_at > now - timedelta(days=1)))  # type: ignore[attr-defined,operator]
        .group_by(Job.tenant_id)).all()
    waiting = {tid: int(w or 0) for tid, w, _r, _l in stats if w}
    if not waiting:
        return None
    tenants = list(waiting)
    running_here = {tid: int(r or 0) for tid, _w, r, _l in stats}
    last_start = {tid: last for tid, _w, _r, last in stats}
    running_all = dict(session.execute(
        select(Job.tenant_id, func.count()).where(Job.status == JobStatus.running, Job.tenant_id.in_(tenants))  # type: ignore[attr-defined]
        .group_by(Job.tenant_id)).all())
    order = []
    for tid in tenants:
        cfg = tenant_config(tid)
        cap = cfg.max_concurrent_jobs if cfg else 4
        if running_all.get(tid, 0) >= cap:
            continue
        if pool is not None and running_here.get(tid, 0) >= pool.cap_for(tid):
            continue
        order.append((running_here.get(tid, 0), _aware(last_start.get(tid)), tid))
    for _running, _last, tid in sorted(order):
        job = session.exec(  # type: ignore[call-overload]
            select(Job).where(*base, Job.tenant_id == tid).order_by(Job.priority.desc(), Job.created_at, Job.id).limit(1)  # type: ignore[attr-defined]
        ).scalars().first()
        if job is not None:
            return job
    return None


def take_claim_turn(session: Session) -> None:
    """Serialise claims across workers until the caller's commit (PostgreSQL only, see above)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CLAIM_LOCK_KEY})


def claim_next(session: Session, kinds: list[str], pool_name: str | None, worker: str, lease_seconds: float) -> Claim | None:
    """Claim the fairest waiting job of *kinds* (in *pool_name*'s seats if given); commit is the caller's."""
    pool: PoolConfig | None = None
    seat_no: int | None = None
    take_claim_turn(session)
    if pool_name:
        pool = pools().get(pool_name)
        if pool is None:
            # A pool named by a tenant but missing from _pools.toml: run as one seat so
            # the work is not stuck, and say so.
            log.warning("licence pool '%s' is not defined in tenants/_pools.toml; using 1 seat", pool_name)
            pool = PoolConfig(name=pool_name, seats=1)
        seat_no = acquire_seat(session, pool, worker, lease_seconds)
        if seat_no is None:
            return None
    now = utcnow()
    tried: set[int] = set()
    for _ in range(5):
        job = _pick(session, kinds, pool, now, tried)
        if job is None:
            break
        tried.add(job.id)  # type: ignore[arg-type]
        attempt = job.attempts + 1  # the attempt this claim starts (the UPDATE below counts it)
        res = session.execute(
            update(Job).execution_options(synchronize_session=False).where(Job.id == job.id, Job.status == JobStatus.queued).values(
                status=JobStatus.running, lease_owner=worker, lease_until=now + timedelta(seconds=lease_seconds),
                heartbeat_at=now, attempts=Job.attempts + 1, started_at=now, updated_at=now)
        )
        if res.rowcount == 1:
            if job.document_id:
                session.execute(update(Document).execution_options(synchronize_session=False).where(
                    Document.id == job.document_id, Document.status == DocumentStatus.received)
                    .values(status=DocumentStatus.processing, updated_at=now))
            if pool is not None and seat_no is not None:
                attach_seat(session, pool.name, seat_no, worker, job_id=job.id, tenant_id=job.tenant_id)  # type: ignore[arg-type]
            return Claim(job_id=job.id, tenant_id=job.tenant_id, kind=job.kind, pool=pool.name if pool else None,  # type: ignore[arg-type]
                         seat_no=seat_no, attempt=attempt)
    if pool is not None:
        release_seat(session, pool.name, holder=worker)
    return None
