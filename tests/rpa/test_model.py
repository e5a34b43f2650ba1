"""Scenario files, templates and tenant overrides (no browser)."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from automation.rpa import ScenarioError, apply_override, load_scenario, load_scenario_file
from automation.rpa.model import Fill, ForEach, walk
from automation.rpa.templating import Context, TemplateError, render
from tenants.config import TenantConfig

from .conftest import PROJECT, tenant_for

NAME = "child_allowance_status_report"
SHARED = PROJECT / "scenarios" / NAME


def write_copy(tmp_path: Path, edit) -> Path:  # noqa: ANN001
    """A copy of the shared scenario with one edit applied to its YAML data."""
    data = yaml.safe_load((SHARED / "scenario.yaml").read_text(encoding="utf-8"))
    edit(data)
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (tmp_path / "login.yaml").write_text((SHARED / "login.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path / "scenario.yaml"


def test_shared_scenario_is_valid_with_both_tenants() -> None:
    sc = load_scenario(NAME, PROJECT / "scenarios")
    assert sc.session.login == "login" and "login" in sc.subs
    for v in ("a", "b"):
        eff = apply_override(sc, tenant_for(v, "http://127.0.0.1:1/"))
        assert eff.scenario.name == NAME


def test_unknown_variable_names_step_index_id_and_field(tmp_path: Path) -> None:
    def edit(d):  # noqa: ANN001
        d["steps"][1]["value"] = "${record.recipent_number}"  # typo
    with pytest.raises(ScenarioError) as e:
        load_scenario_file(write_copy(tmp_path, edit))
    (p,) = e.value.problems
    assert p.step == "step #2 'enter_recipient_number' (fill)" and p.field == "value"
    assert "'recipent_number' is not a declared input field; did you mean 'recipient_number'?" in p.message
    assert "scenario.yaml: step #2 'enter_recipient_number' (fill): field 'value'" in str(e.value)


def test_schema_problems_are_all_reported_with_nested_positions(tmp_path: Path) -> None:
    def edit(d):  # noqa: ANN001
        children = next(s for s in d["steps"] if s.get("id") == "children")
        children["steps"][0]["fil"] = children["steps"][0].pop("fill")  # misspelt action
        d["steps"].append({"id": "x", "click": "to_confirm_button", "timeout_ms": -1})
    with pytest.raises(ScenarioError) as e:
        load_scenario_file(write_copy(tmp_path, edit))
    text = str(e.value)
    assert len(e.value.problems) == 2
    assert "step #16 'children' (for_each) steps > #1 'fill_child_name'" in text and "exactly one action" in text
    assert "step #28 'x' (click): field 'timeout_ms': Input should be greater than 0" in text


def test_reference_problems_are_all_reported(tmp_path: Path) -> None:
    def edit(d):  # noqa: ANN001
        children = next(s for s in d["steps"] if s.get("id") == "children")
        children["steps"][1]["value"] = "${row.birthday}"        # not a row field
        d["steps"][0]["else"][0]["goto"] = "no_such_page"         # unknown target, nested
        d["steps"][2]["click"] = "search_buton"
    with pytest.raises(ScenarioError) as e:
        load_scenario_file(write_copy(tmp_path, edit))
    text = str(e.value)
    assert len(e.value.problems) == 3
    assert "> #2 'fill_child_birth_date' (fill): field 'value': unknown variable ${row.birthday}: rows have name, birth_date" in text
    assert "step #1 'open_search' (if) else > #1 'open_home' (goto): field 'goto': unknown target 'no_such_page'" in text
    assert "step #3 'search' (click): field 'click': unknown target 'search_buton'" in text


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    (tmp_path / "scenario.yaml").write_text("name: x\nsteps:\n  - {id: a, goto: /\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"YAML syntax error: line \d+"):
        load_scenario_file(tmp_path / "scenario.yaml")


def test_loop_variable_outside_for_each_is_an_error(tmp_path: Path) -> None:
    def edit(d):  # noqa: ANN001
        d["steps"].insert(1, {"id": "early", "fill": "child_name_input", "value": "x"})
    with pytest.raises(ScenarioError, match=r"step #2 'early' \(fill\): field 'fill': target 'child_name_input': \$\{loop.index\} is only valid inside for_each"):
        load_scenario_file(write_copy(tmp_path, edit))


def test_override_changes_only_what_it_names() -> None:
    base = load_scenario(NAME, PROJECT / "scenarios")
    tenant = TenantConfig.model_validate({
        "id": "test-town", "display_name": "テスト町",
        "systems": {"jidou_teate": {"base_url": "http://127.0.0.1:1/", "username": "u"}},
        "scenarios": {NAME: {"targets": {"search_button": "#go"}, "skip_steps": ["open_search_page"],
                             "field_map": {"phone": "tel"},
                             "add_steps": [{"id": "shot", "after": "search", "screenshot": "after_search"}]}}})
    eff = apply_override(base, tenant)
    changed = {k for k in base.targets if base.targets[k] != eff.scenario.targets[k]}
    assert changed == {"search_button"} and set(eff.scenario.targets) == set(base.targets)
    ids = [s.id for s in walk(eff.scenario.steps)]
    base_ids = [s.id for s in walk(base.steps)]
    kept = [i for i in base_ids if i != "open_search_page"]
    at = kept.index("search") + 1
    assert ids == kept[:at] + ["shot"] + kept[at:]
    assert eff.field_map == {"phone": "tel"}
    assert eff.origins["targets.search_button"] == "tenant test-town"
    assert eff.origins["targets.search_input"] == "scenario"
    assert eff.origins["steps.shot"].startswith("added by tenant test-town (after search)")
    # the shared scenario object itself is untouched
    assert base.targets["search_button"] == "#search-button" and "open_search_page" in base_ids


def test_override_typos_are_errors_naming_the_key() -> None:
    base = load_scenario(NAME, PROJECT / "scenarios")
    tenant = TenantConfig.model_validate({
        "id": "typo-town", "display_name": "誤字町",
        "systems": {"jidou_teate": {"base_url": "http://127.0.0.1:1/"}},
        "scenarios": {NAME: {"targets": {"serch_button": "#go"}, "skip_steps": ["nope"],
                             "add_steps": [{"id": "z", "after": "missing_anchor", "click": "search_button"}]}}})
    with pytest.raises(ScenarioError) as e:
        apply_override(base, tenant)
    text = str(e.value)
    assert "tenants/typo-town.toml [scenarios.child_allowance_status_report]: field 'targets.serch_button'" in text
    assert "no step with id 'nope'" in text and "no step with id 'missing_anchor'" in text


def test_variant_b_override_from_the_tenant_file() -> None:
    base = load_scenario(NAME, PROJECT / "scenarios")
    eff = apply_override(base, tenant_for("b", "http://127.0.0.1:1/"))
    assert eff.skipped == ["open_search_page", "select_child_relation", "select_pension_type"] or \
        set(eff.skipped) == {"open_search_page", "select_child_relation", "select_pension_type"}
    assert set(eff.added) == {"fill_child_relation", "check_pension_type", "check_consent"}
    children = next(s for s in eff.scenario.steps if s.id == "children")
    assert isinstance(children, ForEach)
    assert [s.id for s in children.steps] == ["fill_child_name", "fill_child_birth_date", "fill_child_relation",
                                              "check_child_lives_together"]
    assert eff.scenario.targets["my_number_input"] == "label:マイナンバー"


def test_templates_keep_types_and_resolve_field_map_and_secrets() -> None:
    seen = []
    ctx = Context(record={"tel": "026-000-0000", "ok": True, "kids": [1]}, field_map={"phone": "tel"},
                  tenant={"display_name": "長野市"}, targets={"t": "#c${loop.index}"},
                  secret=lambda n: seen.append(n) or "pw")
    ctx.loop = {"index": 2, "index0": 1}
    assert render("${record.phone}", ctx) == "026-000-0000"
    assert render("${record.ok}", ctx) is True and render("${record.kids}", ctx) == [1]
    assert render("${tenant.display_name}長 ${secret:jidou_teate_password}", ctx) == "長野市長 pw"
    assert render("${target.t}", ctx) == "#c2" and render("$${literal}", ctx) == "${literal}"
    assert seen == ["jidou_teate_password"]
    with pytest.raises(TemplateError, match="the record has no field 'missing'"):
        render("${record.missing}", ctx)
