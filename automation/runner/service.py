"""Everything in one process (``kyodo serve``) and an in-process drain (demo, tests)."""
from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from automation.intake import Intake, IntakeService
from automation.scheduler import Scheduler
from tenants import migrate
from tenants.config import TenantConfig
from tenants.db import get_engine, session_scope
from tenants.loader import load_all
from tenants.models import Job, JobStatus
from tenants.registry import sync_tenants

from .handlers import KINDS
from .worker import Worker

log = logging.getLogger(__name__)


def prepare(engine: Engine | None = None) -> list[TenantConfig]:
    """Migrate the database and mirror tenant files; return the enabled tenants."""
    engine = engine or get_engine()
    migrate.upgrade(engine)
    report = load_all()
    with session_scope(engine) as s:
        sync_tenants(s, report)
    for p in report.problems:
        log.error("tenant file problem (tenant skipped): %s", p)
    return [t.config for t in report.tenants.values() if t.config.enabled]


def web_app_factory():  # noqa: ANN201
    """The web UI's ``create_app`` if the web capability is installed, else None."""
    try:
        module = importlib.import_module("automation.web.app")
    except ImportError as e:
        log.warning("web UI not served: automation.web.app is not available (%s)", e)
        return None
    return getattr(module, "create_app", None)


@dataclass
class Service:
    """Workers + hot-folder watcher + scheduler + reaper (+ web UI) in one process."""

    kinds: list[str] = field(default_factory=lambda: list(KINDS))
    threads: int | None = None
    tenants: list[TenantConfig] | None = None
    engine: Engine | None = None
    watch: bool = True
    schedule: bool = True
    kind_override: str | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.engine = self.engine or get_engine()
        tenants = self.tenants if self.tenants is not None else prepare(self.engine)
        self.worker = Worker(self.kinds, threads=self.threads, engine=self.engine)
        self.worker.stop_event = self.stop_event
        self.worker.start()
        self._threads: list[threading.Thread] = []
        if self.watch and tenants:
            self.intake = IntakeService([Intake(t, engine=self.engine, kind_override=self.kind_override) for t in tenants])
            self._spawn("intake", self.intake.run)
        if self.schedule and tenants:
            self.scheduler = Scheduler(tenants, self.engine)
            self._spawn("scheduler", self.scheduler.run)

    def _spawn(self, name: str, target) -> None:  # noqa: ANN001
        t = threading.Thread(target=target, args=(self.stop_event,), name=name, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self, timeout: float = 10) -> None:
        self.stop_event.set()
        self.worker.stop(timeout)
        for t in self._threads:
            t.join(timeout)


def open_jobs(engine: Engine, tenant_ids: list[str] | None = None, kinds: list[str] | None = None) -> int:
    with Session(engine) as s:
        q = select(func.count()).select_from(Job).where(Job.status.in_([JobStatus.queued, JobStatus.running]))  # type: ignore[attr-defined]
        if tenant_ids:
            q = q.where(Job.tenant_id.in_(tenant_ids))  # type: ignore[attr-defined]
        if kinds:
            q = q.where(Job.kind.in_(kinds))  # type: ignore[attr-defined]
        return int(s.execute(q).scalar_one())


def drain(engine: Engine, *, timeout: float = 60, kinds: list[str] | None = None, threads: int = 2,
          intakes: list[Intake] | None = None, tenant_ids: list[str] | None = None) -> bool:
    """Run workers (and intake scans) in this process until no job of ``kinds`` is queued or
    running (jobs of other kinds that they queue, e.g. a scenario after a ready form, are left
    for their own workers)."""
    worker = Worker(kinds or list(KINDS), threads=threads, engine=engine)
    worker.start()
    deadline = time.monotonic() + timeout
    quiet = 0
    try:
        while time.monotonic() < deadline:
            for i in intakes or []:
                i.scan()
            busy = open_jobs(engine, tenant_ids, kinds)
            pending_files = any(any(True for _ in i._walk(i.folders["inbox"])) for i in intakes or [])
            quiet = quiet + 1 if busy == 0 and not pending_files else 0
            if quiet >= 3:
                return True
            time.sleep(0.2)
        return False
    finally:
        worker.stop()
