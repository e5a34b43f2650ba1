"""``kyodo audit verify|list``: the hash-chained audit log."""
from __future__ import annotations

import json

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from automation.console import console, err_console, jst
from tenants.audit import verify
from tenants.db import get_engine
from tenants.models import AuditEvent

audit_app = typer.Typer(help="Audit log (append-only, hash-chained).", no_args_is_help=True)


@audit_app.command("verify")
def verify_cmd() -> None:
    """Check every link of the chain; exit 1 and name the broken event ids on tampering."""
    try:
        with Session(get_engine()) as s:
            rep = verify(s)
    except (OperationalError, ProgrammingError) as e:
        err_console.print(f"[red]error[/red] the database is not ready ({type(e).__name__}); run 'kyodo db upgrade' first")
        raise typer.Exit(1) from None
    if rep.ok:
        console.print(f"[green]ok[/green] audit chain intact ({rep.checked} events)")
        return
    for p in rep.problems:
        err_console.print(f"[red]broken[/red] {p}", highlight=False)
    err_console.print(f"audit chain BROKEN: {len(rep.problems)} problem(s) in {rep.checked} events; "
                      f"broken ids: {', '.join(map(str, rep.broken_ids)) or '(end of chain)'}")
    raise typer.Exit(1)


@audit_app.command("list")
def list_cmd(
    tenant: str = typer.Option(None, "--tenant", "-t"),
    action: str = typer.Option(None, "--action", "-a", help="e.g. quota.refused, access.denied"),
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10000),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The latest audit events, newest first (times in Asia/Tokyo)."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)  # type: ignore[union-attr]
    if tenant:
        stmt = stmt.where(AuditEvent.tenant_id == tenant)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    try:
        with Session(get_engine()) as s:
            rows = s.execute(stmt).scalars().all()  # type: ignore[call-overload]
    except (OperationalError, ProgrammingError) as e:
        err_console.print(f"[red]error[/red] the database is not ready ({type(e).__name__}); run 'kyodo db upgrade' first")
        raise typer.Exit(1) from None
    if as_json:
        console.print_json(json.dumps([{"id": r.id, "time": jst(r.time), "tenant": r.tenant_id, "actor": r.actor,
                                        "action": r.action, "target": r.target, "detail": r.detail} for r in rows],
                                      ensure_ascii=False))
        return
    table = Table(title="Audit log (newest first)")
    for col in ("id", "time (JST)", "tenant", "actor", "action", "target", "detail"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r.id), jst(r.time), r.tenant_id or "-", r.actor, r.action, r.target,
                      json.dumps(r.detail, ensure_ascii=False)[:80])
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
