"""``kyodo form``: author and measure OCR form templates."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from automation.console import console

form_app = typer.Typer(help="Form templates: propose from a blank form, measure on samples.", no_args_is_help=True)


@form_app.command("new")
def new(
    blank: Path = typer.Option(..., "--blank", help="image or PDF of the blank form"),
    out: Path = typer.Option(None, "--out", "-o", help="write the YAML here (default: print it)"),
    form_id: str = typer.Option("new_form", "--id", help="template id"),
) -> None:
    """Propose a label-located template (labels by OCR, cells by line detection) for an author to edit."""
    from ocr.errors import OcrError
    from ocr.propose import propose_yaml

    try:
        text = propose_yaml(blank, form_id=form_id)
    except OcrError as e:
        console.print(f"[red]{blank.name}[/red]: {e}")
        raise typer.Exit(1) from e
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
    else:
        typer.echo(text)


@form_app.command("check")
def check(
    template: Path = typer.Argument(..., help="template YAML file or folder"),
    samples: Path = typer.Option(..., "--samples", help="folder of scans"),
    truth: Path = typer.Option(..., "--truth", help="truth.jsonl (file, page, record)"),
) -> None:
    """Accuracy per field, review rate and silent-error rate of TEMPLATE on SAMPLES."""
    from ocr import load_templates
    from ocr.evaluate import check as run_check
    from ocr.evaluate import format_report

    templates = load_templates(template)
    n = len({line.split('"file": ')[1].split(",")[0] for line in truth.read_text(encoding="utf-8").splitlines() if line.strip()})
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reading", total=n)
        report = run_check(templates, samples, truth, progress=lambda _f: progress.advance(task))
    for line in format_report(report):
        console.print(line, highlight=False)
    for u in report.unreadable:
        console.print(f"[red]unreadable[/red] {u}")


def register(app: typer.Typer) -> None:
    app.add_typer(form_app, name="form")
