"""``kyodo scenario new|validate|show|diff|run|record|convert``: authoring shared scenarios."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import typer
import yaml
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from automation.console import CONFIG_ERROR_EXIT, console, err_console, load_tenant_or_exit
from tenants.settings import get_settings

app = typer.Typer(help="Shared RPA scenarios: author, validate, compare and run.", no_args_is_help=True)
STATUS_STYLE = {"entered": "green", "skipped_already_entered": "cyan", "business_error": "yellow",
                "application_error": "red", "dry_run": "blue"}


def _load(name_or_path: str):  # noqa: ANN202
    from automation.rpa import ScenarioError, load_scenario

    try:
        return load_scenario(name_or_path)
    except ScenarioError as e:
        for p in e.problems:
            err_console.print(f"[red]error[/red] {p}", highlight=False, soft_wrap=True)
        err_console.print(f"{len(e.problems)} problem(s); fix them and run 'kyodo scenario validate' again")
        raise typer.Exit(CONFIG_ERROR_EXIT) from None


def _effective(name: str, tenant_id: str | None):  # noqa: ANN202
    from automation.rpa import ScenarioError, apply_override

    sc = _load(name)
    tenant = load_tenant_or_exit(tenant_id).config if tenant_id else None
    try:
        return sc, apply_override(sc, tenant)
    except ScenarioError as e:
        for p in e.problems:
            err_console.print(f"[red]error[/red] {p}", highlight=False, soft_wrap=True)
        raise typer.Exit(CONFIG_ERROR_EXIT) from None


@app.command("new")
def new(name: str = typer.Argument(..., help="scenario name (lower_snake_case)"),
        folder: Optional[Path] = typer.Option(None, "--dir", help="scenarios folder (default: the configured one)")) -> None:
    """Create scenarios/NAME from the scaffold; it validates and runs against the sandbox as is."""
    import re

    if not re.fullmatch(r"[a-z][a-z0-9_]{1,63}", name):
        err_console.print(f"[red]error[/red] '{name}' is not a valid name: use lower_snake_case, e.g. 'resident_tax_check'")
        raise typer.Exit(CONFIG_ERROR_EXIT)
    base = folder or get_settings().scenarios_dir
    dest = base / name
    if dest.exists():
        err_console.print(f"[red]error[/red] {dest} already exists; choose another name or edit it")
        raise typer.Exit(CONFIG_ERROR_EXIT)
    scaffold = Path(__file__).resolve().parents[2] / "scenarios" / "_scaffold"
    shutil.copytree(scaffold, dest)
    for f in dest.rglob("*"):
        if f.is_file() and f.suffix in (".yaml", ".md"):
            f.write_text(f.read_text(encoding="utf-8").replace("__NAME__", name), encoding="utf-8")
    _load(str(dest / "scenario.yaml"))
    console.print(f"[green]created[/green] {dest} (valid). Next: kyodo scenario run {name} --sandbox a")


@app.command("validate")
def validate(path: str = typer.Argument(..., help="scenario folder, scenario.yaml, or a scenario name"),
             tenant: Optional[str] = typer.Option(None, "--tenant", "-t", help="also validate this tenant's override"),
             live: Optional[str] = typer.Option(None, "--live", help="URL of a running page: check which targets resolve there")) -> None:
    """Check schema, variables, targets and sub-scenarios (and a tenant's override); exit 2 on problems."""
    sc, eff = _effective(path, tenant)
    console.print(f"[green]ok[/green] {sc.name} {sc.version}: {len(sc.steps)} steps, {len(sc.targets)} targets, "
                  f"sub-scenarios: {', '.join(sc.subs) or 'none'}" + (f"; override of {tenant} ok" if tenant else ""))
    if live:
        _live_check(eff.scenario.targets, live)


def _live_check(targets: dict[str, str], url: str) -> None:
    from automation.rpa.browser import BrowserSession, describe, locate
    from automation.rpa.templating import refs

    table = Table(title=f"targets on {url}")
    for c in ("target", "selector", "found"):
        table.add_column(c)
    bad = 0
    with BrowserSession(trace=False) as b:
        page = b.browser.new_page()
        page.goto(url, wait_until="domcontentloaded")
        for name, sel in sorted(targets.items()):
            if sel.startswith(("/", "http")):
                continue
            if refs(sel):
                table.add_row(name, escape(sel), "[dim]template (checked at run time)[/dim]")
                continue
            try:
                n = locate(page, sel).count()
                table.add_row(name, escape(sel), f"[green]{n}[/green]" if n else "[dim]0 (not on this page)[/dim]")
            except Exception as e:  # noqa: BLE001 - an invalid selector is what we look for
                bad += 1
                table.add_row(name, escape(sel), f"[red]invalid: {escape(describe(e))}[/red]")
    console.print(table)
    if bad:
        raise typer.Exit(1)


def _step_rows(steps: list, origins: dict[str, str], depth: int = 0) -> list[tuple[str, str, str]]:
    from automation.rpa.model import ForEach, If, action_of, step_to_dict

    rows = []
    for s in steps:
        d = step_to_dict(s)
        for k in ("then", "else", "steps"):
            d.pop(k, None)
        d.pop("id", None)
        text = ", ".join(f"{k}: {v}" if not isinstance(v, (dict, list)) else f"{k}: {json.dumps(v, ensure_ascii=False)}"
                         for k, v in d.items())
        rows.append(("  " * depth + (s.id or "-"), text, origins.get(f"steps.{s.id}", "scenario") if s.id else "scenario"))
        if isinstance(s, If):
            rows += _step_rows(s.then, origins, depth + 1)
            rows += _step_rows(s.else_, origins, depth + 1)
        elif isinstance(s, ForEach):
            rows += _step_rows(s.steps, origins, depth + 1)
        _ = action_of
    return rows


@app.command("show")
def show(name: str = typer.Argument(...), tenant: Optional[str] = typer.Option(None, "--tenant", "-t"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Print the effective scenario for a tenant and where each target and step came from."""
    from automation.rpa.model import step_to_dict

    sc, eff = _effective(name, tenant)
    e = eff.scenario
    if as_json:
        console.print_json(json.dumps({
            "name": e.name, "version": e.version, "tenant": tenant, "system": eff.system,
            "targets": [{"target": k, "value": v, "from": eff.origins.get(f"targets.{k}", "scenario")} for k, v in e.targets.items()],
            "field_map": eff.field_map, "params": e.params, "skipped_steps": eff.skipped,
            "steps": [step_to_dict(s) for s in e.steps],
            "subs": {k: [step_to_dict(s) for s in v] for k, v in e.subs.items()}}, ensure_ascii=False))
        return
    console.print(f"[bold]{e.name}[/bold] {e.version} for {tenant or '(no tenant)'}, system {eff.system}")
    t = Table(title="targets")
    for c in ("target", "value", "from"):
        t.add_column(c)
    for k, v in sorted(e.targets.items()):
        src = eff.origins.get(f"targets.{k}", "scenario")
        t.add_row(k, escape(v), escape(src) if src == "scenario" else f"[yellow]{escape(src)}[/yellow]")
    console.print(t)
    st = Table(title="steps")
    for c in ("id", "step", "from"):
        st.add_column(c)
    for sub, steps in e.subs.items():
        for r in _step_rows(steps, eff.origins):
            st.add_row(f"[dim]{sub}:[/dim]{r[0]}", escape(r[1]), escape(r[2]))
    for r in _step_rows(e.steps, eff.origins):
        st.add_row(r[0], escape(r[1]), escape(r[2]) if r[2].startswith("scenario") else f"[yellow]{escape(r[2])}[/yellow]")
    console.print(st)
    if eff.skipped:
        console.print(f"skipped by the tenant: {', '.join(eff.skipped)}")
    if eff.field_map:
        console.print(f"field_map: {json.dumps(eff.field_map, ensure_ascii=False)}")


@app.command("diff")
def diff(name: str = typer.Argument(...), tenant: str = typer.Option(..., "--tenant", "-t")) -> None:
    """What this tenant changes in the shared scenario (targets, steps, field map, params)."""
    sc, eff = _effective(name, tenant)
    lines = []
    for k, v in sorted(eff.scenario.targets.items()):
        if k not in sc.targets:
            lines.append(f"+ target {k}: {v}")
        elif sc.targets[k] != v:
            lines.append(f"~ target {k}: {sc.targets[k]}  ->  {v}")
    lines += [f"- step {s}" for s in eff.skipped]
    lines += [f"+ step {s} ({eff.origins.get(f'steps.{s}', '')})" for s in eff.added]
    lines += [f"~ field {k} <- record.{v}" for k, v in eff.field_map.items()]
    lines += [f"~ param {k}: {sc.params[k]!r} -> {eff.scenario.params[k]!r}" for k in sc.params if sc.params[k] != eff.scenario.params[k]]
    if eff.system != sc.system:
        lines.append(f"~ system {sc.system} -> {eff.system}")
    if not lines:
        console.print(f"{tenant} runs the shared scenario unchanged")
    for line in lines:
        style = {"+": "green", "-": "red", "~": "yellow"}[line[0]]
        console.print(Text(line, style=style), highlight=False, soft_wrap=True)


def read_records(path: Path) -> list[dict[str, Any]]:
    """records.json (a list), JSON Lines, or a truth.jsonl whose lines hold {"record": {...}}."""
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
        rows = data if isinstance(data, list) else data.get("records", [data])
    except json.JSONDecodeError:
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise typer.BadParameter(f"{path}:{n}: not JSON ({e.msg})") from None
    return [r["record"] if isinstance(r, dict) and isinstance(r.get("record"), dict) else r for r in rows]


@app.command("run")
def run(name: str = typer.Argument(...),
        tenant: Optional[str] = typer.Option(None, "--tenant", "-t", help="tenant id (its system, override, secrets)"),
        input_file: Optional[Path] = typer.Option(None, "--input", "-i", help="records.json / .jsonl"),
        sandbox: Optional[str] = typer.Option(None, "--sandbox", help="run against an in-process sandbox of this variant (a|b), seeded with the records"),
        dry_run: bool = typer.Option(False, "--dry-run", help="validate and render every value, no browser"),
        headed: bool = typer.Option(False, "--headed", help="show the browser (needs a display)"),
        slow_mo: int = typer.Option(0, "--slow-mo", help="slow every browser action down by MS"),
        artifacts: Optional[Path] = typer.Option(None, "--artifacts", help="screenshots/traces folder"),
        as_json: bool = typer.Option(False, "--json", help="print the result as JSON")) -> None:
    """Run a scenario for records, with a progress bar and a result table."""
    from automation.rpa import BrowserSession, RpaConfigError, ScenarioError, run_scenario
    from automation.sandbox.samples import recipients_for, sample_records
    from tenants.config import TenantConfig
    from tenants.secrets import get_secret

    records = read_records(input_file) if input_file else []
    if not records and sandbox:
        records = sample_records(3)
    if not records:
        err_console.print("[red]error[/red] no records: give --input records.json (or --sandbox a for sample records)")
        raise typer.Exit(CONFIG_ERROR_EXIT)
    cfg = load_tenant_or_exit(tenant).config if tenant else TenantConfig(
        id="sandbox", display_name="サンドボックス市", systems={"jidou_teate": {"base_url": "http://127.0.0.1:1/", "username": "robot"}})
    secret = get_secret
    handle = None
    if sandbox:
        from automation.sandbox import start_sandbox

        sysname = next(iter(cfg.systems), "jidou_teate")
        handle = start_sandbox(sandbox, username=cfg.systems[sysname].username or "robot")
        cfg = cfg.model_copy(deep=True)
        cfg.systems[sysname] = cfg.systems[sysname].model_copy(update={"base_url": handle.url})
        handle.seed(recipients_for([r for r in records if isinstance(r, dict) and r.get("recipient_number")]))
        secret = lambda _t, _n: "sandbox-pass"  # noqa: E731 - the sandbox's fixed password
    out = artifacts or Path(tempfile.mkdtemp(prefix=f"kyodo-{name}-"))
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err_console, transient=True) as progress:
            task = progress.add_task(f"{name} ({cfg.id})", total=len(records))
            browser = None if dry_run else BrowserSession(headless=not headed, slow_mo=slow_mo)
            try:
                result = run_scenario(name, cfg, records, artifacts_dir=out, secret=secret, browser=browser,
                                      dry_run=dry_run, on_record=lambda r: progress.advance(task))
            finally:
                if browser:
                    browser.close()
    except (ScenarioError, RpaConfigError) as e:
        err_console.print(f"[red]error[/red] {e}", highlight=False)
        raise typer.Exit(CONFIG_ERROR_EXIT) from None
    finally:
        if handle:
            handle.stop()
    if as_json:
        console.print_json(result.model_dump_json())
    else:
        table = Table(title=f"{name} for {cfg.display_name}: {result.seconds:.1f} s, logins {result.logins}")
        for c in ("#", "key", "status", "message", "s", "tries", "screenshot"):
            table.add_column(c)
        for r in result.records:
            st = STATUS_STYLE.get(r.status, "")
            msg = r.message or ", ".join(f"{k}={v}" for k, v in r.extracted.items())
            table.add_row(str(r.index), r.key, f"[{st}]{r.status}[/{st}]", escape(msg), f"{r.seconds:.2f}", str(r.attempts), r.screenshot or "")
        console.print(table)
        console.print(" ".join(f"{k}: {v}" for k, v in result.counts().items()) + f"  (artifacts: {out})")
    if any(r.status == "application_error" for r in result.records):
        raise typer.Exit(1)


@app.command("convert")
def convert_cmd(source: Path = typer.Argument(..., help="Python written by 'playwright codegen --target python'"),
                name: str = typer.Option("recorded", "--name"),
                out: Optional[Path] = typer.Option(None, "--out", "-o", help="write scenario.yaml here (default: print)")) -> None:
    """Convert a codegen recording into scenario steps with named targets."""
    from automation.rpa.codegen import convert

    try:
        conv = convert(source.read_text(encoding="utf-8"))
    except ValueError as e:
        err_console.print(f"[red]error[/red] {source}: {e}")
        raise typer.Exit(CONFIG_ERROR_EXIT) from None
    text = yaml.safe_dump(conv.scenario(name), allow_unicode=True, sort_keys=False)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out} ({len(conv.steps)} steps, {len(conv.targets)} targets)")
    else:
        console.print(text, highlight=False, markup=False)
    for s in conv.skipped:
        err_console.print(f"[yellow]note[/yellow] {s}", highlight=False)


@app.command("record")
def record(url: str = typer.Argument(...), name: str = typer.Option("recorded", "--name"),
           out: Optional[Path] = typer.Option(None, "--out", "-o")) -> None:
    """Record with 'playwright codegen' (needs a display) and convert the result into steps."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        err_console.print("[red]error[/red] recording needs a display (DISPLAY is not set). Record on a desktop with "
                          f"'python -m playwright codegen --target python -o rec.py {url}', then run "
                          "'kyodo scenario convert rec.py'")
        raise typer.Exit(CONFIG_ERROR_EXIT)
    with tempfile.TemporaryDirectory() as d:
        rec = Path(d) / "rec.py"
        cmd = [sys.executable, "-m", "playwright", "codegen", "--target", "python", "-o", str(rec), url]
        # codegen uses Playwright's own browser build; point it at Debian's Chromium where that is all there is.
        env = {**os.environ, "PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH": os.environ.get("KYODO_CHROMIUM", "/usr/bin/chromium")}
        proc = subprocess.run(cmd, env=env, check=False)
        if proc.returncode != 0 or not rec.exists():
            err_console.print(f"[red]error[/red] playwright codegen exited with {proc.returncode}")
            raise typer.Exit(1)
        convert_cmd(rec, name=name, out=out)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="scenario")
