"""``kyodo doctor``: check an installation and print the fix for each problem."""
from __future__ import annotations

import typer
from rich.table import Table

from automation.console import console
from automation.doctor import run_checks


def doctor() -> None:
    """Check Tesseract, Chromium, Whisper weights, fonts, database, queue, folders and disk."""
    checks = run_checks()
    table = Table(title="Kyodo installation check")
    table.add_column("")
    table.add_column("check")
    table.add_column("detail")
    for c in checks:
        table.add_row("[green]OK[/green]" if c.ok else "[red]NG[/red]", c.name, c.detail)
    console.print(table)
    failed = [c for c in checks if not c.ok]
    for c in failed:
        if c.fix:
            console.print(f"[red]{c.name}[/red] fix: [bold]{c.fix}[/bold]", soft_wrap=True)
    if failed:
        raise typer.Exit(1)
    console.print("All checks passed.")


def register(app: typer.Typer) -> None:
    app.command("doctor")(doctor)
