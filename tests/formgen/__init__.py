"""Randomised layouts of the 児童手当 現況届 for tests and tuning (test-tree only: the OCR
engine must know nothing of this form).

A *family* is one municipality's layout (``family_layout``); ids 0..49 are the tuning split,
1000..1049 the held-out split. ``generate`` writes scans with ``truth.jsonl``; ``render_blank``
gives a family's empty form. CLI: ``python -m tests.formgen OUT --split heldout --count 60``.

Modules: ``family`` (choices), ``geometry`` (cells, text, slots), ``draw`` (where everything
goes), ``paint`` (pixels), ``records`` (values), ``scan`` (damage), ``dataset`` (files).
"""
from __future__ import annotations

from tests.formgen.dataset import generate, render_blank, render_form
from tests.formgen.family import ARRANGEMENTS, FamilyLayout, Split, split_families, split_of
from tests.formgen.layouts import family_layout

__all__ = ["ARRANGEMENTS", "FamilyLayout", "Split", "family_layout", "generate", "render_blank", "render_form", "split_families",
           "split_of"]
