"""A shared scenario plus one municipality's override = the effective scenario.

The override (``[scenarios.<name>]`` in the tenant file, ``tenants.config.ScenarioOverride``)
may replace named targets, map scenario fields to other record fields, skip steps by id
and add steps before/after a step id (``{after = "step_id", fill = "target", value = ...}``).
Everything it names must exist (a typo is an error, not a silent no-op), and every
value remembers where it came from, for ``kyodo scenario show`` and ``diff``.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from tenants.config import ScenarioOverride, TenantConfig

from .model import (ForEach, If, Scenario, ScenarioError, ScenarioProblem, StepBase, check_references, parse_steps,
                    walk)

SCENARIO_ORIGIN = "scenario"
_TARGET_KEYS = ("fill", "select", "check", "click", "press", "expect_text", "extract", "wait_for", "message_from")


@dataclass
class EffectiveScenario:
    scenario: Scenario
    tenant_id: str | None
    origins: dict[str, str] = field(default_factory=dict)  # "targets.x" / "steps.id" / "field_map.x" / "params.x" -> source
    field_map: dict[str, str] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    system: str | None = None


def _remove(steps: list[StepBase], ids: set[str]) -> list[StepBase]:
    out = []
    for s in steps:
        if s.id in ids:
            continue
        if isinstance(s, If):
            s.then = _remove(s.then, ids)
            s.else_ = _remove(s.else_, ids)
        elif isinstance(s, ForEach):
            s.steps = _remove(s.steps, ids)
        out.append(s)
    return out


def _insert(steps: list[StepBase], anchor: str, new: StepBase, before: bool) -> bool:
    for i, s in enumerate(steps):
        if s.id == anchor:
            steps.insert(i if before else i + 1, new)
            return True
        for attr in ("then", "else_", "steps"):
            inner = getattr(s, attr, None)
            if isinstance(inner, list) and _insert(inner, anchor, new, before):
                return True
    return False


def apply_override(base: Scenario, tenant: TenantConfig | None, *, source: str | None = None) -> EffectiveScenario:
    """Return the effective scenario for *tenant*; raise ScenarioError naming the bad override key."""
    sc = base.model_copy(deep=True)
    sc.subs = copy.deepcopy(base.subs)
    sc.folder = base.folder
    origins = {f"targets.{k}": SCENARIO_ORIGIN for k in sc.targets}
    origins.update({f"params.{k}": SCENARIO_ORIGIN for k in sc.params})
    for s in walk(sc.steps):
        if s.id:
            origins[f"steps.{s.id}"] = SCENARIO_ORIGIN
    for steps in sc.subs.values():
        for s in walk(steps):
            if s.id:
                origins[f"steps.{s.id}"] = f"{SCENARIO_ORIGIN} (sub)"
    eff = EffectiveScenario(scenario=sc, tenant_id=tenant.id if tenant else None, origins=origins, system=sc.system)
    ov: ScenarioOverride | None = tenant.scenarios.get(sc.name) if tenant else None
    if ov is None:
        return eff
    src = source or f"tenant {tenant.id}"  # type: ignore[union-attr]
    file = f"tenants/{tenant.id}.toml [scenarios.{sc.name}]"  # type: ignore[union-attr]
    problems: list[ScenarioProblem] = []
    if ov.system:
        eff.system = ov.system
    # A tenant may add a target only for its own added steps (vendor B's consent box);
    # any other unknown name is a typo and an error.
    used_by_added = {str(v) for raw in ov.add_steps for k, v in raw.items() if k in _TARGET_KEYS}
    for name, value in ov.targets.items():
        if name not in sc.targets and name in used_by_added:
            sc.targets[name] = value
            origins[f"targets.{name}"] = f"added by {src}"
            continue
        if name not in sc.targets:
            problems.append(ScenarioProblem(file=file, field=f"targets.{name}",
                                            message=f"the scenario has no target '{name}' (known: {', '.join(sorted(sc.targets))})"))
            continue
        sc.targets[name] = value
        origins[f"targets.{name}"] = src
    for name, rec_field in ov.field_map.items():
        if name not in sc.input.fields:
            problems.append(ScenarioProblem(file=file, field=f"field_map.{name}",
                                            message=f"'{name}' is not an input field of the scenario (known: {', '.join(sc.input.fields)})"))
            continue
        eff.field_map[name] = rec_field
        origins[f"field_map.{name}"] = src
    for name, value in ov.params.items():
        if name not in sc.params:
            problems.append(ScenarioProblem(file=file, field=f"params.{name}",
                                            message=f"the scenario has no param '{name}' (known: {', '.join(sc.params) or 'none'})"))
            continue
        sc.params[name] = value
        origins[f"params.{name}"] = src
    known_ids = {s.id for s in walk(sc.steps) if s.id} | {s.id for st in sc.subs.values() for s in walk(st) if s.id}
    skip = set()
    for sid in ov.skip_steps:
        if sid not in known_ids:
            problems.append(ScenarioProblem(file=file, field="skip_steps", message=f"no step with id '{sid}' (ids: {', '.join(sorted(known_ids))})"))
        skip.add(sid)
    sc.steps = _remove(sc.steps, skip)
    for name in list(sc.subs):
        sc.subs[name] = _remove(sc.subs[name], skip)
    for sid in skip & known_ids:
        origins[f"steps.{sid}"] = f"skipped by {src}"
        eff.skipped.append(sid)
    for i, raw in enumerate(ov.add_steps):
        raw = dict(raw)
        after, before = raw.pop("after", None), raw.pop("before", None)
        label = f"add_steps[{i}]"
        if (after is None) == (before is None):
            problems.append(ScenarioProblem(file=file, field=label, message="needs exactly one of after = \"step_id\" or before = \"step_id\""))
            continue
        if not raw.get("id"):
            problems.append(ScenarioProblem(file=file, field=label, message="an added step needs an id (so it can be shown, diffed and skipped)"))
            continue
        parsed = parse_steps([raw], file, problems, where=label)
        if not parsed:
            continue
        anchor = after or before
        placed = _insert(sc.steps, anchor, parsed[0], before is not None) or any(
            _insert(st, anchor, parsed[0], before is not None) for st in sc.subs.values())
        if not placed:
            problems.append(ScenarioProblem(file=file, field=f"{label}.{'after' if after else 'before'}",
                                            message=f"no step with id '{anchor}' to anchor to"))
            continue
        origins[f"steps.{parsed[0].id}"] = f"added by {src} ({'after' if after else 'before'} {anchor})"
        eff.added.append(parsed[0].id or "")
    if not problems:
        problems = [p.model_copy(update={"file": f"{p.file} (with {src})"}) for p in check_references(sc, str(sc.folder or sc.name))]
    if problems:
        raise ScenarioError(problems)
    return eff


def target_rows(eff: EffectiveScenario, base: Scenario) -> list[dict[str, Any]]:
    return [{"target": k, "value": v, "from": eff.origins.get(f"targets.{k}", SCENARIO_ORIGIN),
             "shared": base.targets.get(k)} for k, v in sorted(eff.scenario.targets.items())]
