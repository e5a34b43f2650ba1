"""Shared CLI helpers: one Rich console, tenant loading with exit code 2 on config errors."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from tenants.loader import LoadedTenant, TenantFileError, get_tenant

console = Console()
err_console = Console(stderr=True)
CONFIG_ERROR_EXIT = 2
JST = ZoneInfo("Asia/Tokyo")


def print_problems(problems) -> None:  # noqa: ANN001
    for p in problems:
        err_console.print(f"[red]error[/red] {p}", highlight=False, soft_wrap=True)


def load_tenant_or_exit(tenant_id: str) -> LoadedTenant:
    try:
        return get_tenant(tenant_id)
    except TenantFileError as e:
        print_problems(e.problems)
        raise typer.Exit(CONFIG_ERROR_EXIT) from None


def jst(dt: datetime | None) -> str:
    """Times are stored in UTC and shown in Asia/Tokyo."""
    if dt is None:
        return "-"
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(JST).strftime("%Y-%m-%d %H:%M:%S")
