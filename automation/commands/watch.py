"""``kyodo watch --tenant X``: watch one tenant's inbox in the foreground (for trying a folder)."""
from __future__ import annotations

import logging
import signal
import threading

import typer

from automation.console import console, load_tenant_or_exit


def watch(
    tenant: str = typer.Option(..., "--tenant", "-t", help="tenant id"),
    kind: str = typer.Option(None, "--kind", help="send every file to this job kind (e.g. 'echo' to try a folder)"),
    settle: float = typer.Option(None, "--settle", min=0, help="seconds a file must stay unchanged before it is taken"),
    work: bool = typer.Option(False, "--work", help="also run workers in this process"),
) -> None:
    """Take complete files from the tenant's inbox into jobs until interrupted."""
    from automation.intake import Intake, IntakeService
    from automation.logsetup import setup_logging
    from automation.runner.service import prepare
    from automation.runner.worker import Worker
    from tenants.settings import get_settings

    setup_logging(logging.INFO)
    cfg = load_tenant_or_exit(tenant).config
    prepare()
    intake = Intake(cfg, settle_seconds=settle, kind_override=kind)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    w = None
    if work:
        w = Worker([kind] if kind else ["ocr", "scenario", "transcription"])
        w.stop_event = stop
        w.start()
    console.print(f"watching {intake.folders['inbox']} ({'polling' if cfg.folders.poll else 'file events'}); "
                  f"data root {get_settings().data_root}; Ctrl-C to stop")
    IntakeService([intake]).run(stop)
    if w:
        w.stop()


def register(app: typer.Typer) -> None:
    app.command("watch")(watch)
