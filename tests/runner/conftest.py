"""Runner fixtures: a throw-away platform (tenants folder, pools file, database, queue)
and helpers to start real worker processes against it."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from automation.runner.config import reset_runner_settings
from automation.runner.queue import reset_queues
from tenants import migrate
from tenants.db import make_engine, reset_engine_cache
from tenants.loader import load_all
from tenants.registry import sync_tenants
from tenants.settings import reset_settings_cache
from tests.conftest import PG_URL, PROJECT, REDIS_URL

TENANT = """display_name = "{name}"
population = {pop}
pools = ["robots"]
max_concurrent_jobs = {cap}
{extra}
"""
POOLS = """[pools.robots]
seats = 2
description = "test pool"
"""

FAST = {
    "KYODO_RUNNER_LEASE_SECONDS": "4",
    "KYODO_RUNNER_RETRY_BASE_SECONDS": "0.2",
    "KYODO_RUNNER_REDISPATCH_SECONDS": "3",
    "KYODO_RUNNER_REAPER_INTERVAL": "0.3",
    "KYODO_RUNNER_SETTLE_SECONDS": "0.4",
    "KYODO_RUNNER_SCAN_INTERVAL": "0.1",
}


@dataclass
class Platform:
    root: Path
    tenants_dir: Path
    engine: Engine
    env: dict[str, str]
    procs: list[subprocess.Popen] = field(default_factory=list)

    def folder(self, tenant: str, name: str) -> Path:
        return self.root / "tenants" / tenant / name

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def start_worker(self, *args: str, log_name: str = "worker") -> subprocess.Popen:
        """A real worker process (``python -m automation.runner worker``)."""
        log = open(self.root / f"{log_name}-{len(self.procs)}.log", "wb")  # noqa: SIM115
        p = subprocess.Popen([sys.executable, "-m", "automation.runner", "worker", *args],
                             cwd=PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-3000:] for p in sorted(self.root.glob("*.log")))


def wait_for(cond: Callable[[], bool], timeout: float, what: str, platform: Platform | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}" + (f"\n--- logs ---\n{platform.logs()}" if platform else ""))


def _make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, db_url: str | None, queue_url: str | None,
          engine_factory: Callable[[], Engine], extra: dict[str, str] | None = None) -> Iterator[Platform]:
    root = tmp_path / "var"
    root.mkdir()
    tdir = tmp_path / "tenants"
    tdir.mkdir()
    specs = {"alpha": ("アルファ市", 100_000, 4), "beta": ("ベータ町", 10_000, 4), "gamma": ("ガンマ村", 2_000, 4)}
    for tid, (name, pop, cap) in specs.items():
        (tdir / f"{tid}.toml").write_text(TENANT.format(name=name, pop=pop, cap=cap, extra=(extra or {}).get(tid, "")), encoding="utf-8")
    (tdir / "_pools.toml").write_text(POOLS, encoding="utf-8")
    env = {**FAST, "KYODO_DATA_ROOT": str(root), "KYODO_TENANTS_DIR": str(tdir),
           "KYODO_RUNNER_QUEUE_NAME": f"t{uuid.uuid4().hex[:10]}", "KYODO_MODEL_DIR": str(PROJECT / "var" / "models")}
    if db_url:
        env["KYODO_DATABASE_URL"] = db_url
    if queue_url:
        env["KYODO_QUEUE_URL"] = queue_url
    for k in ("KYODO_DATABASE_URL", "KYODO_QUEUE_URL"):
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    for fn in (reset_settings_cache, reset_engine_cache, reset_runner_settings, reset_queues):
        fn()
    engine = engine_factory()
    migrate.upgrade(engine)
    with Session(engine) as s:
        sync_tenants(s, load_all(tdir))
        s.commit()
    full_env = {**os.environ, **env, "PYTHONPATH": str(PROJECT)}
    plat = Platform(root=root, tenants_dir=tdir, engine=engine, env=full_env)
    # Route the runner's own get_engine() calls in this process to the same database.
    from tenants import db as tdb

    tdb._engines[db_url or f"sqlite:///{root / 'kyodo.db'}"] = engine
    try:
        yield plat
    finally:
        for p in plat.procs:
            if p.poll() is None:
                p.kill()
            p.wait(10)
        tdb._engines.clear()
        engine.dispose()
        for fn in (reset_settings_cache, reset_runner_settings, reset_queues):
            fn()


@pytest.fixture
def platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    """SQLite database and SQLite Huey queue under a fresh data root (the embedded default)."""
    root = tmp_path / "var"
    yield from _make(tmp_path, monkeypatch, db_url=None, queue_url=None,
                     engine_factory=lambda: make_engine(f"sqlite:///{root / 'kyodo.db'}"))


@pytest.fixture
def pg_redis_platform(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pg_schema: str) -> Iterator[Platform]:
    """The real PostgreSQL (a throw-away schema) and the real Redis (db 15, unique queue names)."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL).ping()
    except Exception as e:  # noqa: BLE001
        pytest.skip(f"Redis not reachable: {e}")
    url = f"{PG_URL}?options=-csearch_path%3D{pg_schema}"
    yield from _make(tmp_path, monkeypatch, db_url=url, queue_url=REDIS_URL, engine_factory=lambda: make_engine(url))
