"""Form templates: YAML files validated by pydantic.

A template lists the fields of one form. Each field is found by a locator:

* ``label``: the printed label text (with synonyms) and where the value sits relative
  to it; found by OCR of the page's printed text and the ruled-line grid, so one
  template reads several layouts of the same form;
* ``zone``: a box on the template's reference image; the scan is registered to that
  image first (feature matching + homography, with a fallback).
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from ocr.errors import TemplateError
from ocr.results import FieldType

Zone = tuple[int, int, int, int]  # x, y, w, h in reference-image pixels


WITHIN_YEARS = ("date_wareki: the date lies at most this many years before the day it is read, never after it (a form's own "
                "date, a child's birth); an era whose first character is unreadable (?和) is the one that fits, and a date "
                "outside is flagged")


class ColumnSpec(BaseModel):
    name: str
    type: FieldType
    labels: list[str] = Field(default_factory=list, description="header texts of the column (label locator)")
    zones: list[Zone] = Field(default_factory=list, description="one zone per row (zone locator)")
    required: bool = False
    answers: tuple[list[str], list[str]] | None = Field(None, description="checkbox read from two boxes: (texts meaning yes, texts meaning no)")
    within_years: int | None = Field(None, ge=1, description=WITHIN_YEARS)


class Locator(BaseModel):
    kind: Literal["label", "zone"]
    labels: list[str] = Field(default_factory=list, description="printed label and its synonyms")
    # Where the value is relative to the label. "auto" (the default): wherever the page puts it (the
    # label's own box, the cell to its right or below, digit boxes), decided per page by ocr.bind.
    # An author pins one only for a layout where auto binding is known to go wrong.
    position: Literal["auto", "right", "below", "inside"] = "auto"
    zone: Zone | None = None


class FieldSpec(BaseModel):
    name: str
    type: FieldType
    label: str = Field("", description="label shown to the clerk")
    locator: Locator
    required: bool = True
    length: int | None = Field(None, description="exact number of digits (digits type)")
    options: list[str] = Field(default_factory=list, description="choice: option texts printed beside the boxes")
    columns: list[ColumnSpec] = Field(default_factory=list, description="table: the columns")
    max_rows: int = 3
    absent_ok: bool = Field(False, description="a layout may not have this field at all (a question some municipalities do not ask): "
                            "when its label is nowhere on the page the field comes back 'absent', not 'unread'")
    answers: tuple[list[str], list[str]] | None = Field(None, description="checkbox read from two boxes: (texts meaning yes, texts meaning no)")
    within_years: int | None = Field(None, ge=1, description=WITHIN_YEARS)

    @model_validator(mode="after")
    def _check(self) -> "FieldSpec":
        if self.locator.kind == "zone" and self.type != FieldType.table and self.locator.zone is None:
            raise ValueError(f"field {self.name}: a zone locator needs 'zone: [x, y, w, h]'")
        if self.locator.kind == "label" and not self.locator.labels:
            raise ValueError(f"field {self.name}: a label locator needs at least one label")
        if self.type == FieldType.choice and not self.options:
            raise ValueError(f"field {self.name}: a choice needs options")
        if self.type == FieldType.table and not self.columns:
            raise ValueError(f"field {self.name}: a table needs columns")
        return self


class FormTemplate(BaseModel):
    id: str
    name: str
    kind: Literal["label", "zone"]
    description: str = ""
    reference_image: str | None = None
    priority: int = Field(0, description="when two templates fit a page equally, the higher priority wins")
    min_score: float = Field(0.5, description="classification score below which the page is 'none of these'")
    fields: list[FieldSpec]
    folder: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _check(self) -> "FormTemplate":
        if self.kind == "zone" and not self.reference_image:
            raise ValueError("a zone template needs reference_image")
        names = [f.name for f in self.fields]
        if len(names) != len(set(names)):
            raise ValueError("field names must be unique")
        return self

    @property
    def reference_path(self) -> Path | None:
        if not self.reference_image:
            return None
        return (self.folder or Path(".")) / self.reference_image

    def label_groups(self) -> dict[str, list[str]]:
        """Label synonyms per field, and per table column as "table.column"."""
        groups: dict[str, list[str]] = {}
        for f in self.fields:
            if f.type == FieldType.table:
                groups.update({f"{f.name}.{c.name}": c.labels for c in f.columns if c.labels})
            elif f.locator.labels:
                groups[f.name] = f.locator.labels
        return groups

    def all_labels(self) -> list[list[str]]:
        """Label synonym groups used for classification (one group per field or column)."""
        return list(self.label_groups().values())


def load_template(path: Path) -> FormTemplate:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        tpl = FormTemplate.model_validate(data)
    except (OSError, yaml.YAMLError) as e:
        raise TemplateError(f"{path}: cannot read template ({e})") from e
    except ValidationError as e:
        raise TemplateError(f"{path}: invalid template: {e}") from e
    tpl.folder = Path(path).parent
    if tpl.reference_path is not None and not tpl.reference_path.exists():
        raise TemplateError(f"{path}: reference image {tpl.reference_image} not found")
    return tpl


def load_templates(folder: Path) -> list[FormTemplate]:
    """Every ``*.yaml`` template in ``folder`` (sorted by file name)."""
    folder = Path(folder)
    if folder.is_file():
        return [load_template(folder)]
    return [load_template(p) for p in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))]
