"""``kyodo usage report|allocate``: metering totals, quotas, peak seats and cost allocation."""
from __future__ import annotations

import csv
import sys
from pathlib import Path

import typer
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlmodel import Session

from automation.console import CONFIG_ERROR_EXIT, console, err_console, load_tenant_or_exit, print_problems
from tenants.billing import BillingConfigError, load_billing
from tenants.db import get_engine
from tenants.loader import load_all
from tenants.metering import current_month, fiscal_year_of, meter_totals, peak_seats
from tenants.models import utcnow
from tenants.quotas import check_quota
from tenants.settings import get_settings

usage_app = typer.Typer(help="Usage metering, quotas and cost allocation among municipalities.", no_args_is_help=True)

FORMATS = ("table", "csv", "xlsx", "html", "png", "all")


def _billing():  # noqa: ANN202
    try:
        return load_billing()
    except BillingConfigError as e:
        err_console.print(f"[red]error[/red] {e}", highlight=False, soft_wrap=True)
        raise typer.Exit(CONFIG_ERROR_EXIT) from None


def _db_error(e: Exception) -> typer.Exit:
    err_console.print(f"[red]error[/red] the database is not ready ({type(e).__name__}); run 'kyodo db upgrade' first",
                      highlight=False)
    return typer.Exit(1)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.2f}"


@usage_app.command("report")
def report(
    month: str = typer.Option(None, "--month", "-m", help="YYYY-MM in Japan time (default: this month)"),
    tenant: str = typer.Option(None, "--tenant", "-t", help="only this tenant"),
    fmt: str = typer.Option("table", "--format", "-f", help="table or csv (to stdout)"),
) -> None:
    """Meter totals per tenant for a month, quota standing, and peak concurrent robot seats per pool."""
    if fmt not in ("table", "csv"):
        raise typer.BadParameter("use table or csv", param_hint="--format")
    billing = _billing()
    month = month or current_month()
    tenants = {tenant: load_tenant_or_exit(tenant).config} if tenant else {k: v.config for k, v in load_all().tenants.items()}
    try:
        with Session(get_engine()) as s:
            totals = meter_totals(s, month=month, tenant_id=tenant, billing=billing)
            quotas = [check_quota(s, cfg, m, month=month, billing=billing)
                      for cfg in tenants.values() for m in sorted(cfg.quotas) if m in billing.meters]
            peaks = peak_seats(s, month=month, tenant_id=tenant)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="--month") from None
    except (OperationalError, ProgrammingError) as e:
        raise _db_error(e) from None
    if fmt == "csv":
        w = csv.writer(sys.stdout)
        w.writerow(["period", "tenant", "meter", "group", "value", "unit", "events"])
        for t in totals:
            w.writerow([t.period, t.tenant_id, t.meter, ";".join(f"{k}={v}" for k, v in t.group.items()), t.value, t.unit, t.events])
        return
    table = Table(title=f"Usage {month} (Asia/Tokyo)")
    for col in ("tenant", "meter", "group", "value", "unit", "events"):
        table.add_column(col, justify="right" if col in ("value", "events") else "left")
    for t in totals:
        table.add_row(t.tenant_id, t.meter, ", ".join(f"{v}" for v in t.group.values()), _fmt(t.value), t.unit, str(t.events))
    console.print(table if totals else f"no usage events in {month}")
    if quotas:
        qt = Table(title="Monthly quotas")
        for col in ("tenant", "meter", "used", "limit", "warn at", "state"):
            qt.add_column(col)
        colour = {"ok": "green", "warning": "yellow", "exceeded": "red", "unlimited": "dim"}
        for q in quotas:
            qt.add_row(q.tenant_id, q.meter, _fmt(q.used), _fmt(q.limit or 0), _fmt(q.warn_at or 0),
                       f"[{colour[q.state]}]{q.state}[/{colour[q.state]}]")
        console.print(qt)
    unknown = sorted({(tid, m) for tid, cfg in tenants.items() for m in cfg.quotas if m not in billing.meters})
    for tid, m in unknown:
        err_console.print(f"[yellow]warning[/yellow] {tid}: quota on '{m}', which is not a declared meter (see tenants/_billing.toml)")
    if peaks:
        pt = Table(title="Peak concurrent robot seats per pool and day")
        for col in ("pool", "day", "peak", "by tenant"):
            pt.add_column(col)
        for p in peaks:
            pt.add_row(p.pool, p.day.isoformat(), str(p.peak), ", ".join(f"{k} {v}" for k, v in p.by_tenant.items()))
        console.print(pt)


@usage_app.command("allocate")
def allocate_cmd(
    fiscal_year: int = typer.Option(None, "--fiscal-year", "-y", help="April–March year, e.g. 2026 (default: current)"),
    fmt: str = typer.Option("table", "--format", "-f", help="table, csv, xlsx, html, png or all"),
    out: Path = typer.Option(None, "--out", "-o", help="folder for files (default: <data_root>/reports)"),
) -> None:
    """Split each cost item among member municipalities (基本割/人口割/実績割, whole yen)."""
    from tenants.allocation import allocate
    from tenants.reports import title, write_all

    if fmt not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}", param_hint="--format")
    billing = _billing()
    report_tenants = load_all()
    if report_tenants.problems:
        print_problems(report_tenants.problems)
    fy = fiscal_year if fiscal_year is not None else fiscal_year_of(utcnow())
    try:
        with Session(get_engine()) as s:
            rep = allocate(s, fy, billing=billing, tenants={k: v.config for k, v in report_tenants.tenants.items()})
    except (OperationalError, ProgrammingError) as e:
        raise _db_error(e) from None
    if not rep.items:
        err_console.print("no cost items: declare [[cost_items]] in tenants/_billing.toml")
        raise typer.Exit(1)
    if fmt == "table":
        table = Table(title=title(rep))
        table.add_column("municipality")
        for item in rep.items:
            table.add_column(item.name, justify="right")
        table.add_column("total", justify="right")
        for tid, total in rep.totals.items():
            table.add_row(rep.name(tid), *[f"¥{i.shares.get(tid, 0):,}" for i in rep.items], f"¥{total:,}")
        table.add_row("合計", *[f"¥{sum(i.shares.values()):,}" for i in rep.items], f"¥{sum(rep.totals.values()):,}")
        console.print(table)
        for item in rep.items:
            for p in item.parts:
                if p.note:
                    console.print(f"{item.name} {p.label}: {p.note}")
            if item.note:
                err_console.print(f"[yellow]warning[/yellow] {item.name}: {item.note}")
        return
    out_dir = out or get_settings().data_root / "reports"
    formats = ("csv", "xlsx", "html", "png") if fmt == "all" else (fmt,)
    for path in write_all(rep, out_dir, formats):
        console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    app.add_typer(usage_app, name="usage")
