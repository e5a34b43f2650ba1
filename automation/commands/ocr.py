"""``kyodo ocr extract|models``: read scans with the form templates and print the records."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from automation.console import CONFIG_ERROR_EXIT, console, err_console
from tenants.privacy import mask

if TYPE_CHECKING:
    from ocr.engine import OcrEngine
    from ocr.results import FieldResult, FormResult

DEFAULT_FORMS = Path(__file__).resolve().parents[2] / "scenarios" / "child_allowance_status_report" / "forms"

ocr_app = typer.Typer(help="AI-OCR: read scanned forms.", no_args_is_help=True)

# ``raw`` is the text as read: for a My Number field an unmasked number outside the value the user
# asked for. ``name`` is the key already; table cells have no rows of their own.
_CELL_EXCLUDE = {"name", "raw", "rows"}


def _field_json(f: FieldResult) -> dict[str, Any]:
    """One field as the review screen shows it: value, state, confidence, reasons, messages, box
    (and a table's rows, the same per cell)."""
    exclude: dict[str, Any] = {"name": True, "raw": True}
    exclude["rows"] = True if f.rows is None else {"__all__": {"__all__": _CELL_EXCLUDE}}
    out = f.model_dump(mode="json", exclude=exclude)
    _mask_messages(out)
    for row in out.get("rows") or []:
        for cell in row.values():
            _mask_messages(cell)
    return out


def _mask_messages(d: dict[str, Any]) -> None:
    # Messages are clerk text, but some quote what was read (a repaired check digit): masked like logs.
    d["messages"] = [mask(m) for m in d.get("messages", [])]


def _row(file: str, form: FormResult, warnings: list[str]) -> dict[str, Any]:
    return {"file": file, "pages": form.page_indices, "template": form.template, "status": form.status,
            "doubtful": form.doubtful_fields(), "reasons": [mask(r) for r in form.reasons], "record": form.record(),
            "fields": {name: _field_json(f) for name, f in form.fields.items()}, "warnings": warnings}


def _model_warnings(allow_missing: bool) -> tuple[OcrEngine, list[str]]:
    """The engine the pipeline will use and one warning per missing model; refuses (exit 2) when a
    model is missing and ``allow_missing`` is not set: readings would silently be worse."""
    from ocr.engine import default_engine
    from ocr.errors import OcrError
    from ocr.models import missing_models

    try:
        engine = default_engine()
        missing = missing_models(engine)
    except OcrError as e:
        err_console.print(f"[red]error[/red] {escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(CONFIG_ERROR_EXIT) from None
    warnings = [m.warning() for m in missing]
    if missing and not allow_missing:
        for m in missing:
            err_console.print(f"[red]error[/red] {escape(m.problem())}\n  fix: [bold]{escape(m.fix)}[/bold]",
                              highlight=False, soft_wrap=True)
        err_console.print("OCR の読み取りに必要なモデルがインストールされていません。上記の方法でインストールしてから"
                          "再実行してください（精度が下がるのを承知で読み取る場合: --allow-missing-models）。",
                          highlight=False, soft_wrap=True)
        raise typer.Exit(CONFIG_ERROR_EXIT)
    for w in warnings:
        err_console.print(f"[yellow]warning[/yellow] {escape(w)}", highlight=False, soft_wrap=True)
    return engine, warnings


def _flat(record: dict) -> dict:
    out = {}
    for k, v in record.items():
        if k == "children":
            for i, row in enumerate(v or []):
                for ck, cv in row.items():
                    out[f"children.{i + 1}.{ck}"] = cv
        else:
            out[k] = v
    return out


@ocr_app.command("extract")
def extract(
    files: list[Path] = typer.Argument(..., help="scans: PDF, TIFF, PNG, JPEG"),
    template: Path = typer.Option(DEFAULT_FORMS, "--template", "-t", help="template YAML file or folder of templates"),
    as_json: bool = typer.Option(False, "--json", help="JSON lines on stdout (one per form)"),
    as_csv: bool = typer.Option(False, "--csv", help="CSV on stdout (one row per form)"),
    dpi: int = typer.Option(300, help="render resolution for PDF pages"),
    allow_missing_models: bool = typer.Option(
        False, "--allow-missing-models",
        help="read even when a Tesseract model is missing (worse readings; warned on stderr and in each JSON line)"),
) -> None:
    """Read FILES and print one record per form with its status (ready / needs_review).

    Exits 2 before reading anything when a model the reader uses is missing (see ``kyodo ocr models``).
    """
    from ocr import load_templates, read_document
    from ocr.errors import OcrError

    engine, warnings = _model_warnings(allow_missing_models)
    templates = load_templates(template)
    rows: list[dict] = []
    failures = 0
    with Progress(console=console, transient=True, disable=len(files) < 2) as progress:
        task = progress.add_task("reading", total=len(files))
        for f in files:
            try:
                doc = read_document(f, templates, dpi=dpi, engine=engine)
            except OcrError as e:
                failures += 1
                # stderr: stdout carries only the JSON lines / CSV a script reads.
                err_console.print(f"[red]{escape(f.name)}[/red]: {escape(mask(str(e)))}  ({escape(mask(e.message_ja))})",
                                  highlight=False, soft_wrap=True)
                progress.advance(task)
                continue
            for form in doc.forms:
                rows.append(_row(f.name, form, warnings))
            progress.advance(task)
    if as_json:
        for r in rows:
            sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
    elif as_csv:
        flat = [{"file": r["file"], "template": r["template"], "status": r["status"], "doubtful": " ".join(r["doubtful"]), **_flat(r["record"])} for r in rows]
        keys = list(dict.fromkeys(k for r in flat for k in r))
        w = csv.DictWriter(sys.stdout, fieldnames=keys)
        w.writeheader()
        w.writerows(flat)
    else:
        for r in rows:
            # Escaped: rich would take "[ready]" for a style tag and drop it.
            table = Table(title=escape(f"{r['file']} pages {r['pages']}: {r['template'] or 'unknown form'} [{r['status']}]"))
            table.add_column("field")
            table.add_column("value")
            for k, v in _flat(r["record"]).items():
                doubt = " [yellow](check)[/yellow]" if k.split(".")[0] in r["doubtful"] else ""
                table.add_row(k, escape(mask(str(v))) + doubt)
            console.print(table)
            for reason in r["reasons"]:  # masked in _row
                console.print(f"  {escape(reason)}")
    if failures:
        raise typer.Exit(1)


@ocr_app.command("models")
def models_cmd(install: bool = typer.Option(False, "--install", help="download and verify jpn_full from the npm registry")) -> None:
    """The Tesseract models the reader uses, and where they come from."""
    from ocr import models
    from ocr.errors import EngineError

    if install:
        try:
            console.print(f"jpn_full installed: {models.install_full_model()}")
        except EngineError as e:
            console.print(f"[red]{escape(str(e))}[/red]")
            raise typer.Exit(1) from e
    try:
        missing = {m.name: m for m in models.missing_models()}
    except EngineError as e:  # no engine at all (KYODO_OCR_ENGINE=api without the library)
        console.print(f"[red]{escape(str(e))}[/red]")
        raise typer.Exit(1) from e
    table = Table("model", "role", "source", "status")
    for m in models.READER_MODELS:
        if m.name in missing:
            status = f"[red]missing[/red]: {escape(m.fix)}"
        else:
            status = str(models.tessdata_dir()) if m.name == models.FULL_LANG else "system"
        table.add_row(m.name, m.role, m.source, status)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(ocr_app, name="ocr")
