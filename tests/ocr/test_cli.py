"""The CLI commands on a generated set: extract (JSON/CSV, refusing without its models), form
check, form new."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from automation.cli import app
from tests.ocr.conftest import FORMS

runner = CliRunner()
FIELD_KEYS = {"type", "label", "state", "value", "confidence", "reasons", "messages", "box"}


@pytest.fixture(scope="module")
def clean_scan(tmp_path_factory) -> Path:
    from ocr.generate import generate_set

    out = tmp_path_factory.mktemp("clean")
    truth = generate_set(out, 1, seed=7, degrade=False)
    return out / json.loads(truth.read_text(encoding="utf-8").splitlines()[0])["file"]


def _json_rows(stdout: str) -> list[dict]:
    lines = stdout.splitlines()
    assert lines and all(line.startswith("{") for line in lines), stdout  # stdout is JSON lines only
    return [json.loads(line) for line in lines]


def _check_field(name: str, f: dict) -> None:
    assert FIELD_KEYS <= f.keys() and "raw" not in f and "name" not in f, (name, f)
    assert f["state"] in ("value", "absent", "unread") and 0.0 <= f["confidence"] <= 1.0
    assert isinstance(f["reasons"], list) and isinstance(f["messages"], list)
    if f["state"] == "value" and f["box"] is not None:
        assert {"page", "x", "y", "w", "h"} == f["box"].keys()


def test_extract_json_carries_each_fields_state_confidence_reasons_and_box(clean_scan):
    res = runner.invoke(app, ["ocr", "extract", str(clean_scan), "--json"])
    assert res.exit_code == 0, res.output
    (row,) = _json_rows(res.stdout)
    assert row["template"] and row["warnings"] == []
    record, fields = row["record"], row["fields"]
    assert set(record) <= set(fields) and "my_number" in record
    for name, f in fields.items():
        _check_field(name, f)
        if f["state"] == "absent":
            assert name not in record  # the scenario's default applies
        else:
            assert record[name] == f["value"], name
    assert sum(f["state"] == "value" and f["box"] is not None for f in fields.values()) >= len(fields) // 2
    assert fields["my_number"]["value"] == record["my_number"]  # the value asked for, unmasked
    table = fields["children"]
    assert table["rows"], table
    for i, cells in enumerate(table["rows"]):
        for key, cell in cells.items():
            _check_field(f"children.{i + 1}.{key}", cell)
            assert "rows" not in cell
            assert record["children"][i][key] == cell["value"]
    assert "rows" not in fields["my_number"]


def test_extract_json_and_csv(scan_set):
    folder, lines = scan_set
    f = folder / lines[0]["file"]
    res = runner.invoke(app, ["ocr", "extract", str(f), "--template", str(FORMS / "genkyo_todoke.yaml"), "--json"])
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert rows and rows[0]["template"] == "genkyo_todoke" and "my_number" in rows[0]["record"]
    res = runner.invoke(app, ["ocr", "extract", str(f), "--template", str(FORMS / "genkyo_todoke.yaml"), "--csv"])
    assert res.exit_code == 0 and "recipient_number" in res.stdout.splitlines()[0]


def test_extract_bad_file_exits_nonzero_with_reason(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    res = runner.invoke(app, ["ocr", "extract", str(bad)])
    assert res.exit_code == 1 and "壊れて" in res.output


def test_extract_refuses_without_a_model_and_reads_nothing(monkeypatch, tmp_path, clean_scan):
    import ocr

    monkeypatch.setenv("KYODO_MODEL_DIR", str(tmp_path / "empty"))  # no jpn_full there
    read: list[Path] = []
    monkeypatch.setattr(ocr, "read_document", lambda path, *a, **k: read.append(path))
    res = runner.invoke(app, ["ocr", "extract", str(clean_scan), "--json"])
    assert res.exit_code == 2, res.output
    assert "jpn_full model missing" in res.stderr and "kyodo ocr models --install" in res.stderr
    assert "make setup" in res.stderr and "--allow-missing-models" in res.stderr
    assert read == [] and res.stdout == ""


def test_extract_allow_missing_models_reads_with_a_warning(monkeypatch, tmp_path, clean_scan):
    monkeypatch.setenv("KYODO_MODEL_DIR", str(tmp_path / "empty"))
    res = runner.invoke(app, ["ocr", "extract", str(clean_scan), "--json", "--allow-missing-models"])
    assert res.exit_code == 0, res.output
    assert "warning" in res.stderr and "jpn_full model missing" in res.stderr
    (row,) = _json_rows(res.stdout)
    assert len(row["warnings"]) == 1 and row["warnings"][0].startswith("jpn_full model missing: ")
    assert "kyodo ocr models --install" in row["warnings"][0] and row["record"]


def test_form_check_prints_rates(tmp_path):
    from ocr.generate import generate_set
    truth = generate_set(tmp_path, 2, seed=21, degrade=False)
    res = runner.invoke(app, ["form", "check", str(FORMS / "genkyo_todoke.yaml"), "--samples", str(tmp_path), "--truth", str(truth)])
    assert res.exit_code == 0, res.output
    assert "silent error rate" in res.output and "review rate" in res.output and "recipient_number" in res.output


def test_form_new_proposes_labels_from_blank_form(tmp_path):
    out = tmp_path / "new.yaml"
    res = runner.invoke(app, ["form", "new", "--blank", str(FORMS / "blank_variant_b.png"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    from ocr.templates import load_template
    tpl = load_template(out)
    labels = {f.label: f.type.value for f in tpl.fields}
    assert labels.get("マイナンバー") == "my_number" and labels.get("郵便番号") == "postal_code"
    assert labels.get("請求者氏名") == "text" and labels.get("加入年金") == "choice"
