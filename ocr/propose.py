"""Authoring from an image of a blank form.

* :func:`bind_blank`: how an existing (shared) template binds to a municipality's blank form: for
  every field the label found and the value region chosen, or that it was not found, so an author
  sees at once what the template reads on this layout and which labels need a synonym;
* :func:`propose`: a new label-located template for a form nobody has a template for. Labels are
  cells with printed text whose right-hand neighbour is empty; the field type is guessed from the
  label wording; cells holding checkbox squares become checkboxes or choices with the option
  texts beside the squares.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

import yaml

from pydantic import BaseModel, Field

from ocr.bind import bind
from ocr.engine import OcrEngine, default_engine
from ocr.grid import Cell, find_squares
from ocr.layout import join_words, norm_label
from ocr.loading import load_pages
from ocr.locate import right_of
from ocr.normalize import normalise_page
from ocr.smallprint import layout_pass
from ocr.pipeline import classify_page
from ocr.results import Box, FieldType
from ocr.templates import FormTemplate

TYPE_HINTS = [("個人番号", "my_number"), ("マイナンバー", "my_number"), ("郵便", "postal_code"), ("〒", "postal_code"),
              ("電話", "phone"), ("フリガナ", "kana"), ("ふりがな", "kana"), ("年月日", "date_wareki"), ("日付", "date_wareki"),
              ("提出日", "date_wareki"), ("番号", "digits")]


def guess_type(label: str) -> str:
    return next((t for key, t in TYPE_HINTS if key in label), "text")


def propose(blank: Path, *, form_id: str = "new_form", name: str = "新しい帳票", engine: OcrEngine | None = None) -> dict:
    page = load_pages(blank)[0]
    layout = layout_pass(normalise_page(page.image, page.dpi), engine or default_engine())
    fields = []
    seen: set[str] = set()
    for i, cell in enumerate(layout.cells):
        text = norm_label(layout.cell_text(i))
        if len(text) < 2 or text in seen:
            continue
        target = right_of(layout, cell)
        if target is None:
            continue
        inside = layout.words_in(target.box)
        squares = find_squares(layout.bw, target.box)
        n = len(fields) + 1
        if squares:
            options = []
            for k, sq in enumerate(squares):
                end = squares[k + 1].x if k + 1 < len(squares) else target.box.x + target.box.w
                options.append(norm_label(join_words([w for w in inside if sq.x + sq.w <= w.cx < end])))
            ftype = "choice" if len(squares) > 1 else "checkbox"
            spec = {"name": f"field_{n}", "type": ftype, "label": text, "locator": {"kind": "label", "labels": [text]}}
            if ftype == "choice":
                spec["options"] = [o for o in options if o]
        elif inside:
            continue  # the neighbour has printed text: it is not an empty value cell
        else:
            spec = {"name": f"field_{n}", "type": guess_type(text), "label": text, "locator": {"kind": "label", "labels": [text]}}
        seen.add(text)
        fields.append(spec)
    return {"id": form_id, "name": name, "kind": "label", "description": f"proposed from {Path(blank).name}; rename fields and check types",
            "fields": fields}


def propose_yaml(blank: Path, **kw) -> str:
    return yaml.safe_dump(propose(blank, **kw), allow_unicode=True, sort_keys=False)


class BlankField(BaseModel):
    """One field of a template on a blank form."""

    name: str
    label: str = Field(description="the template's label for the clerk")
    found: bool
    label_box: Box | None = None
    region: Box | None = None
    absent_ok: bool = False
    rows: int = Field(0, description="a repeated group: the entries (rows, columns or cards) found")


class BlankBinding(BaseModel):
    template: str
    score: float = Field(description="share of the template's labels found on the blank")
    fields: list[BlankField]

    @property
    def missing(self) -> list[BlankField]:
        """Fields the form should have (not a question it may leave out) that were not found."""
        return [f for f in self.fields if not f.found and not f.absent_ok]


def bind_blank(template: FormTemplate, blank: Path, *, engine: OcrEngine | None = None) -> tuple[BlankBinding, np.ndarray]:
    """Bind *template* to the blank form (straightened, orientation decided as for a scan); return
    the binding and the straightened page its boxes are in."""
    page = load_pages(blank)[0]
    c = classify_page(normalise_page(page.image, page.dpi), [template], engine or default_engine(), None)
    loc = c.located if c.located is not None else bind(template, c.layout)
    out: list[BlankField] = []
    for spec in template.fields:
        if spec.type == FieldType.table:
            rows = loc.tables.get(spec.name) or []
            boxes = [t.box for row in rows for t in row.values()]
            region = Cell.around(boxes) if boxes else None
            out.append(BlankField(name=spec.name, label=spec.label or spec.name, found=bool(rows), rows=len(rows),
                                  region=_box(region)))
            continue
        t = loc.fields.get(spec.name)
        out.append(BlankField(name=spec.name, label=spec.label or spec.name, found=t is not None, absent_ok=spec.absent_ok,
                              label_box=_box(t.label_box) if t else None, region=_box(t.box) if t else None))
    return BlankBinding(template=template.id, score=round(loc.score, 3), fields=out), c.layout.image


def _box(c) -> Box | None:
    return Box(x=c.x, y=c.y, w=c.w, h=c.h) if c is not None else None
