"""The reaper: nothing is lost when a worker dies or a message goes missing.

Every few seconds, in any process that runs workers:
* a running job whose lease expired (its worker was killed) is queued again, or failed
  for good once it used up its attempts (its document goes to error/ with the reason);
* a licence seat whose lease expired is freed;
* a queued job whose wake-up is overdue (lost message, retry backoff over) is woken again.
All of it is compare-and-set, so several reapers on several machines do not collide.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine

from tenants.audit import audit
from tenants.db import session_scope
from tenants.licensing import reap_seats
from tenants.models import Job, JobStatus, utcnow

from .config import runner_settings

log = logging.getLogger(__name__)


@dataclass
class ReapReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    seats_freed: int = 0
    rewoken: list[int] = field(default_factory=list)


def reap_once(engine: Engine) -> ReapReport:
    from automation.jobs import dispatch_after_commit

    from .queue import pending as queue_pending
    from .worker import fail_document, with_retry

    def _run() -> ReapReport:
        rep = ReapReport()
        now = utcnow()
        with session_scope(engine) as s:
            expired = list(s.exec(select(Job).where(Job.status == JobStatus.running, Job.lease_until < now)).scalars())  # type: ignore[call-overload,operator]
            for job in expired:
                final = job.attempts >= job.max_attempts
                status = JobStatus.failed_application if final else JobStatus.queued
                res = s.execute(update(Job).execution_options(synchronize_session=False).where(Job.id == job.id, Job.status == JobStatus.running, Job.lease_until < now).values(
                    status=status, lease_owner=None, lease_until=None, dispatched_at=now, updated_at=now,
                    error=f"worker {job.lease_owner} stopped (lease expired) during attempt {job.attempts}",
                    **({"finished_at": now} if final else {})))
                if res.rowcount != 1:
                    continue
                audit(s, "job.lease_expired", actor="reaper", tenant_id=job.tenant_id, target=f"job/{job.id}",
                      detail={"owner": job.lease_owner, "attempt": job.attempts, "final": final})
                if final:
                    rep.failed.append(job.id)  # type: ignore[arg-type]
                    fail_document(s, job, "処理中に停止が繰り返されたため中止しました。管理者に連絡してください。",
                                  f"the worker stopped during all {job.attempts} attempts")
                else:
                    rep.requeued.append(job.id)  # type: ignore[arg-type]
                    s.refresh(job)
                    dispatch_after_commit(s, job)
            freed = reap_seats(s)
            rep.seats_freed = len(freed)
            for seat in freed:
                audit(s, "seat.lease_expired", actor="reaper", tenant_id=seat.held_for, target=f"pool/{seat.pool}/{seat.seat_no}",
                      detail={"holder": seat.holder, "job": seat.job_id})
            overdue = now - timedelta(seconds=runner_settings().redispatch_seconds)
            stale = list(s.exec(select(Job).where(  # type: ignore[call-overload]
                Job.status == JobStatus.queued,
                or_(Job.dispatched_at.is_(None), Job.dispatched_at < overdue,  # type: ignore[union-attr,operator]
                    and_(Job.run_after.is_not(None), Job.run_after <= now, Job.dispatched_at < Job.run_after)),  # type: ignore[union-attr,operator]
            ).limit(500)).scalars())
            pending: dict[str, int] = {}
            for job in stale:
                if job.kind not in pending:
                    try:
                        pending[job.kind] = queue_pending(job.kind)
                    except Exception:  # noqa: BLE001 - queue unreachable: resend anyway
                        pending[job.kind] = 0
                if pending[job.kind] > 0:
                    continue  # wake-ups of this kind are still waiting for a worker; do not pile up more
                s.execute(update(Job).execution_options(synchronize_session=False).where(Job.id == job.id).values(dispatched_at=now))
                rep.rewoken.append(job.id)  # type: ignore[arg-type]
                dispatch_after_commit(s, job)
        return rep

    rep = with_retry(_run)
    if rep.requeued or rep.failed or rep.seats_freed:
        log.warning("reaper: requeued %s, failed %s, freed %d seat(s)", rep.requeued, rep.failed, rep.seats_freed)
    return rep


class Reaper(threading.Thread):
    def __init__(self, engine: Engine, stop: threading.Event, interval: float | None = None):
        super().__init__(name="reaper", daemon=True)
        self.engine, self.stop_event = engine, stop
        self.interval = interval or runner_settings().reaper_interval

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                reap_once(self.engine)
            except Exception:  # noqa: BLE001 - try again next round
                log.exception("reaper round failed")
