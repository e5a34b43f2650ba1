"""``kyodo worker [--kinds ocr,scenario]``: extra workers on any machine that reaches
the database and the queue."""
from __future__ import annotations

import logging
import signal

import typer

from automation.console import console


def _kinds(value: str | None) -> list[str]:
    from automation.runner.handlers import KINDS

    kinds = [k.strip() for k in (value or "").split(",") if k.strip()] or list(KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise typer.BadParameter(f"unknown kind(s) {', '.join(unknown)}; known: {', '.join(KINDS)}")
    return kinds


def worker(
    kinds: str = typer.Option(None, "--kinds", help="comma-separated job kinds (default: all)"),
    threads: int = typer.Option(None, "--threads", min=1, help="worker threads (default KYODO_RUNNER_THREADS or 2)"),
    no_reaper: bool = typer.Option(False, "--no-reaper", help="do not run the lease reaper in this process"),
) -> None:
    """Run job workers until interrupted (SIGINT/SIGTERM finish the current jobs)."""
    from automation.logsetup import setup_logging
    from automation.runner.queue import queue_location
    from automation.runner.service import prepare
    from automation.runner.worker import Worker

    setup_logging(logging.INFO)
    prepare()
    w = Worker(_kinds(kinds), threads=threads, reaper=not no_reaper)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: w.stop_event.set())
    console.print(f"worker {w.name}: kinds {', '.join(w.kinds)}, {w.threads} thread(s), queue {queue_location().split('@')[-1]}")
    w.run_forever()


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
