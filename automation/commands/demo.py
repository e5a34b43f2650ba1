"""``kyodo demo``: an end-to-end run on the embedded default with a short summary."""
from __future__ import annotations

import typer
from rich.console import Console
from rich.panel import Panel

from automation.console import console
from automation.demo import DemoContext, run_demo
from tenants.db import get_engine
from tenants.loader import load_all
from tenants.settings import get_settings


def demo(
    step: list[str] = typer.Option(None, "--step", help="run only these steps (module names)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print only the summary"),
) -> None:
    """Run the whole story (scans -> OCR -> review -> RPA -> transcription -> usage) and summarise."""
    settings = get_settings()
    workdir = settings.data_root / "demo"
    workdir.mkdir(parents=True, exist_ok=True)
    ctx = DemoContext(settings=settings, engine=get_engine(), tenants=load_all(), workdir=workdir,
                      log=(lambda _m: None) if quiet else (lambda m: console.print(m, highlight=False)))
    summaries = run_demo(ctx, only=step or None)
    lines = []
    for s in summaries:
        mark = "[green]✔[/green]" if s.ok else "[red]✘[/red]"
        lines.append(f"{mark} [bold]{s.title}[/bold]  ({s.seconds:.1f} s)")
        lines += [f"    {line}" for line in s.lines]
    # Log files and CI have no terminal width; 80 columns would wrap every summary line.
    out = console if console.is_terminal else Console(width=120)
    out.print(Panel("\n".join(lines), title="Kyodo demo — summary", expand=False), highlight=False)
    if not all(s.ok for s in summaries):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
