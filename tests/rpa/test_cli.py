"""``kyodo scenario …`` and ``kyodo sandbox`` through the real CLI app."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from automation.cli import app
from automation.sandbox.samples import sample_records
from tenants.settings import reset_settings_cache

runner = CliRunner()
NAME = "child_allowance_status_report"


def invoke(*args: str):  # noqa: ANN201
    return runner.invoke(app, list(args), env={"COLUMNS": "200"})


def test_validate_show_and_diff() -> None:
    r = invoke("scenario", "validate", NAME, "--tenant", "obuse-machi")
    assert r.exit_code == 0, r.output
    assert "override of obuse-machi ok" in r.output
    r = invoke("scenario", "diff", NAME, "--tenant", "obuse-machi")
    assert r.exit_code == 0
    assert "~ target my_number_input: label:個人番号  ->  label:マイナンバー" in r.output
    assert "- step open_search_page" in r.output and "+ step check_consent" in r.output
    assert "[data-status=submitted]" in r.output  # selectors are not eaten as markup
    r = invoke("scenario", "diff", NAME, "--tenant", "nagano-shi")
    assert "runs the shared scenario unchanged" in r.output
    r = invoke("scenario", "show", NAME, "--tenant", "obuse-machi", "--json")
    data = json.loads(r.output)
    origin = {t["target"]: t["from"] for t in data["targets"]}
    assert origin["my_number_input"] == "tenant obuse-machi" and origin["address_input"] == "scenario"
    assert "open_search_page" in data["skipped_steps"]


def test_validate_reports_a_broken_file_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text("name: broken\nsteps:\n  - {id: a, fill: nothing, value: '${record.x}'}\n",
                                            encoding="utf-8")
    r = invoke("scenario", "validate", str(tmp_path / "scenario.yaml"))
    assert r.exit_code == 2
    assert "step #1 'a' (fill): field 'fill': unknown target 'nothing'" in r.output
    assert "unknown variable ${record.x}" in r.output


def test_dry_run_from_a_jsonl_file(tmp_path: Path) -> None:
    f = tmp_path / "truth.jsonl"
    f.write_text("\n".join(json.dumps({"file": f"s{i}.png", "variant": "a", "record": r}, ensure_ascii=False)
                           for i, r in enumerate(sample_records(2))), encoding="utf-8")
    r = invoke("scenario", "run", NAME, "--tenant", "nagano-shi", "--input", str(f), "--dry-run")
    assert r.exit_code == 0, r.output
    assert r.output.count("dry_run") >= 2


def test_convert_prints_steps() -> None:
    r = invoke("scenario", "convert", str(Path(__file__).parent / "data" / "codegen_variant_a.py"), "--name", "rec")
    assert r.exit_code == 0 and "label:受給者番号" in r.output


def test_record_without_display_explains_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    r = invoke("scenario", "record", "http://127.0.0.1:1/")
    assert r.exit_code == 2 and "kyodo scenario convert" in r.output


@pytest.mark.browser
def test_new_scaffold_validates_and_runs_against_the_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KYODO_SCENARIOS_DIR", str(tmp_path))
    reset_settings_cache()
    try:
        r = invoke("scenario", "new", "my_check")
        assert r.exit_code == 0, r.output
        assert (tmp_path / "my_check" / "scenario.yaml").is_file()
        assert invoke("scenario", "new", "my_check").exit_code == 2  # never overwrites
        r = invoke("scenario", "run", "my_check", "--sandbox", "a", "--artifacts", str(tmp_path / "art"))
        assert r.exit_code == 0, r.output
        assert r.output.count("entered") >= 3 and "未提出" in r.output
        assert len(list((tmp_path / "art").glob("*-recipient.png"))) == 3
    finally:
        reset_settings_cache()


@pytest.mark.browser
def test_validate_live_checks_targets_on_the_running_page() -> None:
    from automation.sandbox import start_sandbox

    with start_sandbox("b") as sb:
        r = invoke("scenario", "validate", NAME, "--tenant", "obuse-machi", "--live", sb.url + "auth/signin")
    assert r.exit_code == 0, r.output
    line = next(ln for ln in r.output.splitlines() if " username_input " in ln)
    assert "label:ログインID" in line and "│ 1" in line
