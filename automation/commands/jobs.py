"""``kyodo jobs list|show|retry|cancel``."""
from __future__ import annotations

import json

import typer
from rich.table import Table
from sqlalchemy import select
from sqlmodel import Session

from automation.console import console, err_console, jst

jobs_app = typer.Typer(help="Jobs (the database is the system of record).", no_args_is_help=True)


@jobs_app.command("list")
def list_jobs(
    tenant: str = typer.Option(None, "--tenant", "-t"),
    status: str = typer.Option(None, "--status", help="queued, running, succeeded, failed_business, …"),
    kind: str = typer.Option(None, "--kind"),
    limit: int = typer.Option(50, "--limit", min=1),
) -> None:
    """The most recent jobs, newest first."""
    from tenants.db import get_engine
    from tenants.models import Job

    q = select(Job).order_by(Job.id.desc()).limit(limit)  # type: ignore[union-attr]
    if tenant:
        q = q.where(Job.tenant_id == tenant)
    if status:
        q = q.where(Job.status == status)
    if kind:
        q = q.where(Job.kind == kind)
    with Session(get_engine()) as s:
        rows = list(s.exec(q).scalars())  # type: ignore[call-overload]
    table = Table(title="jobs")
    for col in ("id", "tenant", "kind", "status", "attempts", "prio", "pool", "doc", "created (JST)", "error"):
        table.add_column(col)
    for j in rows:
        table.add_row(str(j.id), j.tenant_id, j.kind, str(j.status), f"{j.attempts}/{j.max_attempts}", str(j.priority),
                      j.pool or "-", str(j.document_id or "-"), jst(j.created_at), (j.error or "")[:60])
    console.print(table)


@jobs_app.command("show")
def show(job_id: int = typer.Argument(...)) -> None:
    """Everything about one job (payload values masked)."""
    from tenants.db import get_engine
    from tenants.models import Job
    from tenants.privacy import mask_value

    with Session(get_engine()) as s:
        j = s.get(Job, job_id)
    if j is None:
        err_console.print(f"[red]error[/red] no job {job_id}")
        raise typer.Exit(1)
    data = mask_value(j.model_dump(mode="json", warnings=False))
    console.print_json(json.dumps(data, ensure_ascii=False, default=str))


def _steer(job_id: int, action: str) -> None:
    from automation.jobs import cancel_job, retry_job
    from tenants.db import session_scope

    try:
        with session_scope() as s:
            j = (retry_job if action == "retry" else cancel_job)(s, job_id)
    except (LookupError, ValueError) as e:
        err_console.print(f"[red]error[/red] {e}")
        raise typer.Exit(1) from None
    console.print(f"job {job_id}: {j.status}")


@jobs_app.command("retry")
def retry(job_id: int = typer.Argument(...)) -> None:
    """Queue a failed or cancelled job again (fresh attempts)."""
    _steer(job_id, "retry")


@jobs_app.command("cancel")
def cancel(job_id: int = typer.Argument(...)) -> None:
    """Cancel a queued or running job."""
    _steer(job_id, "cancel")


def register(app: typer.Typer) -> None:
    app.add_typer(jobs_app, name="jobs")
