"""Results of the OCR engine: the contract between ``ocr/`` and the rest of Kyodo.

Every field carries its value, a confidence in [0, 1], the reasons for doubt and the box
it was read from, so the review screen can show the crop beside the value and the RPA
step only receives values nobody needs to doubt.
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field


class FieldType(StrEnum):
    text = "text"
    kana = "kana"
    digits = "digits"
    date_wareki = "date_wareki"
    postal_code = "postal_code"
    phone = "phone"
    my_number = "my_number"
    checkbox = "checkbox"
    choice = "choice"
    table = "table"


class Doubt(StrEnum):
    """Why a value needs a human look."""

    low_confidence = "low_confidence"
    invalid = "invalid"
    disagreement = "disagreement"
    missing_required = "missing_required"
    cross_field = "cross_field"
    not_found = "not_found"


class FieldState(StrEnum):
    """Every field of a template comes back in one of three states."""

    value = "value"  # read (it may still carry doubts: see reasons)
    absent = "absent"  # this form's layout has no such field (e.g. a question it does not ask): the scenario decides the default
    unread = "unread"  # the form has it, or may have it, but nothing trustworthy was read: a clerk must look


class Box(BaseModel):
    """A rectangle in pixels of the normalised page image (page is 0-based)."""

    page: int = 0
    x: int
    y: int
    w: int
    h: int


class FieldResult(BaseModel):
    name: str
    type: FieldType
    label: str = Field(default="", description="the printed label, for the clerk (e.g. 受給者氏名)")
    state: FieldState = Field(default=FieldState.value, description="value / absent (not on this form) / unread (flagged)")
    value: Any = Field(default=None, description="normalised: str (ISO dates), bool (checkbox), list of row dicts (table)")
    raw: str | None = Field(default=None, description="text as read, before normalisation")
    confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    reasons: list[Doubt] = Field(default_factory=list)
    messages: list[str] = Field(default_factory=list, description="explanations in Japanese for the clerk")
    box: Box | None = None
    rows: list[dict[str, "FieldResult"]] | None = Field(default=None, description="table cells, one dict per row")

    @property
    def doubtful(self) -> bool:
        if self.reasons:
            return True
        return any(cell.doubtful for row in self.rows or [] for cell in row.values())


class FormResult(BaseModel):
    """One form read from one or more pages of a file."""

    source: str = Field(description="file name it came from")
    template: str | None = Field(description="template id, or None when no template fits")
    classification_score: float = 0.0
    page_indices: list[int] = Field(default_factory=list, description="pages of the file this form covers")
    fields: dict[str, FieldResult] = Field(default_factory=dict)
    status: Literal["ready", "needs_review"] = "needs_review"
    reasons: list[str] = Field(default_factory=list, description="document-level reasons (Japanese), e.g. unknown form")

    def record(self) -> dict[str, Any]:
        """The values only, as the scenario step receives them; a field this form's layout does not
        have is left out (the scenario's default applies), never given a guessed value."""
        return {name: f.value for name, f in self.fields.items() if f.state != FieldState.absent}

    def doubtful_fields(self) -> list[str]:
        return [name for name, f in self.fields.items() if f.doubtful]
