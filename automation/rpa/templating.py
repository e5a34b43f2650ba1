"""``${...}`` templates in scenario values and targets.

Forms: ``${record.x}``, ``${row.x}`` (or the ``as`` name of a for_each), ``${loop.index}``
(1-based) / ``${loop.index0}``, ``${tenant.id|display_name}``, ``${system.base_url|username|variant}``,
``${params.x}``, ``${vars.x}`` (values read by ``extract``), ``${target.name}`` and
``${secret:name}``. ``$${`` writes a literal ``${``. A value that is exactly one
``${...}`` keeps its type (bool, list) so ``check`` and ``for_each`` get real values.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

TEMPLATE_RE = re.compile(r"(?<!\$)\$\{([^}]*)\}")
REF_RE = re.compile(r"^(?:secret:(?P<secret>[A-Za-z0-9_.-]{1,64})|(?P<root>[A-Za-z_][A-Za-z0-9_]*)\.(?P<name>[A-Za-z_][A-Za-z0-9_]*))$")
TENANT_KEYS = ("id", "display_name")
SYSTEM_KEYS = ("base_url", "username", "variant")
LOOP_KEYS = ("index", "index0")


class TemplateError(ValueError):
    """A reference that cannot be resolved (at validation time or, for data, at run time)."""


def refs(text: str) -> list[str]:
    """The raw expressions inside ``${...}`` of *text*."""
    return [m.group(1).strip() for m in TEMPLATE_RE.finditer(text)] if isinstance(text, str) else []


def parse_ref(expr: str) -> tuple[str, str]:
    """``record.x`` -> ("record", "x"); ``secret:n`` -> ("secret", "n"); else TemplateError."""
    m = REF_RE.match(expr)
    if not m:
        raise TemplateError(f"'${{{expr}}}' is not a valid reference (use e.g. ${{record.recipient_name}}, "
                            f"${{row.name}}, ${{tenant.display_name}}, ${{secret:name}}, ${{target.name}})")
    if m.group("secret"):
        return "secret", m.group("secret")
    return m.group("root"), m.group("name")


class Context:
    """Values a template can see while one record runs."""

    def __init__(self, *, record: Mapping[str, Any] | None = None, field_map: Mapping[str, str] | None = None,
                 tenant: Mapping[str, Any] | None = None, system: Mapping[str, Any] | None = None,
                 params: Mapping[str, Any] | None = None, targets: Mapping[str, str] | None = None,
                 secret: Callable[[str], str] | None = None) -> None:
        self.record = record or {}
        self.field_map = field_map or {}
        self.tenant = tenant or {}
        self.system = system or {}
        self.params = params or {}
        self.targets = targets or {}
        self.secret = secret
        self.vars: dict[str, Any] = {}
        self.rows: dict[str, Mapping[str, Any]] = {}
        self.loop: dict[str, int] = {}
        self.secret_values: set[str] = set()

    def lookup(self, expr: str) -> Any:
        root, name = parse_ref(expr)
        if root == "secret":
            if self.secret is None:
                raise TemplateError(f"secret '{name}' is not available here")
            value = self.secret(name)
            self.secret_values.add(value)
            return value
        if root == "record":
            key = self.field_map.get(name, name)
            if key not in self.record:
                raise TemplateError(f"the record has no field '{key}'" + (f" (mapped from '{name}')" if key != name else ""))
            return self.record[key]
        if root == "loop":
            if name not in self.loop:
                raise TemplateError("${loop.*} is only available inside for_each")
            return self.loop[name]
        if root == "target":
            if name not in self.targets:
                raise TemplateError(f"unknown target '{name}'")
            return render(self.targets[name], self)
        table = {"tenant": self.tenant, "system": self.system, "params": self.params, "vars": self.vars}.get(root)
        if table is None:
            table = self.rows.get(root)
            if table is None:
                raise TemplateError(f"unknown variable root '{root}' in ${{{expr}}}")
        if name not in table:
            raise TemplateError(f"${{{expr}}} has no value")
        return table[name]


def render(value: Any, ctx: Context) -> Any:
    """Render a template; a whole-value reference keeps its type, others become text."""
    if not isinstance(value, str):
        return value
    whole = TEMPLATE_RE.fullmatch(value)
    if whole:
        return ctx.lookup(whole.group(1).strip())

    def sub(m: re.Match[str]) -> str:
        v = ctx.lookup(m.group(1).strip())
        if isinstance(v, bool):
            return "true" if v else "false"
        return "" if v is None else str(v)

    return TEMPLATE_RE.sub(sub, value).replace("$${", "${")


def render_text(value: Any, ctx: Context) -> str:
    v = render(value, ctx)
    return "" if v is None else str(v)
