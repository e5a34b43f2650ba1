"""The codegen converter on recorded sample scripts (tests/rpa/data)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from automation.rpa import load_scenario_file
from automation.rpa.codegen import convert

DATA = Path(__file__).parent / "data"


def test_recording_of_variant_a_becomes_ordered_steps_with_named_targets(tmp_path: Path) -> None:
    conv = convert((DATA / "codegen_variant_a.py").read_text(encoding="utf-8"))
    actions = [next(k for k in s if k != "id") for s in conv.steps]
    assert actions == ["goto", "click", "fill", "fill", "click", "click", "fill", "press", "wait_for", "click",
                       "select", "check", "expect_text"]
    assert conv.targets["page"] == "/login"
    assert conv.steps[6] == {"id": "step_07", "fill": "field_3", "value": "1000001"}
    assert conv.targets["field_3"] == "label:受給者番号"
    assert conv.targets["link"] == "role:link:受給者検索"
    assert conv.steps[3]["value"] == "${secret:password}"  # the recorded password is not kept
    assert {"id": "step_11", "select": "child1_relation", "value": "長男"} in conv.steps
    assert any("get_by_role(\"row\"" in s for s in conv.skipped)  # not understood: reported, not dropped
    # the result is a loadable scenario
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(conv.scenario("recorded_a"), allow_unicode=True), encoding="utf-8")
    sc = load_scenario_file(tmp_path / "scenario.yaml")
    assert len(sc.steps) == 13


def test_recording_of_variant_b_keeps_nth_and_uncheck() -> None:
    conv = convert((DATA / "codegen_variant_b.py").read_text(encoding="utf-8"))
    assert conv.targets["page"] == "/auth/signin?next=/top"
    checks = [s for s in conv.steps if "check" in s]
    assert [conv.targets[s["check"]] for s in checks] == ['input[name="nenkin"] >> nth=1', "label:個人情報の取扱いに同意する"]
    assert [s["value"] for s in checks] == [True, False]
    assert any("wait_for_timeout" in s for s in conv.skipped)


def test_not_python_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"not Python \(line 1\)"):
        convert("page.goto(")
