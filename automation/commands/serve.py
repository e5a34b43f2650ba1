"""``kyodo serve``: workers, hot-folder watcher, scheduler, reaper and (when installed)
the web UI in one process, for a single machine."""
from __future__ import annotations

import logging
import signal

import typer

from automation.console import console


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="web UI address"),
    port: int = typer.Option(8000, "--port", help="web UI port (0: any free port)"),
    kinds: str = typer.Option(None, "--kinds", help="comma-separated job kinds for the built-in workers"),
    threads: int = typer.Option(None, "--threads", min=1),
    no_web: bool = typer.Option(False, "--no-web", help="do not serve the web UI"),
    intake_kind: str = typer.Option(None, "--intake-kind", hidden=True, help="send every dropped file to this kind (tests, benchmarks)"),
) -> None:
    """Run the whole platform in this process until interrupted."""
    from automation.commands.worker import _kinds
    from automation.logsetup import setup_logging
    from automation.runner.service import Service, web_app_factory

    setup_logging(logging.INFO)
    from tenants.db import get_engine

    svc = Service(kinds=_kinds(kinds), threads=threads, kind_override=intake_kind)
    # Build the web app before any thread starts: importing it maps more models, which
    # must not happen while a worker thread walks the model registry.
    create_app = None if no_web else web_app_factory()
    web_app = create_app(get_engine()) if create_app is not None else None
    svc.start()
    console.print(f"kyodo serve: workers ({', '.join(svc.kinds)}), intake, scheduler and reaper running")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: svc.stop_event.set())
    server = None
    if web_app is not None:
        import threading

        import uvicorn

        # uvicorn runs in a thread (it installs no signal handlers there): this process's
        # SIGTERM stops the web UI, the workers and the watcher together, cleanly.
        server = uvicorn.Server(uvicorn.Config(web_app, host=host, port=port, log_level="info"))
        web = threading.Thread(target=server.run, name="web", daemon=True)
        web.start()
        console.print(f"web UI on http://{host}:{port}/")
    elif not no_web:
        logging.getLogger("kyodo.serve").warning("web UI not installed yet (automation.web.app.create_app); serving without it")
    try:
        while not svc.stop_event.wait(1):
            pass
    finally:
        if server is not None:
            server.should_exit = True
            web.join(10)
        svc.stop()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
