"""The CLI commands on a generated set: extract (JSON/CSV), form check, form new."""
from __future__ import annotations

import json

from typer.testing import CliRunner

from automation.cli import app
from tests.ocr.conftest import FORMS

runner = CliRunner()


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
