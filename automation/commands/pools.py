"""``kyodo pools show``: licence pools, seats in use and who waits."""
from __future__ import annotations

import typer
from rich.table import Table
from sqlalchemy import func, select
from sqlmodel import Session

from automation.console import console, err_console, jst

pools_app = typer.Typer(help="Licence pools and seats.", no_args_is_help=True)


@pools_app.command("show")
def show() -> None:
    """Seats of every pool (held by which job, until when) and the jobs waiting for one."""
    from automation.runner.tenantcache import pools
    from tenants.db import get_engine
    from tenants.licensing import PoolsFileError, load_pools, seats_of
    from tenants.loader import load_all
    from tenants.models import Job, JobStatus

    try:
        load_pools()
    except PoolsFileError as e:
        err_console.print(f"[red]error[/red] {e}")
        raise typer.Exit(2) from None
    members: dict[str, list[str]] = {}
    for tid, t in load_all().tenants.items():
        for p in t.config.pools:
            members.setdefault(p, []).append(tid)
    with Session(get_engine()) as s:
        for name, pool in sorted(pools().items()):
            m = sorted(set(members.get(name, [])) | set(pool.members))
            table = Table(title=f"pool {name}: {pool.seats} seat(s); members {', '.join(m) or '-'}"
                          + (f"; caps {', '.join(f'{k}={v}' for k, v in pool.caps.items())}" if pool.caps else ""))
            for col in ("seat", "state", "tenant", "job", "since (JST)", "lease until (JST)"):
                table.add_column(col)
            for seat in seats_of(s, pool):
                table.add_row(str(seat.seat_no), "busy" if seat.busy else "free", seat.tenant_id or "-",
                              str(seat.job_id or "-"), jst(seat.acquired_at), jst(seat.lease_until))
            console.print(table)
            waiting = s.execute(select(Job.tenant_id, func.count()).where(Job.pool == name, Job.status == JobStatus.queued)
                                .group_by(Job.tenant_id)).all()
            console.print("waiting: " + (", ".join(f"{tid} {n}" for tid, n in waiting) or "none"))


def register(app: typer.Typer) -> None:
    app.add_typer(pools_app, name="pools")
