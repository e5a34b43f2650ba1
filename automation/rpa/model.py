"""The scenario file format (``scenarios/<name>/scenario.yaml``) and its validation.

A step is a mapping with exactly one action key (``fill: search_input``) plus that
action's options and the common ``id``, ``timeout_ms``, ``description``. Validation
happens in two passes, both reporting *every* problem with the step's position and id:
the schema (pydantic) and the references (targets, ``${...}`` variables, sub-scenarios),
so an unknown variable is an error when the file is loaded, not in the middle of a run.
"""
from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .templating import LOOP_KEYS, SYSTEM_KEYS, TENANT_KEYS, TemplateError, parse_ref, refs

STEP_ID_RE = r"^[a-z][a-z0-9_]{0,63}$"


class ScenarioProblem(BaseModel):
    file: str
    step: str = ""  # e.g. "step #4 'search_number'" or "step #12 'children' > #2 'child_birth'"
    field: str = ""
    message: str

    def __str__(self) -> str:
        where = ": ".join(p for p in (self.file, self.step, f"field '{self.field}'" if self.field else "") if p)
        return f"{where}: {self.message}"


class ScenarioError(Exception):
    """A scenario (or a tenant's override of it) is invalid; ``problems`` lists every mistake."""

    def __init__(self, problems: list[ScenarioProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Condition(_Strict):
    """Exactly one of: ``exists``/``missing`` (a target is / is not on the page now),
    ``target`` + ``contains`` (its text contains), ``value`` (a template is truthy),
    ``equals: [a, b]``."""

    exists: str | None = None
    missing: str | None = None
    target: str | None = None
    contains: str | None = None
    value: str | None = None
    equals: list[str] | None = Field(default=None, min_length=2, max_length=2)

    @model_validator(mode="after")
    def _one(self) -> "Condition":
        kinds = [k for k in ("exists", "missing", "target", "value", "equals") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("a condition needs exactly one of exists, missing, target+contains, value, equals"
                             f" (got {', '.join(kinds) or 'none'})")
        if self.target is not None and self.contains is None:
            raise ValueError("'target' needs 'contains'")
        return self


class StepBase(_Strict):
    id: str | None = Field(default=None, pattern=STEP_ID_RE)
    description: str | None = None
    timeout_ms: int | None = Field(default=None, gt=0, le=600_000)


class Goto(StepBase):
    goto: str = Field(description="a URL target (relative to the system's base_url) or a URL template")


class Fill(StepBase):
    fill: str
    value: str


class Select(StepBase):
    select: str
    value: str


class Check(StepBase):
    check: str
    value: str | bool = True


class Click(StepBase):
    click: str


class Press(StepBase):
    press: str
    key: str


class WaitFor(StepBase):
    wait_for: str | None = None
    any_of: list[str] | None = Field(default=None, min_length=1)
    state: Literal["visible", "hidden", "attached", "detached"] = "visible"

    @model_validator(mode="after")
    def _one(self) -> "WaitFor":
        if (self.wait_for is None) == (self.any_of is None):
            raise ValueError("wait_for needs a target, or 'wait_for:' empty with 'any_of: [targets]'")
        return self


class ExpectText(StepBase):
    expect_text: str
    text: str


class Extract(StepBase):
    extract: str
    into: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    attribute: str | None = None


class Screenshot(StepBase):
    screenshot: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")


class Fail(StepBase):
    fail: Literal["business", "application", "fatal"] = "business"
    message: str = ""
    message_from: str | None = Field(default=None, description="target whose text is the message (the system's own words)")


class Guard(StepBase):
    """Stop this record as ``skipped_already_entered`` when the condition holds."""

    guard: Condition
    message: str = "既に入力済みです"


class If(StepBase):
    if_: Condition = Field(alias="if")
    then: list["Step"] = Field(default_factory=list)
    else_: list["Step"] = Field(default_factory=list, alias="else")


class ForEach(StepBase):
    for_each: str = Field(description="${record.children}-style list, or a table target with 'columns'")
    as_: str = Field(default="row", alias="as", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    columns: list[str] | None = Field(default=None, description="table rows: cell names, in order")
    steps: list["Step"] = Field(default_factory=list)


class Call(StepBase):
    call: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="sub-scenario file <name>.yaml beside scenario.yaml")


Step = Union[Goto, Fill, Select, Check, Click, Press, WaitFor, ExpectText, Extract, Screenshot, Fail, Guard, If, ForEach, Call]
STEP_TYPES: dict[str, type[StepBase]] = {
    "goto": Goto, "fill": Fill, "select": Select, "check": Check, "click": Click, "press": Press,
    "wait_for": WaitFor, "expect_text": ExpectText, "extract": Extract, "screenshot": Screenshot, "fail": Fail,
    "guard": Guard, "if": If, "for_each": ForEach, "call": Call,
}
# Which field of each action names a target (the rest are templates).
TARGET_FIELDS = {"fill": "fill", "select": "select", "check": "check", "click": "click", "press": "press",
                 "expect_text": "expect_text", "extract": "extract"}


def action_of(step: StepBase) -> str:
    return next(k for k, t in STEP_TYPES.items() if type(step) is t)


class InputField(_Strict):
    type: Literal["str", "bool", "list", "int"] = "str"
    required: bool = False
    fields: list[str] = Field(default_factory=list, description="for type=list: the row fields")
    sensitive: bool = Field(default=False, description="personal data: never in messages (My Number)")
    description: str | None = None


class InputSpec(_Strict):
    key: str | None = Field(default=None, description="field that identifies a record in messages")
    fields: dict[str, InputField] = Field(default_factory=dict)


class SessionSpec(_Strict):
    login: str | None = Field(default=None, description="sub-scenario that logs in")
    detect: str | None = Field(default=None, description="target that is on the page only when logged out")


class RecordPolicy(_Strict):
    max_attempts: int = Field(default=3, ge=1, le=10, description="application errors are retried this often")
    backoff_s: float = Field(default=0.5, ge=0, le=60)
    max_relogins: int = Field(default=2, ge=0, le=10)


class Scenario(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")
    version: str = "0.1.0"
    description: str = ""
    system: str | None = Field(default=None, description="key of the tenant's [systems] it runs against")
    input: InputSpec = Field(default_factory=InputSpec)
    params: dict[str, Any] = Field(default_factory=dict)
    targets: dict[str, str] = Field(default_factory=dict)
    session: SessionSpec = Field(default_factory=SessionSpec)
    record: RecordPolicy = Field(default_factory=RecordPolicy)
    timeout_ms: int = Field(default=10_000, gt=0, le=600_000)
    input_method: Literal["batch", "step"] = Field(
        default="batch", description="batch: consecutive fill/select/check steps set in one round trip "
        "(see automation/rpa/batchinput.py); step: one Playwright call each (always so with --slow-mo)")
    steps: list[Step] = Field(default_factory=list)
    # Sub-scenarios (``call``), loaded from files beside scenario.yaml; not written in the file itself.
    subs: dict[str, list[Step]] = Field(default_factory=dict, exclude=True)
    folder: Path | None = Field(default=None, exclude=True)


# -- schema pass -------------------------------------------------------------------
def _label(index: int, raw: Any) -> str:
    sid = raw.get("id") if isinstance(raw, dict) else None
    return f"#{index + 1}" + (f" '{sid}'" if sid else "")


def parse_steps(raw_steps: Any, file: str, problems: list[ScenarioProblem], where: str = "") -> list[StepBase]:
    """Parse a list of raw step mappings, collecting one problem per mistake."""
    if raw_steps is None:
        return []
    if not isinstance(raw_steps, list):
        problems.append(ScenarioProblem(file=file, step=where, field="steps", message="must be a list of steps"))
        return []
    out: list[StepBase] = []
    for i, raw in enumerate(raw_steps):
        label = f"{where} > {_label(i, raw)}" if where else f"step {_label(i, raw)}"
        if not isinstance(raw, dict):
            problems.append(ScenarioProblem(file=file, step=label, message=f"a step must be a mapping like 'click: target', got {raw!r}"))
            continue
        actions = [k for k in raw if k in STEP_TYPES]
        if len(actions) != 1:
            problems.append(ScenarioProblem(
                file=file, step=label,
                message=(f"a step needs exactly one action ({', '.join(STEP_TYPES)}), got "
                         f"{', '.join(actions) if actions else 'none'}" + (f"; keys: {', '.join(map(str, raw))}" if not actions else ""))))
            continue
        action = actions[0]
        data = dict(raw)
        nested_ok = True
        for key in ("then", "else", "steps"):
            if key in data and action in ("if", "for_each"):
                sub = parse_steps(data[key], file, problems, f"{label} ({action}) {key}")
                if len(problems) and any(p.step.startswith(f"{label} ({action}) {key}") for p in problems):
                    nested_ok = False
                data[key] = []
                data[f"__{key}"] = sub
        parsed_nested = {k[2:]: data.pop(k) for k in list(data) if k.startswith("__")}
        if action == "wait_for" and data.get("wait_for") is None and "any_of" in data:
            data["wait_for"] = None
        try:
            step = STEP_TYPES[action].model_validate(data)
        except ValidationError as e:
            for err in e.errors():
                loc = ".".join(str(x) for x in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                if err["type"] == "extra_forbidden":
                    msg = f"unknown option for '{action}' (known: {', '.join(f for f in STEP_TYPES[action].model_fields if not f.endswith('_') )})"
                problems.append(ScenarioProblem(file=file, step=f"{label} ({action})", field=loc or action, message=msg))
            continue
        for key, sub in parsed_nested.items():
            attr = {"then": "then", "else": "else_", "steps": "steps"}[key]
            setattr(step, attr, sub)
        if nested_ok:
            out.append(step)
        else:
            out.append(step)
    return out


def _yaml(path: Path, problems: list[ScenarioProblem]) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        problems.append(ScenarioProblem(file=str(path), message=f"not UTF-8 text (byte {e.start}); save the file as UTF-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problems.append(ScenarioProblem(file=str(path), message=f"YAML syntax error: {line}{getattr(e, 'problem', None) or e}"))
    except OSError as e:
        problems.append(ScenarioProblem(file=str(path), message=f"cannot read: {e.strerror}"))
    return None


def parse_scenario(data: Any, file: str, problems: list[ScenarioProblem]) -> Scenario | None:
    if not isinstance(data, dict):
        problems.append(ScenarioProblem(file=file, message="the file must be a mapping with name, input, targets and steps"))
        return None
    data = dict(data)
    steps = parse_steps(data.pop("steps", []), file, problems)
    try:
        sc = Scenario.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = (f"unknown setting '{err['loc'][-1]}'" + (f" (known: {', '.join(f for f in Scenario.model_fields if f not in ('subs', 'folder'))})"
                       if len(err['loc']) == 1 else ""))
            problems.append(ScenarioProblem(file=file, field=".".join(str(x) for x in err["loc"]), message=msg))
        return None
    sc.steps = steps
    return sc


def load_scenario_file(path: Path) -> Scenario:
    """Load ``scenario.yaml`` (or a folder holding one) with its sub-scenarios; raise ScenarioError."""
    path = Path(path)
    if path.is_dir():
        path = path / "scenario.yaml"
    problems: list[ScenarioProblem] = []
    if not path.is_file():
        raise ScenarioError([ScenarioProblem(file=str(path), message="no such scenario file")])
    sc = parse_scenario(_yaml(path, problems), str(path), problems)
    if sc is not None:
        sc.folder = path.parent
        for name in sorted(called_subs(sc.steps)):
            sub_path = path.parent / f"{name}.yaml"
            if not sub_path.is_file():
                continue  # reported by the reference pass with the calling step
            load_sub(sc, name, sub_path, problems)
        if sc.session.login and sc.session.login not in sc.subs:
            sub_path = path.parent / f"{sc.session.login}.yaml"
            if sub_path.is_file():
                load_sub(sc, sc.session.login, sub_path, problems)
            else:
                problems.append(ScenarioProblem(file=str(path), field="session.login",
                                                message=f"no sub-scenario file {sub_path.name} beside scenario.yaml"))
    if problems:
        raise ScenarioError(problems)
    assert sc is not None
    problems.extend(check_references(sc, str(path)))
    if problems:
        raise ScenarioError(problems)
    return sc


def load_sub(sc: Scenario, name: str, sub_path: Path, problems: list[ScenarioProblem]) -> None:
    data = _yaml(sub_path, problems)
    if data is None:
        return
    if isinstance(data, dict):
        extra = set(data) - {"steps", "description", "targets"}
        if extra:
            problems.append(ScenarioProblem(file=str(sub_path), message=f"a sub-scenario has only description, targets, steps (got {', '.join(sorted(extra))})"))
        for k, v in (data.get("targets") or {}).items():
            sc.targets.setdefault(k, str(v))
        raw = data.get("steps", [])
    else:
        raw = data
    sc.subs[name] = parse_steps(raw, str(sub_path), problems)
    for sub in called_subs(sc.subs[name]):
        if sub not in sc.subs and (sub_path.parent / f"{sub}.yaml").is_file():
            load_sub(sc, sub, sub_path.parent / f"{sub}.yaml", problems)


def walk(steps: list[StepBase]):  # noqa: ANN201 - generator of every step, nested included
    for s in steps:
        yield s
        if isinstance(s, If):
            yield from walk(s.then)
            yield from walk(s.else_)
        elif isinstance(s, ForEach):
            yield from walk(s.steps)


def called_subs(steps: list[StepBase]) -> set[str]:
    return {s.call for s in walk(steps) if isinstance(s, Call)}


# -- reference pass ----------------------------------------------------------------
class _Scope:
    def __init__(self, rows: dict[str, list[str] | None] | None = None, in_loop: bool = False) -> None:
        self.rows = rows or {}
        self.in_loop = in_loop


def _check_template(text: Any, sc: Scenario, scope: _Scope, extracted: set[str], seen_targets: tuple[str, ...] = ()) -> list[str]:
    """Problems with the ``${...}`` references in *text* (empty when fine)."""
    out: list[str] = []
    for expr in refs(text if isinstance(text, str) else ""):
        try:
            root, name = parse_ref(expr)
        except TemplateError as e:
            out.append(str(e))
            continue
        if root == "record":
            if name not in sc.input.fields:
                close = difflib.get_close_matches(name, list(sc.input.fields), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                out.append(f"unknown variable ${{{expr}}}: '{name}' is not a declared input field{hint} "
                           f"(declared: {', '.join(sc.input.fields) or 'none'})")
        elif root == "tenant":
            if name not in TENANT_KEYS:
                out.append(f"unknown variable ${{{expr}}} (tenant has: {', '.join(TENANT_KEYS)})")
        elif root == "system":
            if name not in SYSTEM_KEYS:
                out.append(f"unknown variable ${{{expr}}} (system has: {', '.join(SYSTEM_KEYS)})")
        elif root == "params":
            if name not in sc.params:
                out.append(f"unknown variable ${{{expr}}}: no such param (declared: {', '.join(sc.params) or 'none'})")
        elif root == "vars":
            if name not in extracted:
                out.append(f"unknown variable ${{{expr}}}: no earlier 'extract' step reads into '{name}'")
        elif root == "loop":
            if not scope.in_loop or name not in LOOP_KEYS:
                out.append(f"${{{expr}}} is only valid inside for_each (loop.index, loop.index0)")
        elif root == "target":
            if name not in sc.targets:
                out.append(f"unknown target ${{{expr}}} (declared: {', '.join(sorted(sc.targets)) or 'none'})")
            elif name in seen_targets:
                out.append(f"target '{name}' refers to itself")
            else:
                out.extend(_check_template(sc.targets[name], sc, scope, extracted, seen_targets + (name,)))
        elif root == "secret":
            pass  # existence is a run-time matter of the tenant's secret store
        elif root in scope.rows:
            cols = scope.rows[root]
            if cols is not None and name not in cols:
                out.append(f"unknown variable ${{{expr}}}: rows have {', '.join(cols) or 'no fields'}")
        else:
            out.append(f"unknown variable ${{{expr}}} (roots: record, row/for_each 'as' name, loop, tenant, system, "
                       f"params, vars, target, secret:)")
    return out


def _check_target(name: str | None, sc: Scenario, scope: _Scope, extracted: set[str]) -> list[str]:
    if name is None:
        return []
    if name not in sc.targets:
        return [f"unknown target '{name}' (declared targets: {', '.join(sorted(sc.targets)) or 'none'})"]
    return [f"target '{name}': {m}" for m in _check_template(sc.targets[name], sc, scope, extracted)]


def _check_condition(c: Condition, sc: Scenario, scope: _Scope, extracted: set[str]) -> list[tuple[str, str]]:
    out = []
    for f in ("exists", "missing", "target"):
        out += [(f, m) for m in _check_target(getattr(c, f), sc, scope, extracted)]
    for f in ("contains", "value"):
        out += [(f, m) for m in _check_template(getattr(c, f), sc, scope, extracted)]
    for v in c.equals or []:
        out += [("equals", m) for m in _check_template(v, sc, scope, extracted)]
    return out


def check_steps(steps: list[StepBase], sc: Scenario, file: str, scope: _Scope, extracted: set[str], where: str = "",
                stack: tuple[str, ...] = ()) -> list[ScenarioProblem]:
    problems: list[ScenarioProblem] = []
    for i, s in enumerate(steps):
        action = action_of(s)
        label = (f"{where} > " if where else "step ") + f"#{i + 1}" + (f" '{s.id}'" if s.id else "") + f" ({action})"
        found: list[tuple[str, str]] = []
        if action in TARGET_FIELDS:
            found += [(action, m) for m in _check_target(getattr(s, TARGET_FIELDS[action]), sc, scope, extracted)]
        if isinstance(s, Goto):
            if s.goto in sc.targets:
                found += [("goto", m) for m in _check_target(s.goto, sc, scope, extracted)]
            elif not (s.goto.startswith(("/", "http://", "https://", "${"))):
                found.append(("goto", f"unknown target '{s.goto}' (declare it under targets, or give a URL starting with / or http)"))
            else:
                found += [("goto", m) for m in _check_template(s.goto, sc, scope, extracted)]
        for f in ("value", "text", "key", "message"):
            if f in type(s).model_fields:
                found += [(f, m) for m in _check_template(getattr(s, f), sc, scope, extracted)]
        if isinstance(s, WaitFor):
            found += [("wait_for", m) for m in _check_target(s.wait_for, sc, scope, extracted)]
            for t in s.any_of or []:
                found += [("any_of", m) for m in _check_target(t, sc, scope, extracted)]
        if isinstance(s, Fail) and s.message_from:
            found += [("message_from", m) for m in _check_target(s.message_from, sc, scope, extracted)]
        if isinstance(s, (Guard, If)):
            found += _check_condition(s.guard if isinstance(s, Guard) else s.if_, sc, scope, extracted)
        problems += [ScenarioProblem(file=file, step=label, field=f, message=m) for f, m in found]
        if isinstance(s, Extract):
            extracted.add(s.into)
        if isinstance(s, If):
            problems += check_steps(s.then, sc, file, scope, extracted, f"{label} then", stack)
            problems += check_steps(s.else_, sc, file, scope, extracted, f"{label} else", stack)
        elif isinstance(s, ForEach):
            cols: list[str] | None = None
            if s.for_each in sc.targets:
                if not s.columns:
                    problems.append(ScenarioProblem(file=file, step=label, field="columns",
                                                    message="iterating a table target needs 'columns: [names of the cells]'"))
                cols = (s.columns or []) + ["text"]
            else:
                exprs = refs(s.for_each)
                if len(exprs) != 1 or not re.fullmatch(r"\$\{[^}]+\}", s.for_each.strip()):
                    problems.append(ScenarioProblem(file=file, step=label, field="for_each",
                                                    message="must be one list variable such as ${record.children}, or a table target"))
                else:
                    msgs = _check_template(s.for_each, sc, scope, extracted)
                    problems += [ScenarioProblem(file=file, step=label, field="for_each", message=m) for m in msgs]
                    try:
                        root, name = parse_ref(exprs[0])
                    except TemplateError:
                        root, name = "", ""
                    if root == "record" and name in sc.input.fields:
                        fld = sc.input.fields[name]
                        if fld.type != "list":
                            problems.append(ScenarioProblem(file=file, step=label, field="for_each",
                                                            message=f"input field '{name}' is not declared as type: list"))
                        cols = fld.fields or None
            inner = _Scope({**scope.rows, s.as_: cols}, in_loop=True)
            problems += check_steps(s.steps, sc, file, inner, extracted, f"{label} steps", stack)
        elif isinstance(s, Call):
            if s.call in stack:
                problems.append(ScenarioProblem(file=file, step=label, field="call", message=f"sub-scenario '{s.call}' calls itself"))
            elif s.call not in sc.subs:
                problems.append(ScenarioProblem(file=file, step=label, field="call",
                                                message=f"no sub-scenario '{s.call}' ({s.call}.yaml beside scenario.yaml)"))
            else:
                sub_file = str(sc.folder / f"{s.call}.yaml") if sc.folder else f"{s.call}.yaml"
                problems += check_steps(sc.subs[s.call], sc, sub_file, scope, extracted, "", stack + (s.call,))
    return problems


def all_steps(sc: Scenario) -> list[StepBase]:
    out = list(walk(sc.steps))
    for sub in sc.subs.values():
        out += list(walk(sub))
    return out


def check_references(sc: Scenario, file: str) -> list[ScenarioProblem]:
    problems: list[ScenarioProblem] = []
    seen: dict[str, int] = {}
    for s in all_steps(sc):
        if s.id:
            seen[s.id] = seen.get(s.id, 0) + 1
    for sid, n in seen.items():
        if n > 1:
            problems.append(ScenarioProblem(file=file, step=f"'{sid}'", field="id", message=f"step id used {n} times; ids must be unique"))
    if sc.input.key and sc.input.key not in sc.input.fields:
        problems.append(ScenarioProblem(file=file, field="input.key", message=f"'{sc.input.key}' is not a declared input field"))
    if sc.session.detect and sc.session.detect not in sc.targets:
        problems.append(ScenarioProblem(file=file, field="session.detect", message=f"unknown target '{sc.session.detect}'"))
    for name, value in sc.targets.items():
        if not value.strip():
            problems.append(ScenarioProblem(file=file, field=f"targets.{name}", message="empty target"))
    problems += check_steps(sc.steps, sc, file, _Scope(), set())
    if sc.session.login and sc.session.login in sc.subs:
        problems += check_steps(sc.subs[sc.session.login], sc, str((sc.folder or Path('.')) / f"{sc.session.login}.yaml"),
                                _Scope(), set(), "", (sc.session.login,))
    return problems


def step_to_dict(step: StepBase) -> dict[str, Any]:
    """A step as it would be written in YAML (action key first)."""
    d = step.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True)
    action = action_of(step)
    if isinstance(step, If):
        d["then"] = [step_to_dict(x) for x in step.then]
        if step.else_:
            d["else"] = [step_to_dict(x) for x in step.else_]
    if isinstance(step, ForEach):
        d["steps"] = [step_to_dict(x) for x in step.steps]
    if action not in d:  # defaults (fail: business) are dropped by exclude_defaults
        d[action] = getattr(step, {"if": "if_"}.get(action, action))
        if d[action] is None:  # wait_for with any_of only
            d[action] = ""
    ordered = {k: d[k] for k in ("id",) if k in d}
    ordered[action] = d.pop(action)
    ordered.update({k: v for k, v in d.items() if k not in ordered})
    return ordered


If.model_rebuild()
ForEach.model_rebuild()
