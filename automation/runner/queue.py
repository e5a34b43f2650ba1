"""The distributed engine: Huey carries wake-up messages ("run a job of kind K").

``SqliteHuey`` in ``<data_root>/queue.db`` by default, ``RedisHuey`` when
``KYODO_QUEUE_URL=redis://…``, one queue per job kind so ``kyodo worker --kinds ocr``
consumes only OCR work. The database's job table stays the system of record: a message
only says which job to look at, the worker claims the job with a compare-and-set in the
database, so a duplicated message never runs a job twice and a lost one is resent by
the reaper.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from huey import Huey, RedisHuey, SqliteHuey
from huey.storage import SqliteStorage

from tenants.settings import get_settings

from .config import runner_settings

log = logging.getLogger(__name__)

WAKE_TASK = "kyodo.wake"
_lock = threading.Lock()
_hueys: dict[tuple[str, str], Huey] = {}
_wake_tasks: dict[int, Any] = {}


class _QueueStorage(SqliteStorage):
    """SqliteHuey's storage with ``synchronous=NORMAL``: safe in WAL mode against process
    crashes; a wake-up lost to a power cut is resent by the reaper, so no fsync per message."""

    def _create_connection(self):  # noqa: ANN202
        conn = super()._create_connection()
        conn.execute("pragma synchronous=1")
        return conn


def _wake(kind: str, pool: str | None, job_id: int | None) -> None:  # pragma: no cover - consumed by Worker
    """Registered so messages deserialise; workers read the arguments and claim in the database."""


def queue_location() -> str:
    s = get_settings()
    if s.queue_url:
        return s.queue_url
    return f"sqlite:///{s.data_root / 'queue.db'}"


def get_huey(kind: str) -> Huey:
    """The Huey instance (queue) of one job kind, created once per process and location."""
    loc = queue_location()
    key = (loc, kind)
    with _lock:
        huey = _hueys.get(key)
        if huey is None:
            name = f"{runner_settings().queue_name}.{kind}"
            if loc.startswith(("redis://", "rediss://", "unix://")):
                # Non-blocking reads: a worker polls several kinds' queues in turn.
                huey = RedisHuey(name, url=loc, results=False, blocking=False)
            elif loc.startswith("sqlite:///"):
                path = loc.removeprefix("sqlite:///")
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                huey = SqliteHuey(name, filename=path, results=False, timeout=30, storage_class=_QueueStorage)
            else:
                raise ValueError(f"KYODO_QUEUE_URL must be redis://… (or unset for SQLite), got {loc.split(':', 1)[0]}://…")
            _wake_tasks[id(huey)] = huey.task(name=WAKE_TASK)(_wake)
            _hueys[key] = huey
        return huey


def reset_queues() -> None:
    with _lock:
        _hueys.clear()
        _wake_tasks.clear()


def send_wake(kind: str, *, pool: str | None = None, job_id: int | None = None) -> None:
    huey = get_huey(kind)
    huey.enqueue(_wake_tasks[id(huey)].s(kind, pool, job_id))


def receive(kind: str) -> tuple[str, str | None, int | None] | None:
    """Take one wake-up message of *kind*, or None when its queue is empty."""
    task = get_huey(kind).dequeue()
    if task is None:
        return None
    args: Any = task.args
    return (args[0], args[1], args[2])


def pending(kind: str) -> int:
    return get_huey(kind).pending_count()


def flush(kind: str) -> None:
    get_huey(kind).flush()
