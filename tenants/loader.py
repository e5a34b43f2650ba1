"""Loading tenant files with layered configuration and precise, complete error reports.

Layers, later wins: platform defaults -> shared scenario defaults -> tenant file -> run
parameters. Each merged leaf remembers which layer it came from, so
``kyodo config show --tenant X`` can say where every value was set.

A broken tenant file never stops the platform: :func:`load_all` returns the tenants
that are valid and one :class:`ConfigProblem` per mistake in the others.
"""
from __future__ import annotations

import copy
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from .config import TenantConfig
from .settings import get_settings

log = logging.getLogger(__name__)

PLATFORM_DEFAULTS: dict[str, Any] = {
    "timezone": "Asia/Tokyo",
    "max_concurrent_jobs": 4,
    "ocr": {"dpi": 300},
    "transcription": {"language": "ja", "remove_fillers": True},
}
SCENARIO_DEFAULTS_FILE = "tenant_defaults.toml"


class ConfigProblem(BaseModel):
    """One mistake in one file, in a form a municipality's IT person can act on."""

    file: str
    line: int | None = None
    path: str = ""
    message: str
    got: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.path}:" if self.path else ""
        got = f" (got {self.got})" if self.got is not None else ""
        return f"{where}:{field} {self.message}{got}"


class TenantFileError(Exception):
    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class LoadedTenant:
    config: TenantConfig
    file: Path
    origins: dict[str, str] = field(default_factory=dict)
    merged: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadReport:
    tenants: dict[str, LoadedTenant] = field(default_factory=dict)
    problems: list[ConfigProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def deep_merge(base: dict[str, Any], top: dict[str, Any], origins: dict[str, str], source: str, prefix: str = "") -> dict[str, Any]:
    """Merge *top* into a copy of *base*: tables merge, everything else (lists included) is replaced."""
    out = copy.deepcopy(base)
    for key, value in top.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value, origins, source, prefix=f"{path}.")
        else:
            out[key] = copy.deepcopy(value)
            for old in [p for p in origins if p == path or p.startswith(path + ".")]:
                del origins[old]
            _record_origins(value, origins, source, path)
    return out


def _record_origins(value: Any, origins: dict[str, str], source: str, path: str) -> None:
    if isinstance(value, dict) and value:
        for k, v in value.items():
            _record_origins(v, origins, source, f"{path}.{k}")
    else:
        origins[path] = source


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line number of a field path in a TOML file (tomllib gives none)."""
    lines = text.splitlines()
    keys = [str(k) for k in loc if not isinstance(k, int)]
    if not keys:
        return None
    # Walk down the tables: find the deepest [table] header that is a prefix of the path,
    # then the key assignment after it.
    start = 0
    for depth in range(len(keys), 0, -1):
        header = re.compile(r"^\s*\[\[?\s*" + r"\s*\.\s*".join(re.escape(k) for k in keys[:depth]) + r"\s*\]\]?\s*$")
        for i, line in enumerate(lines):
            if header.match(line):
                if depth == len(keys):
                    return i + 1
                start = i
                remaining = keys[depth:]
                break
        else:
            continue
        break
    else:
        remaining = keys
    key_re = re.compile(r"^\s*(" + "|".join(re.escape(k) for k in remaining) + r")\s*(\.|=)")
    dotted = re.compile(r"^\s*" + r"\s*\.\s*".join(re.escape(k) for k in remaining) + r"\s*=")
    for i in range(start, len(lines)):
        if dotted.match(lines[i]):
            return i + 1
    for i in range(start, len(lines)):
        m = key_re.match(lines[i])
        if m and m.group(1) == remaining[-1]:
            return i + 1
    for i in range(start, len(lines)):
        if key_re.match(lines[i]):
            return i + 1
    return start + 1 if start else None


def _expected(err: dict[str, Any]) -> str:
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        return "unknown setting (check the spelling; see 'kyodo config show' for the known ones)"
    if err["type"] == "missing":
        return "required setting is missing"
    return msg.removeprefix("Value error, ")


def problems_from_validation(exc: ValidationError, file: str, text: str) -> list[ConfigProblem]:
    out = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        got = None
        if err["type"] not in ("missing",) and "input" in err and not isinstance(err["input"], (dict, list)):
            got = repr(err["input"])
        out.append(
            ConfigProblem(
                file=file,
                line=_line_of(text, loc),
                path=".".join(str(p) for p in loc),
                message=_expected(err),
                got=got,
            )
        )
    return out


def scenario_layers(tenant_data: dict[str, Any], scenarios_dir: Path) -> list[tuple[str, dict[str, Any]]]:
    """Defaults that each shared scenario the tenant uses contributes (``tenant_defaults.toml``)."""
    layers = []
    for name in sorted((tenant_data.get("scenarios") or {}).keys()):
        f = scenarios_dir / name / SCENARIO_DEFAULTS_FILE
        if f.is_file():
            try:
                layers.append((f"scenario:{name}", tomllib.loads(f.read_text(encoding="utf-8"))))
            except tomllib.TOMLDecodeError as e:
                log.error("scenario defaults %s are not valid TOML: %s", f, e)
    return layers


def display_path(path: Path) -> str:
    """A short path for messages: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def load_tenant_file(path: Path, run_params: dict[str, Any] | None = None, scenarios_dir: Path | None = None) -> LoadedTenant:
    """Load and validate one tenant file with all layers; raise TenantFileError listing every problem."""
    label = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise TenantFileError([ConfigProblem(file=label, message=f"not UTF-8 text ({e.reason} at byte {e.start}); save the file as UTF-8")]) from None
    except OSError as e:
        raise TenantFileError([ConfigProblem(file=label, message=f"cannot read the file: {e.strerror}")]) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        raise TenantFileError(
            [ConfigProblem(file=label, line=int(m.group(1)) if m else None, message=f"TOML syntax error: {e}")]
        ) from None

    problems: list[ConfigProblem] = []
    expected_id = path.stem
    if data.get("id") is None:
        data["id"] = expected_id
    elif data.get("id") != expected_id:
        problems.append(
            ConfigProblem(file=label, line=_line_of(text, ("id",)), path="id",
                          message=f"must match the file name '{expected_id}.toml'", got=repr(data.get("id")))
        )

    origins: dict[str, str] = {}
    merged = deep_merge({}, PLATFORM_DEFAULTS, origins, "platform defaults")
    for source, layer in scenario_layers(data, scenarios_dir or get_settings().scenarios_dir):
        merged = deep_merge(merged, layer, origins, source)
    merged = deep_merge(merged, data, origins, label)
    if run_params:
        merged = deep_merge(merged, run_params, origins, "run parameters")
    try:
        config = TenantConfig.model_validate(merged)
    except ValidationError as e:
        problems.extend(problems_from_validation(e, label, text))
        config = None
    if problems:
        raise TenantFileError(problems)
    assert config is not None
    return LoadedTenant(config=config, file=path, origins=origins, merged=merged)


def tenant_files(tenants_dir: Path | None = None) -> list[Path]:
    d = tenants_dir or get_settings().tenants_dir
    if not d.is_dir():
        return []
    return sorted(p for p in d.glob("*.toml") if not p.name.startswith(("_", ".")))


def load_all(tenants_dir: Path | None = None) -> LoadReport:
    """Load every tenant file; broken ones are reported and skipped, never fatal."""
    report = LoadReport()
    for path in tenant_files(tenants_dir):
        try:
            t = load_tenant_file(path)
        except TenantFileError as e:
            report.problems.extend(e.problems)
            for p in e.problems:
                log.error("tenant file problem: %s", p)
            continue
        if t.config.id in report.tenants:
            report.problems.append(ConfigProblem(file=display_path(path), path="id", message=f"duplicate tenant id '{t.config.id}'"))
            continue
        report.tenants[t.config.id] = t
    return report


def get_tenant(tenant_id: str, tenants_dir: Path | None = None, run_params: dict[str, Any] | None = None) -> LoadedTenant:
    d = tenants_dir or get_settings().tenants_dir
    path = d / f"{tenant_id}.toml"
    if not path.is_file():
        known = ", ".join(p.stem for p in tenant_files(d)) or "none"
        raise TenantFileError([ConfigProblem(file=display_path(path), message=f"no tenant '{tenant_id}' (known: {known})")])
    return load_tenant_file(path, run_params=run_params)
