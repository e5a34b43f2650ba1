"""Jobs: dispatch after commit, claims, retries with backoff, failure kinds, the reaper,
usage counted once, licence seats with leases, and fair turns across tenants."""
from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlmodel import Session

from automation.intake import Intake
from automation.jobs import cancel_job, enqueue, retry_job
from automation.runner import queue
from automation.runner.claim import claim_next
from automation.runner.reaper import reap_once
from automation.runner.service import drain
from automation.runner.tenantcache import pools
from automation.runner.worker import Worker
from tenants.licensing import LicenceSeat, acquire_seat, seats_of
from tenants.loader import get_tenant
from tenants.models import AuditEvent, Document, DocumentStatus, Job, JobStatus, UsageEvent, utcnow

from .conftest import Platform, wait_for


def _job(platform: Platform, job_id: int) -> Job:
    with platform.session() as s:
        j = s.get(Job, job_id)
        assert j is not None
        return j


def _drop(platform: Platform, tenant: str, name: str, payload: dict | None = None) -> tuple[int, int]:
    intake = Intake(get_tenant(tenant).config, engine=platform.engine, kind_override="echo",
                    settle_seconds=0, payload_extra=payload or {})
    (intake.folders["inbox"] / name).write_bytes(f"content of {name}".encode())
    [r] = intake.scan()
    assert r.status == "queued"
    return r.document_id, r.job_id  # type: ignore[return-value]


def test_wake_up_is_sent_after_commit_only(platform: Platform) -> None:
    with platform.session() as s:
        enqueue(s, tenant_id="alpha", kind="echo", payload={}, idempotency_key="k1")
        assert queue.pending("echo") == 0  # not before commit
        s.rollback()
    assert queue.pending("echo") == 0  # never for a rolled-back job
    with platform.session() as s:
        j1 = enqueue(s, tenant_id="alpha", kind="echo", payload={}, idempotency_key="k1")
        j2 = enqueue(s, tenant_id="alpha", kind="echo", payload={}, idempotency_key="k1")
        s.commit()
    assert j1.id == j2.id and queue.pending("echo") == 1
    assert queue.receive("echo") == ("echo", None, j1.id)


def test_application_error_is_retried_with_backoff_and_usage_counted_once(platform: Platform) -> None:
    doc_id, job_id = _drop(platform, "alpha", "flaky.pdf", {"fail": "application", "succeed_on_attempt": 3})
    assert drain(platform.engine, timeout=20, kinds=["echo"])
    job = _job(platform, job_id)
    assert job.status == JobStatus.succeeded and job.attempts == 3
    with platform.session() as s:
        doc = s.get(Document, doc_id)
        ev = list(s.exec(select(UsageEvent).where(UsageEvent.job_id == job_id)).scalars())
        actions = [a.action for a in s.exec(select(AuditEvent).where(AuditEvent.target == f"job/{job_id}").order_by(AuditEvent.id)).scalars()]
    assert doc.status == DocumentStatus.done and Path(doc.path).parent.name == "done"
    assert [e.event_id for e in ev] == [f"job-{job_id}:storage.bytes:outbox"]
    assert actions == ["job.queued", "job.queued", "job.succeeded"]


def test_application_error_exhausts_attempts_then_document_goes_to_error(platform: Platform) -> None:
    doc_id, job_id = _drop(platform, "beta", "broken.pdf", {"fail": "application"})
    assert drain(platform.engine, timeout=20, kinds=["echo"])
    job = _job(platform, job_id)
    assert job.status == JobStatus.failed_application and job.attempts == job.max_attempts == 3
    with platform.session() as s:
        doc = s.get(Document, doc_id)
    assert doc.status == DocumentStatus.error and Path(doc.path).parent.name == "error"
    reason = Path(doc.path + ".reason.txt").read_text(encoding="utf-8")
    assert "アプリケーションエラー" in reason and "attempt 3" in reason


def test_business_error_is_not_retried(platform: Platform) -> None:
    doc_id, job_id = _drop(platform, "beta", "wrong.pdf", {"fail": "business"})
    assert drain(platform.engine, timeout=20, kinds=["echo"])
    job = _job(platform, job_id)
    assert job.status == JobStatus.failed_business and job.attempts == 1
    with platform.session() as s:
        assert s.get(Document, doc_id).status == DocumentStatus.error


def test_reaper_requeues_an_expired_lease_then_fails_when_attempts_are_used_up(platform: Platform) -> None:
    doc_id, job_id = _drop(platform, "alpha", "stuck.pdf", {"seat": True})
    queue.flush("echo")
    with platform.session() as s:
        claim = claim_next(s, ["echo"], "robots", "dead-worker:0", 0.2)
        s.commit()
    assert claim is not None and claim.job_id == job_id and claim.seat_no == 0
    time.sleep(0.3)
    rep = reap_once(platform.engine)
    assert rep.requeued == [job_id] and rep.seats_freed == 1
    assert queue.receive("echo") == ("echo", "robots", job_id)  # re-dispatched
    with platform.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(attempts=3, status=JobStatus.running, lease_until=utcnow() - timedelta(seconds=1)))
        s.commit()
    rep = reap_once(platform.engine)
    assert rep.failed == [job_id]
    with platform.session() as s:
        doc = s.get(Document, doc_id)
    assert doc.status == DocumentStatus.error and "停止" in Path(doc.path + ".reason.txt").read_text(encoding="utf-8")


def test_lost_wake_up_is_resent(platform: Platform, monkeypatch) -> None:  # noqa: ANN001
    _doc, job_id = _drop(platform, "alpha", "lost.pdf")
    queue.flush("echo")  # the message is lost
    with platform.session() as s:
        s.execute(update(Job).where(Job.id == job_id).values(dispatched_at=utcnow() - timedelta(seconds=10)))
        s.commit()
    assert reap_once(platform.engine).rewoken == [job_id]
    assert drain(platform.engine, timeout=10, kinds=["echo"])
    assert _job(platform, job_id).status == JobStatus.succeeded


def test_cancel_and_retry(platform: Platform) -> None:
    doc_id, job_id = _drop(platform, "alpha", "c.pdf")
    with platform.session() as s:
        assert cancel_job(s, job_id, actor="clerk").status == JobStatus.cancelled
        s.commit()
    assert drain(platform.engine, timeout=5, kinds=["echo"])
    assert _job(platform, job_id).status == JobStatus.cancelled
    with platform.session() as s:
        doc = s.get(Document, doc_id)
    assert doc.status == DocumentStatus.error and "取り消され" in Path(doc.path + ".reason.txt").read_text(encoding="utf-8")
    with platform.session() as s:
        assert retry_job(s, job_id).status == JobStatus.queued
        s.commit()
    assert drain(platform.engine, timeout=10, kinds=["echo"])
    assert _job(platform, job_id).status == JobStatus.succeeded
    with platform.session() as s:
        doc = s.get(Document, doc_id)
    assert doc.status == DocumentStatus.done and Path(doc.path).parent.name == "done" and Path(doc.path).is_file()


def test_cancelling_a_running_job_moves_its_file_only_when_the_worker_stops(platform: Platform) -> None:
    doc_id, job_id = _drop(platform, "alpha", "slow.pdf", {"sleep": 30})
    done = threading.Event()
    worker = threading.Thread(target=lambda: (drain(platform.engine, timeout=60, kinds=["echo"]), done.set()), daemon=True)
    worker.start()
    deadline = time.monotonic() + 30
    while _job(platform, job_id).status != JobStatus.running:
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    with platform.session() as s:
        cancel_job(s, job_id, actor="admin")
        s.commit()
        assert s.get(Document, doc_id).status != DocumentStatus.error  # still in the worker's hands
    assert done.wait(60)
    with platform.session() as s:
        doc = s.get(Document, doc_id)
    assert _job(platform, job_id).status == JobStatus.cancelled
    assert doc.status == DocumentStatus.error and "実行中に取り消されました" in Path(doc.path + ".reason.txt").read_text(encoding="utf-8")


def test_seats_are_compare_and_set_with_expiring_leases(platform: Platform) -> None:
    pool = pools()["robots"]
    with platform.session() as s:
        assert acquire_seat(s, pool, "w1", 0.3) == 0
        assert acquire_seat(s, pool, "w2", 0.3) == 1
        assert acquire_seat(s, pool, "w3", 0.3) is None  # both busy
        s.commit()
    time.sleep(0.4)
    with platform.session() as s:
        assert acquire_seat(s, pool, "w3", 5) == 0  # an expired seat is free again
        s.commit()
        views = seats_of(s, pool)
    assert [v.busy for v in views] == [True, False]
    with platform.session() as s:
        assert len(list(s.exec(select(LicenceSeat)).scalars())) == 2


def test_fair_turns_two_seats_b_five_start_before_a_twentieth(platform: Platform) -> None:
    """With 2 seats, A queues 200 jobs and B 5 right after: B's 5 all start before A's 20th."""
    w = Worker(["echo"], threads=4, engine=platform.engine, reaper=False)
    w.start()
    try:
        with platform.session() as s:
            for i in range(200):
                enqueue(s, tenant_id="alpha", kind="echo", payload={"seat": True, "sleep": 0.05}, idempotency_key=f"a{i}")
            s.commit()
        with platform.session() as s:
            b_ids = [enqueue(s, tenant_id="beta", kind="echo", payload={"seat": True, "sleep": 0.05}, idempotency_key=f"b{i}").id
                     for i in range(5)]
            s.commit()

        def b_done() -> bool:
            with platform.session() as s:
                return all(s.get(Job, i).status == JobStatus.succeeded for i in b_ids)
        wait_for(b_done, 60, "B's jobs")
    finally:
        w.stop()
    with platform.session() as s:
        starts = [(a.time, a.detail) for a in s.exec(select(AuditEvent).where(AuditEvent.action == "job.succeeded").order_by(AuditEvent.id)).scalars()]
        jobs = {j.id: j for j in s.exec(select(Job)).scalars()}
    order = sorted((j.started_at, j.tenant_id) for j in jobs.values() if j.started_at is not None)
    a_before_last_b = 0
    b_seen = 0
    for _t, tid in order:
        if tid == "beta":
            b_seen += 1
            if b_seen == 5:
                break
        else:
            a_before_last_b += 1
    assert b_seen == 5
    print(f"fairness: A started {a_before_last_b} job(s) before B's 5th start")
    assert a_before_last_b < 19, f"A started {a_before_last_b} jobs before B's 5th"
    assert all(j.pool == "robots" for j in jobs.values())
    assert starts  # audited
    # Never more than 2 seats at once: every succeeded job held one of seat 0/1.
    with platform.session() as s:
        assert {seat.seat_no for seat in s.exec(select(LicenceSeat)).scalars()} == {0, 1}


def test_per_tenant_pool_cap(platform: Platform) -> None:
    (platform.tenants_dir / "_pools.toml").write_text('[pools.robots]\nseats = 2\n[pools.robots.caps]\n"gamma" = 1\n', encoding="utf-8")
    assert pools()["robots"].cap_for("gamma") == 1
    with platform.session() as s:
        for i in range(2):
            enqueue(s, tenant_id="gamma", kind="echo", payload={"seat": True}, idempotency_key=f"g{i}")
        s.commit()
    queue.flush("echo")
    with platform.session() as s:
        first = claim_next(s, ["echo"], "robots", "w1", 5)
        second = claim_next(s, ["echo"], "robots", "w2", 5)
        s.commit()
    assert first is not None and second is None  # a free seat, but gamma is at its cap
    with platform.session() as s:
        assert [v.busy for v in seats_of(s, pools()["robots"])] == [True, False]


def test_threads_run_concurrently_without_double_claims(platform: Platform) -> None:
    with platform.session() as s:
        ids = [enqueue(s, tenant_id=t, kind="echo", payload={"sleep": 0.01}, idempotency_key=f"{t}{i}").id
               for i in range(20) for t in ("alpha", "beta", "gamma")]
        s.commit()
    done = threading.Event()
    assert drain(platform.engine, timeout=30, kinds=["echo"], threads=4)
    done.set()
    with platform.session() as s:
        jobs = [s.get(Job, i) for i in ids]
        succeeded = [a for a in s.exec(select(AuditEvent).where(AuditEvent.action == "job.succeeded")).scalars()]
    assert all(j.status == JobStatus.succeeded for j in jobs)
    # Exactly one recorded end per job. (A job may be *attempted* twice if a heavily loaded
    # machine starves a heartbeat past its lease; the late result is then discarded.)
    assert len(succeeded) == len(ids) == len({a.target for a in succeeded})


def test_a_job_over_its_tenants_monthly_quota_is_refused_with_the_reason(platform: Platform) -> None:
    from tenants.usage import UsageIn, record_usage

    p = platform.tenants_dir / "gamma.toml"
    p.write_text(p.read_text(encoding="utf-8") + '\n[quotas."ocr.page"]\nmonthly_limit = 2\n', encoding="utf-8")
    with platform.session() as s:
        for i in range(2):
            record_usage(s, UsageIn(event_id=f"earlier-{i}", source="test", type="ocr.page", subject="gamma", value=1))
        s.commit()
    intake = Intake(get_tenant("gamma").config, engine=platform.engine, settle_seconds=0)
    (intake.folders["inbox"] / "scan.png").write_bytes(b"\x89PNG not even read")
    [r] = intake.scan()
    assert drain(platform.engine, timeout=20, kinds=["ocr"])
    job = _job(platform, r.job_id)
    assert job.status == JobStatus.failed_business and "quota" in job.error
    with platform.session() as s:
        doc = s.get(Document, r.document_id)
        refused = s.exec(select(AuditEvent).where(AuditEvent.action == "quota.refused")).scalars().first()
    assert doc.status == DocumentStatus.error and "上限" in Path(doc.path + ".reason.txt").read_text(encoding="utf-8")
    assert refused is not None and refused.tenant_id == "gamma"


def test_tenant_cap_holds_across_concurrent_postgresql_claims(pg_redis_platform: Platform) -> None:
    """Two workers claiming at once must not both see room under gamma's cap of one job.

    Worker 1 (OCR-like kinds) claims and keeps its transaction open; worker 2 (another kind,
    so no row lock on the same job holds it back) claims meanwhile. Under READ COMMITTED,
    without the claim lock, worker 2 would count no running job and start a second one.
    """
    platform = pg_redis_platform
    path = platform.tenants_dir / "gamma.toml"
    path.write_text(path.read_text(encoding="utf-8").replace("max_concurrent_jobs = 4", "max_concurrent_jobs = 1"), encoding="utf-8")
    with platform.session() as s:
        for kind in ("echo", "transcription"):
            job = enqueue(s, tenant_id="gamma", kind=kind, payload={}, idempotency_key=f"cap-{kind}")
            assert job.pool is None
        s.commit()
    queue.flush("echo")
    queue.flush("transcription")
    second: list = []
    with platform.session() as s1:
        first = claim_next(s1, ["echo"], None, "w1", 30)
        assert first is not None
        t = threading.Thread(target=lambda: second.append(_claim_in_own_session(platform, "w2")))
        t.start()
        time.sleep(1.0)  # worker 2 is now waiting for its turn (or, without the lock, already done)
        s1.commit()
    t.join(20)
    assert second == [None]
    with platform.session() as s:
        assert s.exec(select(func.count()).select_from(Job).where(Job.status == JobStatus.running)).scalar_one() == 1


def _claim_in_own_session(platform: Platform, worker: str):  # noqa: ANN202
    with platform.session() as s:
        c = claim_next(s, ["transcription"], None, worker, 30)
        s.commit()
        return c
