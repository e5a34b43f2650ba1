"""Measure a template on samples with ground truth: accuracy per field, review load, silent errors.

A silent error is a wrong value on a field nobody was told to check: the expensive kind.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ocr.errors import OcrError
from ocr.pipeline import read_document
from ocr.results import FieldResult, FieldState, FieldType, FormResult
from ocr.templates import FormTemplate

MARK_TYPES = (FieldType.checkbox, FieldType.choice)


class FieldStats(BaseModel):
    name: str
    mark: bool = Field(False, description="a tick box or choice (counted apart from printed text)")
    total: int = 0
    correct: int = 0
    flagged: int = 0
    silent_errors: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


class CheckReport(BaseModel):
    forms: int = 0
    forms_flagged: int = 0
    forms_all_correct: int = 0
    pages: int = 0
    seconds: float = 0.0
    unreadable: list[str] = Field(default_factory=list)
    fields: dict[str, FieldStats] = Field(default_factory=dict)
    silent_examples: list[str] = Field(default_factory=list, description="field names only, never values")

    def _sum(self, pred: Callable[[str], bool]) -> tuple[int, int, int, int]:
        sel = [s for n, s in self.fields.items() if pred(n)]
        return (sum(s.total for s in sel), sum(s.correct for s in sel), sum(s.flagged for s in sel), sum(s.silent_errors for s in sel))

    @property
    def printed_accuracy(self) -> float:
        t, c, _, _ = self._sum(lambda n: not self.fields[n].mark)
        return c / t if t else 0.0

    @property
    def checkbox_accuracy(self) -> float:
        t, c, _, _ = self._sum(lambda n: self.fields[n].mark)
        return c / t if t else 0.0

    @property
    def silent_error_rate(self) -> float:
        t, _, _, s = self._sum(lambda n: True)
        return s / t if t else 0.0

    @property
    def review_rate(self) -> float:
        return self.forms_flagged / self.forms if self.forms else 0.0

    @property
    def min_field_accuracy(self) -> float:
        return min((s.accuracy for s in self.fields.values() if not s.mark), default=0.0)


def _cells(form: FormResult, truth: dict[str, Any], absent: list[str], marks: set[str]) -> list[tuple[str, Any, Any, bool, bool]]:
    """(field name, read value, true value, flagged, is a mark) for every comparable field of one form.

    A field the form does not have (*absent*, as the truth says) is right only when it comes back
    absent; any value for it is wrong (and silent unless flagged), as the scenario would enter it."""
    out = []
    for name, want in truth.items():
        fr: FieldResult | None = form.fields.get(name)
        if name == "children":
            rows = (fr.rows or []) if fr else []
            for i, trow in enumerate(want):
                for col, tv in trow.items():
                    cell = rows[i].get(col) if i < len(rows) else None
                    out.append((f"children.{col}", cell.value if cell else None, tv,
                                bool(cell is None or cell.doubtful or (fr is not None and fr.reasons)), f"children.{col}" in marks))
            out.append(("children.rows", len(rows), len(want), bool(len(rows) != len(want) and (fr is None or fr.doubtful)), False))
            continue
        out.append((name, fr.value if fr else None, want, bool(fr is None or fr.doubtful), name in marks))
    for name in absent:
        fr = form.fields.get(name)
        state = fr.state.value if fr else FieldState.absent.value
        out.append((name, state, FieldState.absent.value, bool(fr is not None and fr.doubtful), name in marks))
    return out


def _marks(templates: list[FormTemplate]) -> set[str]:
    out = set()
    for t in templates:
        for f in t.fields:
            if f.type in MARK_TYPES:
                out.add(f.name)
            out |= {f"{f.name}.{c.name}" for c in f.columns if c.type in MARK_TYPES}
    return out


def check(templates: list[FormTemplate], samples: Path, truth_path: Path, *,
          progress: Callable[[str], None] | None = None, engine=None,
          reader: Callable[[Path], Any] | None = None) -> CheckReport:
    """``reader`` replaces read_document (the benchmark wraps it to time and interleave)."""
    lines = [json.loads(line) for line in Path(truth_path).read_text(encoding="utf-8").splitlines() if line.strip()]
    report = CheckReport()
    marks = _marks(templates)
    docs: dict[str, Any] = {}
    start = time.perf_counter()
    for line in lines:
        fname = line["file"]
        if fname not in docs:
            try:
                path = Path(samples) / fname
                docs[fname] = reader(path) if reader else read_document(path, templates, engine=engine)
                report.pages += docs[fname].page_count
            except OcrError as e:
                docs[fname] = None
                report.unreadable.append(f"{fname}: {e}")
            if progress:
                progress(fname)
        doc = docs[fname]
        report.forms += 1
        page = int(line.get("page", 0))
        form = doc.forms[page] if doc is not None and page < len(doc.forms) else None
        if form is None or form.template is None:
            report.forms_flagged += 1
            form = FormResult(source=fname, template=None)
        elif form.status == "needs_review":
            report.forms_flagged += 1
        all_ok = True
        for name, got, want, flagged, mark in _cells(form, line["record"], line.get("absent", []), marks):
            st = report.fields.setdefault(name, FieldStats(name=name, mark=mark))
            st.total += 1
            ok = got == want
            st.correct += ok
            st.flagged += flagged
            all_ok &= ok
            if not ok and not flagged:
                st.silent_errors += 1
                report.silent_examples.append(f"{fname}: {name}")
        report.forms_all_correct += all_ok
    report.seconds = time.perf_counter() - start
    return report


def format_report(r: CheckReport) -> list[str]:
    out = [f"{'field':28} {'n':>4} {'accuracy':>9} {'flagged':>8} {'silent':>7}"]
    for name, s in r.fields.items():
        out.append(f"{name:28} {s.total:4d} {s.accuracy:9.1%} {s.flagged:8d} {s.silent_errors:7d}")
    out += [
        f"forms {r.forms} (pages {r.pages}, {r.seconds / max(1, r.pages):.2f} s/page), unreadable files {len(r.unreadable)}",
        f"printed fields exact-match accuracy: {r.printed_accuracy:.2%} (lowest field {r.min_field_accuracy:.1%})",
        f"checkboxes/choices accuracy:        {r.checkbox_accuracy:.2%}",
        f"silent error rate (wrong, not flagged): {r.silent_error_rate:.2%} of fields",
        f"review rate (forms flagged):            {r.review_rate:.1%}",
        f"forms entirely right:                   {r.forms_all_correct}/{r.forms}",
    ]
    return out


