"""OCR test material: small generated sets, made once per session (generating and reading
are the slow parts), and read once per file."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from ocr import DocumentRead, load_templates, read_document
from ocr.generate import generate_set

FORMS = Path(__file__).resolve().parents[2] / "scenarios" / "child_allowance_status_report" / "forms"


@pytest.fixture(scope="session")
def label_templates():
    return [t for t in load_templates(FORMS) if t.kind == "label"]


@pytest.fixture(scope="session")
def zone_templates():
    return [t for t in load_templates(FORMS) if t.kind == "zone"]


@pytest.fixture(scope="session")
def scan_set(tmp_path_factory) -> tuple[Path, list[dict]]:
    """Four degraded scans (two per layout variant) with ground truth."""
    out = tmp_path_factory.mktemp("scans")
    truth = generate_set(out, 4, seed=11)
    return out, [json.loads(line) for line in truth.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def read_set(scan_set, label_templates) -> dict[str, DocumentRead]:
    folder, lines = scan_set
    return {name: read_document(folder / name, label_templates) for name in {line["file"] for line in lines}}
