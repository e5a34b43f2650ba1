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
) -> None:
    """Run the whole platform in this process until interrupted."""
    from automation.commands.worker import _kinds
    from automation.logsetup import setup_logging
    from automation.runner.service import Service, web_app_factory

    setup_logging(logging.INFO)
    svc = Service(kinds=_kinds(kinds), threads=threads)
    svc.start()
    console.print(f"kyodo serve: workers ({', '.join(svc.kinds)}), intake, scheduler and reaper running")
    create_app = None if no_web else web_app_factory()
    try:
        if create_app is not None:
            import uvicorn

            console.print(f"web UI on http://{host}:{port}/")
            uvicorn.run(create_app(svc.engine), host=host, port=port, log_level="info")
        else:
            if not no_web:
                logging.getLogger("kyodo.serve").warning("web UI not installed yet (automation.web.app.create_app); serving without it")
            for sig in (signal.SIGINT, signal.SIGTERM):
                signal.signal(sig, lambda *_: svc.stop_event.set())
            while not svc.stop_event.wait(1):
                pass
    finally:
        svc.stop()


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
