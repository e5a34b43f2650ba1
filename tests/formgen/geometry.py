"""What a family's sheet is made of: printed cells and text, and the slots a filler writes in.

A family's geometry is computed once (``draw.build_sheet``) and painted for every form, so a
blank and a filled form share it exactly, and tests can check it without looking at pixels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ocr.generate import _font

SlotKind = Literal["text", "char", "era", "year", "month", "day", "check", "circle"]
LabelRole = Literal["label", "title", "heading", "note", "form_number", "option", "era", "statement", "printed_value"]


@dataclass(frozen=True)
class Rect:
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    def contains(self, other: Rect) -> bool:
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom

    def overlaps(self, other: Rect) -> bool:
        return self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom

    def inset(self, dx: int, dy: int | None = None) -> Rect:
        dy = dx if dy is None else dy
        return Rect(self.x + dx, self.y + dy, max(1, self.w - 2 * dx), max(1, self.h - 2 * dy))


@dataclass(frozen=True)
class Cell:
    """A printed rectangle: label cell, value box, digit box, table cell."""
    rect: Rect
    shaded: bool = False


@dataclass(frozen=True)
class Label:
    """Printed text. ``pos`` is where PIL draws it; ``rect`` is the ink box it covers."""
    pos: tuple[int, int]
    rect: Rect
    text: str
    size: int
    role: LabelRole = "label"
    field: str = ""  # the field a label names, so tests can relate it to the field's box


@dataclass(frozen=True)
class Slot:
    """Where the filler writes (or marks) one field or one part of it.

    ``field`` is a dotted path into the record ("children.1.birth_date"); ``option`` is the value
    a mark stands for ("true"/"false" for booleans, the option text for the pension, an era name);
    ``index`` is the digit a "char" slot holds; ``box`` is the printed box the slot lies in.
    """
    field: str
    kind: SlotKind
    rect: Rect
    box: Rect
    size: int = 46
    index: int = 0
    option: str = ""
    align: Literal["left", "center"] = "left"


@dataclass
class Sheet:
    cells: list[Cell] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    slots: list[Slot] = field(default_factory=list)
    hyphens: list[Rect] = field(default_factory=list)  # printed dashes between digit groups
    stamp: Rect | None = None  # where the red 受付 stamp goes on a filled form
    identity_rows: list[tuple[str, ...]] = field(default_factory=list)  # how the identity fields were packed
    bottom: int = 0

    def fields(self) -> set[str]:
        """Top-level record keys the sheet has a place for."""
        return {s.field.split(".")[0] for s in self.slots} | {lb.field for lb in self.labels if lb.role == "printed_value"}

    def slots_of(self, field_name: str) -> list[Slot]:
        return [s for s in self.slots if s.field == field_name or s.field.startswith(field_name + ".")]

    def label_of(self, field_name: str) -> Label:
        return next(lb for lb in self.labels if lb.field == field_name and lb.role == "label")


def text_rect(font_path: Path, size: int, x: int, y: int, text: str) -> Rect:
    left, top, right, bottom = _font(font_path, size).getbbox(text)
    return Rect(x + int(left), y + int(top), max(1, int(right - left)), max(1, int(bottom - top)))


def text_width(font_path: Path, size: int, text: str) -> int:
    return int(_font(font_path, size).getlength(text))
