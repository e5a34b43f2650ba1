"""``kyodo form``: author and measure OCR form templates."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress

from rich.table import Table

from automation.console import console
from automation.formsheet import draw_binding

form_app = typer.Typer(help="Form templates: propose from a blank form, measure on samples.", no_args_is_help=True)


@form_app.command("new")
def new(
    blank: Path = typer.Option(..., "--blank", help="image or PDF of the blank form"),
    out: Path = typer.Option(None, "--out", "-o", help="write the YAML here (default: print it)"),
    form_id: str = typer.Option("new_form", "--id", help="template id"),
    from_template: Path = typer.Option(None, "--from", help="bind this (shared) template to the blank instead of proposing a new one"),
    png: Path = typer.Option(None, "--png", help="with --from: write the blank with every field's value region drawn and named"),
) -> None:
    """Propose a label-located template for an author to edit, or (--from) show how an existing
    template binds to this municipality's blank form: each field's label and value region, and the
    fields whose label needs a synonym."""
    from ocr.errors import OcrError
    from ocr.propose import propose_yaml

    if from_template is not None:
        _bind_blank(blank, from_template, png)
        return
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


def _bind_blank(blank: Path, template_path: Path, png: Path | None) -> None:
    from ocr import load_templates
    from ocr.errors import OcrError
    from ocr.propose import bind_blank

    try:
        template = load_templates(template_path)[0]
        binding, page = bind_blank(template, blank)
    except OcrError as e:
        console.print(f"[red]{blank.name}[/red]: {e}")
        raise typer.Exit(1) from e
    table = Table(title=f"{template.id} on {blank.name}: {binding.score:.0%} of its labels found")
    for col in ("field", "label", "found", "value region (x, y, w, h)"):
        table.add_column(col)
    for f in binding.fields:
        where = f"{f.region.x}, {f.region.y}, {f.region.w}, {f.region.h}" if f.region else "-"
        found = (f"{f.rows} entries" if f.rows else "yes") if f.found else ("not on this form?" if f.absent_ok else "[red]NOT FOUND[/red]")
        table.add_row(f.name, f.label, found, where)
    console.print(table)
    for f in binding.missing:
        console.print(f"  {f.name}: add the label as printed on this form to its locator's labels (see the scenario README)")
    if png is not None:
        draw_binding(page, binding, png)
        console.print(f"wrote {png}")
    if binding.missing:
        raise typer.Exit(1)


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
