"""Authoring a municipality's layout: `kyodo form new --blank B --from T` binds the shared template
to that municipality's blank form, names what it found and what it did not, and draws the regions."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml
from PIL import Image
from typer.testing import CliRunner

from automation.cli import app
from tests.formgen import family_layout, render_blank, split_families
from tests.ocr.conftest import FORMS

runner = CliRunner()
SHARED = FORMS / "genkyo_todoke.yaml"


def _blank(tmp_path: Path, identity: str) -> Path:
    fid = next(f for f in split_families("tuning") if family_layout(f).arrangement["identity"] == identity)
    path = tmp_path / f"blank-{fid}.png"
    render_blank(fid).save(path, dpi=(300, 300))
    return path


def test_the_shared_template_binds_to_a_blank_and_draws_every_region(tmp_path: Path):
    blank, png = _blank(tmp_path, "label_above"), tmp_path / "bound.png"
    r = runner.invoke(app, ["form", "new", "--blank", str(blank), "--from", str(SHARED), "--png", str(png)])
    assert r.exit_code == 0, r.output
    assert "NOT FOUND" not in r.output and "recipient_name" in r.output
    with Image.open(png) as im:
        assert im.size == (2480, 3508)
        # The value regions are drawn in blue: the sheet is no longer the plain grey blank.
        rgb = np.asarray(im.convert("RGB"))
        assert ((rgb[..., 2] > 150) & (rgb[..., 0] < 80)).any()


def test_a_label_the_template_lacks_is_named_with_what_to_do(tmp_path: Path):
    """A municipality prints a label the shared template has no synonym for: the field is reported
    NOT FOUND with the fix, the command fails, and adding the synonym makes it pass."""
    blank = _blank(tmp_path, "label_left")
    tpl = yaml.safe_load(SHARED.read_text(encoding="utf-8"))
    phone = next(f for f in tpl["fields"] if f["name"] == "phone")
    printed = family_layout(int(blank.stem.split("-")[1])).labels["phone"]
    phone["locator"]["labels"] = ["電話"] if printed != "電話" else ["連絡先"]
    if printed in ("電話番号", "連絡先電話番号"):
        phone["locator"]["labels"] = ["携帯番号"]
    narrowed = tmp_path / "narrowed.yaml"
    narrowed.write_text(yaml.safe_dump(tpl, allow_unicode=True), encoding="utf-8")
    r = runner.invoke(app, ["form", "new", "--blank", str(blank), "--from", str(narrowed)])
    assert r.exit_code == 1 and _row(r.output, "phone").count("NOT FOUND") == 1 and "phone: add the label" in r.output
    phone["locator"]["labels"].append(printed)
    narrowed.write_text(yaml.safe_dump(tpl, allow_unicode=True), encoding="utf-8")
    r = runner.invoke(app, ["form", "new", "--blank", str(blank), "--from", str(narrowed)])
    assert "NOT FOUND" not in _row(r.output, "phone") and "phone: add the label" not in r.output, r.output


def _row(output: str, field: str) -> str:
    return next(line for line in output.splitlines() if line.strip("│ ").startswith(field + " "))
