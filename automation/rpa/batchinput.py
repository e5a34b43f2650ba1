"""Batched form input: consecutive fill / select / check steps applied in one browser round trip.

A Playwright ``fill`` is one round trip to the browser plus its actionability checks (~7–15 ms
on a 2-core machine); an entry form with three children is ~25 of them, a quarter of a record's
time. RPA suites offer the same trade as an input method ("simulate" input in UiPath): the
values are set through the DOM with the events a user's typing fires (focus, input, change).

Semantics are kept, not approximated: an op is applied in the page only when the target
resolves to exactly one visible, enabled, editable native control and the value can be set
exactly as asked (no ``maxlength`` cut, an existing option, a checkbox that ends in the wanted
state); the value is read back. Anything else (an unsupported selector syntax, an element not
there yet, several matches, a custom widget) goes, in order, to Playwright's own step with its
auto-wait and its error messages. A scenario sets ``input_method: step`` to turn batching off (to watch
each field being typed with ``--slow-mo``, or for a system whose scripts need real key events).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

OpKind = Literal["fill", "select", "check"]


@dataclass
class InputOp:
    kind: OpKind
    target: str               # the rendered target string (``label:…`` or CSS)
    value: str | bool
    fallback: Callable[[], None]  # Playwright's own step for this op


def js_selector(target: str) -> dict[str, str] | None:
    """The part of the target syntax the page script resolves itself; None: Playwright's path."""
    kind, _, rest = target.partition(":")
    if kind == "label" and rest:
        return {"label": rest}
    if kind in {"role", "text", "placeholder", "testid"} and rest:
        return None
    # Playwright-only selector engines and chains; plain CSS is resolved with querySelectorAll
    # (an extension pseudo-class such as :has-text throws there and falls back).
    if target.startswith(("text=", "xpath=", "css=", "id=", "data-testid=", "internal:", "//", "..")) or ">>" in target:
        return None
    return {"css": target}


# Applies ops in order and stops at the first it cannot apply exactly; returns how many it applied.
# Label matching follows Playwright's getByLabel(exact): <label> text (whitespace collapsed),
# aria-labelledby and aria-label, exactly one control.
_APPLY_JS = r"""(ops) => {
  if (document.readyState === 'loading') return 0;
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const byLabel = (text) => {
    const found = new Set();
    for (const l of document.querySelectorAll('label'))
      if (norm(l.textContent) === text && l.control) found.add(l.control);
    for (const el of document.querySelectorAll('[aria-label]'))
      if (norm(el.getAttribute('aria-label')) === text) found.add(el);
    for (const el of document.querySelectorAll('[aria-labelledby]')) {
      const t = el.getAttribute('aria-labelledby').split(/\s+/)
        .map((id) => document.getElementById(id)).filter(Boolean).map((e) => e.textContent).join(' ');
      if (norm(t) === text) found.add(el);
    }
    return [...found];
  };
  const resolve = (sel) => {
    try { return sel.label !== undefined ? byLabel(norm(sel.label)) : [...document.querySelectorAll(sel.css)]; }
    catch (e) { return []; }
  };
  const usable = (el) => {
    if (el.disabled || el.closest('fieldset:disabled')) return false;
    const st = getComputedStyle(el);
    return el.getClientRects().length > 0 && st.visibility !== 'hidden';
  };
  const TEXT = new Set(['text', 'search', 'tel', 'email', 'url', 'password', 'number']);
  // the input types Playwright's fill also sets by value (a trimmed value that must read back)
  const BY_VALUE = new Set(['color', 'date', 'time', 'datetime-local', 'month', 'range', 'week']);
  const fire = (el) => {
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
  };
  let done = 0;
  for (const op of ops) {
    const els = resolve(op.sel);
    if (els.length !== 1 || !usable(els[0])) return done;
    const el = els[0];
    if (op.kind === 'fill' && el instanceof HTMLInputElement && BY_VALUE.has(el.type)) {
      if (el.readOnly) return done;
      const v = op.value.trim();
      el.focus();
      el.value = v;
      if (el.value !== v) return done;
      fire(el);
    } else if (op.kind === 'fill') {
      const isText = el instanceof HTMLTextAreaElement || (el instanceof HTMLInputElement && TEXT.has(el.type));
      if (!isText || el.readOnly || (el.maxLength >= 0 && op.value.length > el.maxLength)) return done;
      el.focus();
      const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      // the native setter: frameworks that track the value property see the change
      Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, op.value);
      fire(el);
      if (el.value !== op.value) return done;
    } else if (op.kind === 'select') {
      if (!(el instanceof HTMLSelectElement) || el.multiple) return done;
      const opt = [...el.options].find((o) => o.value === op.value) || [...el.options].find((o) => o.label === op.value);
      if (!opt || opt.disabled) return done;
      el.focus();
      el.value = opt.value;
      fire(el);
      if (el.value !== opt.value) return done;
    } else {
      if (!(el instanceof HTMLInputElement) || !['checkbox', 'radio'].includes(el.type)) return done;
      if (el.checked !== op.value) {
        if (!op.value && el.type === 'radio') return done;
        el.focus();
        el.click();  // the click a user makes: toggles and fires click, input and change
      }
      if (el.checked !== op.value) return done;
    }
    done++;
  }
  return done;
}"""


class InputBatch:
    """Queued input ops of the current page, applied by :meth:`flush` before anything that reads
    the page, navigates or ends the record."""

    def __init__(self, page_getter: Callable[[], Any]) -> None:
        self._page = page_getter
        self.ops: list[InputOp] = []

    def add(self, op: InputOp) -> None:
        self.ops.append(op)

    def clear(self) -> None:
        self.ops.clear()

    def flush(self) -> None:
        ops, self.ops = self.ops, []
        if not ops:
            return
        page = self._page()
        # The trace shows the batch as one named group (targets only, never values) holding the
        # page script and any Playwright steps it handed back.
        title = f"input {len(ops)} field(s): " + ", ".join(f"{op.kind} {op.target}" for op in ops)
        page.context.tracing.group(title[:500])
        try:
            i = 0
            while i < len(ops):
                run = []
                for op in ops[i:]:
                    sel = js_selector(op.target)
                    if sel is None:
                        break
                    run.append({"kind": op.kind, "sel": sel, "value": op.value})
                i += int(page.evaluate(_APPLY_JS, run)) if run else 0
                if i < len(ops):  # the first op the page could not take: Playwright's step, then go on
                    ops[i].fallback()
                    i += 1
        finally:
            page.context.tracing.group_end()
