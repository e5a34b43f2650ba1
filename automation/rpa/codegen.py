"""Turn ``playwright codegen --target python`` output into scenario steps.

Recording is the quickest way for an author to get selectors right; the converter
keeps the recorded order, gives every distinct locator a named target (so a
municipality can override it), and leaves typed values literal for the author to
replace with ``${record.x}``. Lines it does not understand are reported, not dropped
silently.
"""
from __future__ import annotations

import ast
import re
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, Field

_ACTIONS = {"fill": "fill", "type": "fill", "press_sequentially": "fill", "click": "click", "dblclick": "click",
            "check": "check", "uncheck": "check", "select_option": "select", "press": "press", "set_checked": "check"}


class Converted(BaseModel):
    targets: dict[str, str] = Field(default_factory=dict)
    steps: list[dict[str, Any]] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list, description="source lines not converted")

    def scenario(self, name: str) -> dict[str, Any]:
        return {"name": name, "version": "0.1.0", "description": f"recorded with playwright codegen ({name})",
                "input": {"fields": {}}, "targets": self.targets, "steps": self.steps}


def _const(node: ast.AST | None) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


def _kw(call: ast.Call, name: str) -> Any:
    return next((_const(k.value) for k in call.keywords if k.arg == name), None)


def locator_of(node: ast.AST) -> str | None:
    """page.get_by_label("X").first -> "label:X >> nth=0" (None when not a locator chain)."""
    if isinstance(node, ast.Attribute) and node.attr in ("first", "last"):
        inner = locator_of(node.value)
        return f"{inner} >> nth={'0' if node.attr == 'first' else '-1'}" if inner else None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return None
    meth, base = node.func.attr, node.func.value
    arg = _const(node.args[0]) if node.args else None
    parent = None if (isinstance(base, ast.Name) and base.id in ("page", "frame")) else locator_of(base)
    if parent is None and not (isinstance(base, ast.Name) and base.id in ("page", "frame")):
        return None
    if meth == "nth" and parent:
        return f"{parent} >> nth={arg}"
    if meth == "get_by_role":
        name = _kw(node, "name")
        own = f"role:{arg}:{name}" if name else f"role:{arg}"
    elif meth in ("get_by_label", "get_by_text", "get_by_placeholder", "get_by_test_id", "get_by_title", "get_by_alt_text"):
        prefix = {"get_by_label": "label", "get_by_text": "text", "get_by_placeholder": "placeholder",
                  "get_by_test_id": "testid"}.get(meth)
        if prefix is None:
            own = f"[{'title' if meth == 'get_by_title' else 'alt'}=\"{arg}\"]"
        else:
            own = f"{prefix}:{arg}"
    elif meth == "locator":
        own = str(arg)
    else:
        return None
    if parent is None:
        return own
    if own.startswith(("label:", "role:", "text:", "placeholder:", "testid:")):
        return None  # chained semantic locators have no single-string form; keep it simple
    return f"{parent} >> {own}"


def _kind(selector: str, action: str) -> str:
    if selector.startswith("role:"):
        return selector.split(":")[1] or "element"
    if selector.startswith(("label:", "placeholder:")):
        return "field"
    if selector.startswith("text:"):
        return "text"
    return {"fill": "field", "click": "element", "check": "checkbox", "select": "select", "press": "field"}[action]


def _target_name(selector: str, kind: str, targets: dict[str, str]) -> str:
    for name, sel in targets.items():
        if sel == selector:
            return name
    m = re.search(r"#([A-Za-z][\w-]*)", selector)
    base = (m.group(1) if m else kind).lower().replace("-", "_")
    base = re.sub(r"[^a-z0-9_]", "_", base).strip("_") or kind
    if not base[0].isalpha():
        base = f"{kind}_{base}"
    name, n = base, 2
    while name in targets:
        name, n = f"{base}_{n}", n + 1
    targets[name] = selector
    return name


def convert(source: str) -> Converted:
    out = Converted()
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise ValueError(f"not Python (line {e.lineno}): {e.msg}") from None
    lines = source.splitlines()
    exprs = sorted((n for n in ast.walk(tree) if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)),
                   key=lambda n: (n.lineno, n.col_offset))  # ast.walk is breadth-first; keep source order
    for node in exprs:
        assert isinstance(node.value, ast.Call)
        call = node.value
        func = call.func
        if not isinstance(func, ast.Attribute):
            continue
        text = lines[node.lineno - 1].strip() if node.lineno <= len(lines) else ""
        step: dict[str, Any] | None = None
        if func.attr == "goto" and isinstance(func.value, ast.Name) and func.value.id == "page":
            url = str(_const(call.args[0]) if call.args else "")
            parsed = urlparse(url)
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "") if parsed.scheme else url
            step = {"goto": _target_name(path or "/", "page", out.targets)}
        elif isinstance(func.value, ast.Call) and isinstance(func.value.func, ast.Name) and func.value.func.id == "expect":
            sel = locator_of(func.value.args[0]) if func.value.args else None
            if sel and func.attr in ("to_be_visible", "to_be_attached"):
                step = {"wait_for": _target_name(sel, "element", out.targets)}
            elif sel and func.attr in ("to_contain_text", "to_have_text"):
                step = {"expect_text": _target_name(sel, "text", out.targets), "text": str(_const(call.args[0]) if call.args else "")}
        elif func.attr in _ACTIONS:
            sel = locator_of(func.value)
            if sel is not None:
                action = _ACTIONS[func.attr]
                step = {action: _target_name(sel, _kind(sel, action), out.targets)}
                value = _const(call.args[0]) if call.args else None
                if action == "fill":
                    step["value"] = "" if value is None else str(value)
                    if re.search(r"password|パスワード|暗証", sel, re.I):
                        # never keep a recorded password in a scenario file
                        step["value"] = "${secret:password}"
                        out.skipped.append(f"line {node.lineno}: recorded password replaced by ${{secret:password}}")
                elif action == "select":
                    step["value"] = "" if value is None else str(value)
                elif action == "press":
                    step["key"] = str(value)
                elif action == "check":
                    step["value"] = func.attr != "uncheck" if func.attr != "set_checked" else bool(value)
        if step is None:
            if not text.startswith(("browser.", "context.", "playwright", "run(")) and "close()" not in text:
                out.skipped.append(f"line {node.lineno}: {text}")
            continue
        out.steps.append({"id": f"step_{len(out.steps) + 1:02d}", **step})
    return out
