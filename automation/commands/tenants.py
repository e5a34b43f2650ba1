"""``kyodo tenants list|show|validate`` and ``kyodo config show``."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from automation.console import CONFIG_ERROR_EXIT, console, load_tenant_or_exit, print_problems
from tenants.loader import TenantFileError, load_all, load_tenant_file, tenant_files
from tenants.settings import get_settings

tenants_app = typer.Typer(help="Municipalities (tenant files).", no_args_is_help=True)
config_app = typer.Typer(help="Merged configuration.", no_args_is_help=True)


@tenants_app.command("list")
def list_tenants() -> None:
    """List tenants; broken files are shown as errors and the rest still listed."""
    report = load_all()
    table = Table(title=f"Tenants in {get_settings().tenants_dir}")
    for col in ("id", "name", "population", "pools", "systems", "schedules"):
        table.add_column(col)
    for tid, t in sorted(report.tenants.items()):
        c = t.config
        table.add_row(tid, c.display_name, f"{c.population:,}", ", ".join(c.pools), ", ".join(c.systems), str(len(c.schedules)))
    console.print(table)
    if report.problems:
        print_problems(report.problems)
        raise typer.Exit(CONFIG_ERROR_EXIT)


@tenants_app.command("show")
def show(tenant: str = typer.Argument(..., help="tenant id")) -> None:
    """Show one tenant's validated configuration and its resolved folders."""
    t = load_tenant_or_exit(tenant)
    data = t.config.model_dump(mode="json")
    data["resolved_folders"] = {k: str(v) for k, v in t.config.folder_paths(get_settings().data_root).items()}
    console.print_json(json.dumps(data, ensure_ascii=False))


@tenants_app.command("validate")
def validate(paths: list[Path] = typer.Argument(None, help="tenant files (default: every file in the tenants folder)")) -> None:
    """Validate tenant files; print every problem with file, line and field path; exit 2 on any."""
    files = paths or tenant_files()
    problems = []
    for path in files:
        try:
            load_tenant_file(path)
            console.print(f"[green]ok[/green] {path}")
        except TenantFileError as e:
            problems.extend(e.problems)
    if problems:
        print_problems(problems)
        console.print(f"{len(problems)} problem(s) in {len({p.file for p in problems})} file(s)")
        raise typer.Exit(CONFIG_ERROR_EXIT)


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict) and value:
        out: list[tuple[str, Any]] = []
        for k, v in value.items():
            out.extend(_flatten(v, f"{prefix}{k}."))
        return out
    return [(prefix.rstrip("."), value)]


@config_app.command("show")
def config_show(
    tenant: str = typer.Option(..., "--tenant", "-t", help="tenant id"),
    as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
) -> None:
    """Print the merged configuration and the layer each value came from."""
    t = load_tenant_or_exit(tenant)
    validated = t.config.model_dump(mode="json")
    rows = []
    for path, value in _flatten(validated):
        source = t.origins.get(path)
        if source is None:  # set inside a list, or a model default
            source = next((s for p, s in t.origins.items() if path.startswith(p + ".")), "model default")
        rows.append((path, value, source))
    if as_json:
        console.print_json(json.dumps([{"key": k, "value": v, "from": s} for k, v, s in rows], ensure_ascii=False))
        return
    table = Table(title=f"Configuration of {t.config.display_name} ({t.config.id})")
    table.add_column("setting")
    table.add_column("value")
    table.add_column("from", style="dim")
    for path, value, source in rows:
        table.add_row(path, json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value, source)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(tenants_app, name="tenants")
    app.add_typer(config_app, name="config")
