"""Crash safety and sharing with REAL worker processes (``python -m automation.runner worker``)."""
from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from automation.intake import Intake
from automation.jobs import enqueue
from automation.runner.tenantcache import pools
from tenants.licensing import seats_of
from tenants.loader import get_tenant
from tenants.models import AuditEvent, Document, DocumentStatus, Job, JobStatus, UsageEvent

from .conftest import Platform, wait_for


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".reason.txt")]


def _drop_many(platform: Platform, per_tenant: int, payload: dict) -> list[int]:
    ids = []
    for tenant in ("alpha", "beta"):
        intake = Intake(get_tenant(tenant).config, engine=platform.engine, kind_override="echo",
                        settle_seconds=0, payload_extra=payload)
        for i in range(per_tenant):
            (intake.folders["inbox"] / f"{tenant}-{i}.pdf").write_bytes(f"{tenant} scan {i}".encode())
        ids += [r.job_id for r in intake.scan()]
    return ids


def _running(platform: Platform) -> list[Job]:
    with platform.session() as s:
        return list(s.exec(select(Job).where(Job.status == JobStatus.running)).scalars())


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", pytest.param("pg_redis", marks=[pytest.mark.postgres, pytest.mark.redis])])
def test_kill_9_mid_job_and_restart_loses_nothing_and_counts_once(backend: str, request: pytest.FixtureRequest) -> None:
    platform: Platform = request.getfixturevalue("platform" if backend == "sqlite" else "pg_redis_platform")
    job_ids = _drop_many(platform, 4, {"seat": True, "sleep": 0.6})
    assert len(job_ids) == 8
    victim = platform.start_worker("--kinds", "echo", "--threads", "2")
    wait_for(lambda: len(_running(platform)) == 2, 30, "two jobs running in the first worker", platform)
    running = {j.id for j in _running(platform)}
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    with platform.session() as s:
        held = [v for v in seats_of(s, pools()["robots"]) if v.busy]
    assert len(held) == 2 and {v.job_id for v in held} <= running | {None}, "the dead worker's seats are still leased"

    platform.start_worker("--kinds", "echo", "--threads", "2")

    def all_done() -> bool:
        with platform.session() as s:
            return all(s.get(Job, i).status == JobStatus.succeeded for i in job_ids)
    wait_for(all_done, 60, "every job to succeed after the restart", platform)

    folders = {name: platform.folder(t, name) for t in ("alpha",) for name in ("done",)}
    done = _files(platform.folder("alpha", "done")) + _files(platform.folder("beta", "done"))
    error = _files(platform.folder("alpha", "error")) + _files(platform.folder("beta", "error"))
    left = sum(len(_files(platform.folder(t, n))) for t in ("alpha", "beta") for n in ("inbox", "processing"))
    assert len(done) == 8 and error == [] and left == 0, folders
    with platform.session() as s:
        docs = list(s.exec(select(Document)).scalars())
        jobs = {i: s.get(Job, i) for i in job_ids}
        events = list(s.exec(select(UsageEvent)).scalars())
        lease_expired = list(s.exec(select(AuditEvent).where(AuditEvent.action == "job.lease_expired")).scalars())
        seats_freed = list(s.exec(select(AuditEvent).where(AuditEvent.action == "seat.lease_expired")).scalars())
        succeeded = Counter(a.target for a in s.exec(select(AuditEvent).where(AuditEvent.action == "job.succeeded")).scalars())
        seats = seats_of(s, pools()["robots"])
    assert all(d.status == DocumentStatus.done and Path(d.path).is_file() for d in docs)
    assert {Path(d.path) for d in docs} == set(done)  # each document in exactly one place
    # Every usage event once: one storage event per document at intake, one per job result.
    per_type = Counter((e.type, e.event_id.split(":")[-1]) for e in events)
    assert per_type == {("storage.bytes", "storage.bytes"): 8, ("storage.bytes", "outbox"): 8}
    assert len({(e.source, e.event_id) for e in events}) == len(events) == 16
    assert set(succeeded.values()) == {1} and len(succeeded) == 8
    # The killed jobs ran again (attempt 2) after the reaper found their expired leases.
    assert {f"job/{i}" for i in running} <= {a.target for a in lease_expired}
    assert all(jobs[i].attempts >= 2 for i in running)
    assert seats_freed or all(not v.busy for v in seats)  # seats came back
    assert not any(v.busy for v in seats)
    outbox = _files(platform.folder("alpha", "outbox")) + _files(platform.folder("beta", "outbox"))
    assert len(outbox) == 8


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
def test_two_workers_on_redis_and_postgresql_share_the_work_without_running_a_job_twice(pg_redis_platform: Platform) -> None:
    platform = pg_redis_platform
    a = platform.start_worker("--kinds", "echo", "--threads", "2")
    b = platform.start_worker("--kinds", "echo", "--threads", "2")
    with platform.session() as s:
        ids = [enqueue(s, tenant_id=t, kind="echo", payload={"sleep": 0.1, **({"seat": True} if i % 4 == 0 else {})},
                       idempotency_key=f"{t}-{i}").id for i in range(12) for t in ("alpha", "gamma")]
        s.commit()

    def finished() -> bool:
        with platform.session() as s:
            return all(s.get(Job, i).status == JobStatus.succeeded for i in ids)
    wait_for(finished, 60, "24 jobs on two workers", platform)
    with platform.session() as s:
        jobs = [s.get(Job, i) for i in ids]
        ends = list(s.exec(select(AuditEvent).where(AuditEvent.action == "job.succeeded")).scalars())
    assert all(j.attempts == 1 for j in jobs)
    per_job = Counter(e.target for e in ends)
    assert len(per_job) == 24 and set(per_job.values()) == {1}
    pids = {e.actor.split(":")[2] for e in ends}
    assert pids == {str(a.pid), str(b.pid)}, f"both workers should have taken jobs, got {pids}"
    for p in (a, b):
        p.send_signal(signal.SIGTERM)
    for p in (a, b):
        assert p.wait(15) == 0, "a worker should stop cleanly on SIGTERM"
    assert os.environ.get("KYODO_QUEUE_URL", "").startswith("redis://")
