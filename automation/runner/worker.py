"""The worker loop: receive a wake-up, claim a job in the database, run it under a
heartbeat-renewed lease, and write its end in one transaction.

Each worker thread has its own identity (``host:pid:thread``), which is the lease owner
of its job and the holder of its licence seat. Every write that ends a job is guarded by
``status='running' AND lease_owner=<me>``: if the reaper gave the job to someone else
while this thread stalled, this thread's late result is discarded instead of overwriting.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from tenants.audit import audit
from tenants.db import get_engine, session_scope
from tenants.licensing import release_seat, renew_seat
from tenants.models import Document, DocumentStatus, Job, JobStatus, utcnow
from tenants.privacy import mask
from tenants.scope import tenant_session
from tenants.settings import get_settings
from tenants.usage import record_usage

from . import queue
from .claim import Claim, claim_next
from .config import runner_settings
from .handlers import ApplicationError, BusinessError, JobContext, JobError, Outcome, handler_for
from .tenantcache import tenant_config

log = logging.getLogger(__name__)
T = TypeVar("T")

QUOTA_METERS = {"ocr": "ocr.page", "scenario": "rpa.record", "transcription": "asr.audio_seconds"}


def with_retry(fn: Callable[[], T], attempts: int = 8) -> T:
    """Run a unit of work again when SQLite reports a lock (several worker processes share one file)."""
    for i in range(attempts):
        try:
            return fn()
        except OperationalError as e:
            msg = str(e).lower()
            if not any(w in msg for w in ("locked", "busy", "deadlock")) or i == attempts - 1:
                raise
            time.sleep(0.05 * (2**i))
    raise AssertionError("unreachable")


class Heartbeat(threading.Thread):
    """Renews the job's lease (and its seat's) every third of the lease time."""

    def __init__(self, engine: Engine, claim: Claim, owner: str, lease_seconds: float):
        super().__init__(name=f"heartbeat-{claim.job_id}", daemon=True)
        self.engine, self.claim, self.owner, self.lease = engine, claim, owner, lease_seconds
        self.stop_event = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.stop_event.wait(self.lease / 3):
            try:
                self.lost = not with_retry(self._renew)
            except Exception:  # noqa: BLE001 - a missed beat is not fatal; the lease has slack
                log.exception("heartbeat of job %s failed", self.claim.job_id)
            if self.lost:
                log.warning("job %s: lease lost (reaped or cancelled); its result will be discarded", self.claim.job_id)
                return

    def _renew(self) -> bool:
        with session_scope(self.engine) as s:
            until = utcnow() + timedelta(seconds=self.lease)
            res = s.execute(update(Job).execution_options(synchronize_session=False).where(Job.id == self.claim.job_id, Job.status == JobStatus.running,
                                              Job.lease_owner == self.owner).values(lease_until=until, heartbeat_at=utcnow()))
            if self.claim.pool:
                renew_seat(s, self.claim.pool, self.owner, self.lease)
            return (res.rowcount or 0) == 1

    def stop(self) -> None:
        self.stop_event.set()


class Worker:
    """Runs jobs of *kinds* on *threads* threads until :meth:`stop`."""

    def __init__(self, kinds: list[str], *, threads: int | None = None, engine: Engine | None = None,
                 name: str | None = None, reaper: bool = True):
        self.kinds = kinds
        self.threads = threads or runner_settings().threads
        self.engine = engine or get_engine()
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.stop_event = threading.Event()
        self.reaper = reaper
        self._threads: list[threading.Thread] = []
        self.done = 0

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        # Import the handlers (and the models they map) before threads query the database:
        # mapping a model while another thread walks the model registry is not safe.
        for kind in self.kinds:
            try:
                handler_for(kind)
            except Exception as e:  # noqa: BLE001 - an engine not installed: its jobs fail with the reason
                log.warning("job kind %s: handler not loadable (%s)", kind, e)
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, args=(f"{self.name}:{i}",), name=f"worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        if self.reaper:
            from .reaper import Reaper

            r = Reaper(self.engine, self.stop_event)
            r.start()
            self._threads.append(r)

    def stop(self, timeout: float = 10) -> None:
        self.stop_event.set()
        for t in self._threads:
            t.join(timeout)

    def run_forever(self) -> None:
        self.start()
        try:
            while not self.stop_event.wait(0.5):
                pass
        finally:
            self.stop()

    # -- the loop --------------------------------------------------------------

    def _loop(self, ident: str) -> None:
        try:
            self._poll(ident)
        finally:
            if "scenario" in self.kinds:
                from .handlers.scenario import close_thread_browser

                close_thread_browser()

    def _poll(self, ident: str) -> None:
        idle = 0.02
        while not self.stop_event.is_set():
            worked = False
            for kind in self.kinds:
                try:
                    msg = queue.receive(kind)
                except Exception:  # noqa: BLE001 - queue hiccup (Redis restart): wait and go on
                    log.exception("reading the %s queue failed", kind)
                    msg = None
                if msg is None:
                    continue
                worked = True
                _kind, pool, _hint = msg
                try:
                    self.run_once(ident, [kind], pool)
                except Exception:  # noqa: BLE001 - keep the thread alive
                    log.exception("worker %s: unexpected error", ident)
            if worked:
                idle = 0.02
            else:
                self.stop_event.wait(idle)
                idle = min(idle * 2, 0.5)

    def run_once(self, ident: str, kinds: list[str], pool: str | None) -> int | None:
        """Claim and run one job; return its id, or None when nothing could be claimed."""
        lease = runner_settings().lease_seconds

        def _claim() -> Claim | None:
            with session_scope(self.engine) as s:
                return claim_next(s, kinds, pool, ident, lease)

        claim = with_retry(_claim)
        if claim is None:
            return None
        self.execute(claim, ident, lease)
        self.done += 1
        # A seat (or a tenant's cap) was freed: a wake-up dropped earlier because every seat
        # was busy must not strand a job. Seats: always wake the pool (other pools' messages
        # in the same queue do not help it); otherwise only when no wake-up is waiting.
        try:
            if claim.pool or queue.pending(claim.kind) == 0:
                queue.send_wake(claim.kind, pool=claim.pool)
        except Exception:  # noqa: BLE001
            log.warning("could not send the follow-up wake-up; the reaper will")
        return claim.job_id

    def execute(self, claim: Claim, owner: str, lease: float) -> None:
        hb = Heartbeat(self.engine, claim, owner, lease)
        hb.start()
        started = utcnow()
        outcome: Outcome | None = None
        error: JobError | None = None
        try:
            ctx = self._context(claim, owner, hb)
            self._check_quota(ctx)
            outcome = handler_for(claim.kind)(ctx)
        except JobError as e:
            error = e
        except Exception as e:  # noqa: BLE001 - anything unexpected is an application error (retried)
            log.error("job %s (%s) failed: %s", claim.job_id, claim.kind, mask(traceback.format_exc()))
            error = ApplicationError(f"{type(e).__name__}: {e}", "システムエラーが発生しました。管理者に連絡してください。")
        finally:
            hb.stop()
        try:
            with_retry(lambda: self._finish(claim, owner, outcome, error, started))
        except Exception:  # noqa: BLE001 - the lease expires and the reaper re-runs the job
            log.exception("could not record the end of job %s; the reaper will re-run it", claim.job_id)
            self._release(claim, owner)

    def _context(self, claim: Claim, owner: str, hb: Heartbeat) -> JobContext:
        with Session(self.engine, expire_on_commit=False) as s:
            job = s.get(Job, claim.job_id)
            doc = s.get(Document, job.document_id) if job and job.document_id else None
            if job is not None:
                s.expunge(job)
            if doc is not None:
                s.expunge(doc)
        assert job is not None
        tenant = tenant_config(claim.tenant_id)
        if tenant is None:
            raise BusinessError(f"tenant '{claim.tenant_id}' has no valid tenant file", "自治体の設定ファイルが見つからないか、誤りがあります。")
        return JobContext(job=job, tenant=tenant, engine=self.engine, folders=tenant.folder_paths(get_settings().data_root),
                          attempt=claim.attempt, pool=claim.pool, document=doc, lost=lambda: hb.lost)

    def _check_quota(self, ctx: JobContext) -> None:
        """Refuse to start a job whose tenant used up its monthly quota on the job's meter."""
        meter = QUOTA_METERS.get(ctx.job.kind)
        if not meter or meter not in ctx.tenant.quotas:
            return
        try:
            from tenants.quotas import check_quota
        except ImportError:  # metering not installed: no quotas to enforce
            return
        with session_scope(self.engine) as s:
            status: Any = check_quota(s, ctx.tenant, meter, 1 if meter != "asr.audio_seconds" else 0)
            if status.allowed:
                return
            audit(s, "quota.refused", actor="runner", tenant_id=ctx.tenant.id, target=f"job/{ctx.job.id}",
                  detail={"meter": meter, "used": status.used, "limit": status.limit})
        raise BusinessError(f"quota refused: {status.message_en}", status.message_ja)

    def _finish(self, claim: Claim, owner: str, outcome: Outcome | None, error: JobError | None, started: Any) -> None:
        now = utcnow()
        with tenant_session(claim.tenant_id, self.engine) as s:
            job = s.get(Job, claim.job_id)
            assert job is not None
            retry = error is not None and error.retry and claim.attempt < job.max_attempts
            if outcome is not None:
                status, result, err = outcome.status, outcome.result, None
            elif retry:
                status, result, err = JobStatus.queued, error.result, _error_text(error)  # type: ignore[arg-type]
            else:
                assert error is not None
                status = JobStatus.failed_application if error.retry else JobStatus.failed_business
                result, err = error.result, _error_text(error)
            values: dict[str, Any] = dict(status=status, result=result, error=err, updated_at=now, lease_owner=None, lease_until=None)
            if retry:
                delay = runner_settings().retry_base_seconds * 2 ** (claim.attempt - 1)
                values.update(run_after=now + timedelta(seconds=delay), dispatched_at=now)
            elif status != JobStatus.needs_review:
                values["finished_at"] = now
            res = s.execute(update(Job).execution_options(synchronize_session=False).where(Job.id == claim.job_id, Job.status == JobStatus.running, Job.lease_owner == owner).values(**values))
            if res.rowcount != 1:
                log.warning("job %s is no longer ours (reaped or cancelled); discarding this result", claim.job_id)
                s.rollback()
                self._release(claim, owner)
                current = s.get(Job, claim.job_id)
                if current is not None and current.status == JobStatus.cancelled:
                    # Cancelled while it ran: only now has the work stopped, so only now does the file move.
                    fail_document(s, current, f"ジョブ {claim.job_id} は実行中に取り消されました。業務システムへの入力状況を確認してください。",
                                  f"job {claim.job_id} was cancelled while running; check whether the record was entered")
                return
            for ev in (outcome.usage if outcome else error.usage if error else []):  # type: ignore[union-attr]
                record_usage(s, ev)
            if outcome is not None and outcome.apply is not None:
                outcome.apply(s)
            if error is not None and not retry:
                fail_document(s, job, error.message_ja, str(error))
            audit(s, f"job.{status}", actor=f"worker:{owner}", tenant_id=claim.tenant_id, target=f"job/{claim.job_id}",
                  detail={"kind": claim.kind, "attempt": claim.attempt, "pool": claim.pool,
                          **({"error": mask(str(error))} if error else {}),
                          **({"seconds": round((now - started).total_seconds(), 3)} if claim.pool else {})})
            if claim.pool:
                release_seat(s, claim.pool, holder=owner)
        log.info("job %s (%s) -> %s", claim.job_id, claim.kind, status)

    def _release(self, claim: Claim, owner: str) -> None:
        if not claim.pool:
            return
        try:
            with session_scope(self.engine) as s:
                release_seat(s, claim.pool, holder=owner)
        except Exception:  # noqa: BLE001 - the seat's lease expires anyway
            log.exception("could not release seat of job %s", claim.job_id)


def _error_text(error: JobError) -> str:
    """Japanese first (the job pages are read by municipal staff), the English detail after it."""
    ja = getattr(error, "message_ja", "") or ""
    return mask(f"{ja}\n{error}" if ja else str(error))


def fail_document(session: Session, job: Job, reason_ja: str, reason_en: str) -> None:
    """A job failed for good: its document's file goes to error/ with the reason."""
    if not job.document_id:
        return
    from automation.intake import finish_document

    doc = session.get(Document, job.document_id)
    if doc is None or doc.status in (DocumentStatus.done, DocumentStatus.error, DocumentStatus.duplicate):
        return
    tenant = tenant_config(job.tenant_id)
    if tenant is None:
        return
    finish_document(session, doc, outcome="error", reason_ja=reason_ja, reason_en=reason_en, tenant=tenant)
