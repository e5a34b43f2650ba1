"""Runs an effective scenario against a business system, one record at a time.

Keywords are a thin named layer over Playwright (Robot Framework Browser style): waiting
is Playwright's auto-wait and explicit ``wait_for`` steps, never a sleep. Errors are
split the UiPath way:

* business error: the system said no (record not found, a validation message) or the
  record itself is unusable. Not retried; the system's own words become the message.
* application error: timeouts, HTTP 5xx, detached elements, a lost browser. The record
  is retried from its first step with exponential backoff; the scenario's ``guard``
  makes that safe (a report that did get stored is skipped, never entered twice).

The login state is kept per tenant+system in the :class:`BrowserSession` and reused
until the system shows its login page again; then the login sub-scenario runs and the
record restarts.
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import BaseModel, Field

from tenants.config import TenantConfig
from tenants.privacy import mask
from tenants.secrets import get_secret

from . import browser as bw
from .batchinput import InputBatch, InputOp
from .evidence import make_cleaner, scrub_trace
from .model import (Call, Check, Click, Condition, ExpectText, Extract, Fail, Fill, ForEach, Goto, Guard, If, Press,
                    Scenario, ScenarioError, ScenarioProblem, Screenshot, Select, StepBase, WaitFor, action_of,
                    load_scenario_file, walk)
from .overrides import EffectiveScenario, apply_override
from .templating import Context, TemplateError, parse_ref, refs, render, render_text

log = logging.getLogger(__name__)

Status = Literal["entered", "skipped_already_entered", "business_error", "application_error", "dry_run"]
_TRUE = {"true", "1", "on", "yes", "y", "済", "○", "有"}


class RecordResult(BaseModel):
    index: int
    key: str = ""
    status: Status
    message: str = ""
    seconds: float = 0.0
    attempts: int = 0
    screenshot: str | None = None
    trace: str | None = None
    extracted: dict[str, str] = Field(default_factory=dict)


class ScenarioRunResult(BaseModel):
    scenario: str
    version: str
    tenant_id: str
    records: list[RecordResult] = Field(default_factory=list)
    seconds: float = 0.0
    trace: str | None = None
    started_at: datetime
    ended_at: datetime | None = None
    dry_run: bool = False
    logins: int = 0

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.records:
            out[r.status] = out.get(r.status, 0) + 1
        return out


class BusinessError(Exception):
    pass


class AppError(Exception):
    pass


class FatalError(Exception):
    """Retrying cannot help (wrong password, missing secret): stop the whole run."""


class AlreadyEntered(Exception):
    pass


class LoginRequired(Exception):
    pass


class RpaConfigError(ValueError):
    pass


def load_scenario(name: str | Path, scenarios_dir: Path | None = None) -> Scenario:
    """A shared scenario by name (``scenarios/<name>/scenario.yaml``) or by path."""
    p = Path(name)
    if p.suffix in (".yaml", ".yml") or p.is_dir() and (p / "scenario.yaml").is_file():
        return load_scenario_file(p)
    from tenants.settings import get_settings

    folder = (scenarios_dir or get_settings().scenarios_dir) / str(name)
    if not (folder / "scenario.yaml").is_file():
        raise ScenarioError([ScenarioProblem(file=str(folder / "scenario.yaml"),
                                             message=f"no scenario '{name}' (create it with 'kyodo scenario new {name}')")])
    return load_scenario_file(folder / "scenario.yaml")


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() in _TRUE


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text)[:40] or "record"


def resolve_system(eff: EffectiveScenario, tenant: TenantConfig, secret: Callable[[str, str], str]) -> dict[str, Any]:
    key = eff.system
    if not key:
        if len(tenant.systems) == 1:
            key = next(iter(tenant.systems))
        else:
            raise RpaConfigError(f"scenario '{eff.scenario.name}' names no system and tenant '{tenant.id}' has "
                                 f"{len(tenant.systems)}; set [scenarios.{eff.scenario.name}] system = \"...\"")
    if key not in tenant.systems:
        raise RpaConfigError(f"tenant '{tenant.id}' has no [systems.{key}] for scenario '{eff.scenario.name}' "
                             f"(known: {', '.join(tenant.systems) or 'none'})")
    s = tenant.systems[key]
    username = s.username
    if username is None and s.username_secret:
        try:
            username = secret(tenant.id, s.username_secret)
        except LookupError as e:
            raise RpaConfigError(str(e)) from None
    return {"key": key, "base_url": str(s.base_url), "username": username or "", "variant": s.variant or ""}


class _Runner:
    def __init__(self, eff: EffectiveScenario, tenant: TenantConfig, system: dict[str, Any], artifacts: Path,
                 secret: Callable[[str, str], str], session: bw.BrowserSession) -> None:
        self.eff = eff
        self.sc = eff.scenario
        self.tenant = tenant
        self.system = system
        self.artifacts = artifacts
        self.secret = secret
        self.session = session
        self.state_key = f"{tenant.id}|{system['base_url']}"
        self.page: Any = None
        self.context: Any = None
        self.server_error: str | None = None
        self.login_seen = False
        login_target = self.sc.targets.get("login_page", "")
        self.login_path = urlparse(login_target).path if login_target.startswith(("/", "http")) and "${" not in login_target else ""
        self.in_login = False
        self.logins = 0
        self.record_index = 0
        self.secret_values: set[str] = set()
        self.tracer: bw.RecordTracer | None = None
        # Watching a headed run with --slow-mo means seeing each field typed: no batching then.
        self.batch = InputBatch(lambda: self.page) if self.sc.input_method == "batch" and not session.slow_mo else None
        # Personal data (input fields marked sensitive: the My Number): kept out of messages,
        # painted over in screenshots, scrubbed out of traces.
        self.sensitive_fields = [eff.field_map.get(n, n) for n, f in self.sc.input.fields.items() if f.sensitive]
        self.sensitive_values: list[str] = []
        self.mask_targets = self._targets_filled_with_sensitive_values()

    # -- lifecycle -------------------------------------------------------------------
    def open(self) -> None:
        self.context = self.session.new_context(self.state_key, default_timeout_ms=self.sc.timeout_ms)
        self.tracer = self.session.tracer(self.context)
        self.page = self.context.new_page()
        self.page.on("response", self._on_response)

    def close(self) -> None:
        if self.context is not None:
            try:
                if self.tracer is not None:
                    self.tracer.close()
            finally:
                self.context.close()

    def _targets_filled_with_sensitive_values(self) -> list[str]:
        sensitive = {("record", n) for n, f in self.sc.input.fields.items() if f.sensitive}
        out = []
        for steps in (self.sc.steps, *self.sc.subs.values()):
            for st in walk(steps):
                target = getattr(st, "fill", None) or getattr(st, "select", None)
                value = getattr(st, "value", None)
                if target and isinstance(value, str) and any(
                        parse_ref(r) in sensitive for r in refs(value) if not r.startswith("secret:")):
                    out.append(target)
        return out

    def _on_response(self, response: Any) -> None:
        # Watching the main frame's navigations costs no extra round trip to the browser:
        # a 5xx page or a redirect to the login page is noticed here, checked after each step.
        try:
            if not (response.request.is_navigation_request() and response.frame == self.page.main_frame):
                return
            if response.status >= 500:
                self.server_error = f"HTTP {response.status} from {response.url}"
            elif self.login_path and urlparse(response.url).path == self.login_path:
                self.login_seen = True
        except Exception:  # noqa: BLE001 - a response of a closed page
            pass

    def context_for(self, record: dict[str, Any]) -> Context:
        def sec(name: str) -> str:
            try:
                v = self.secret(self.tenant.id, name)
            except LookupError as e:
                raise FatalError(str(e)) from None
            self.secret_values.add(v)
            return v

        return Context(record=record, field_map=self.eff.field_map,
                       tenant={"id": self.tenant.id, "display_name": self.tenant.display_name},
                       system=self.system, params=self.sc.params, targets=self.sc.targets, secret=sec)

    # -- keywords ----------------------------------------------------------------------
    def url(self, raw: str, ctx: Context) -> str:
        u = render_text(self.sc.targets.get(raw, raw), ctx)
        if u.startswith(("http://", "https://")):
            return u
        return self.system["base_url"].rstrip("/") + "/" + u.lstrip("/")

    def loc(self, target: str, ctx: Context) -> Any:
        return bw.locate(self.page, render_text(self.sc.targets[target], ctx))

    def after_navigation(self, look: bool = False) -> None:
        """Raise for a 5xx page or the login page. *look*: also look for the login form in the
        DOM (after goto, only when no login_page URL target lets the watcher do it)."""
        if self.server_error:
            raise AppError(self.server_error)
        if self.in_login:
            return
        if self.login_seen:
            raise LoginRequired()
        if look and not self.login_path and self.sc.session.detect:
            sel = render_text(self.sc.targets[self.sc.session.detect], Context(targets=self.sc.targets))
            if bw.locate(self.page, sel).count() > 0:
                raise LoginRequired()

    def condition(self, c: Condition, ctx: Context) -> bool:
        if c.exists is not None:
            return self.loc(c.exists, ctx).first.is_visible()
        if c.missing is not None:
            return not self.loc(c.missing, ctx).first.is_visible()
        if c.target is not None:
            loc = self.loc(c.target, ctx)
            return loc.count() > 0 and render_text(c.contains, ctx) in loc.first.inner_text()
        if c.value is not None:
            return _bool(render(c.value, ctx))
        a, b = (render_text(x, ctx) for x in c.equals or ["", ""])
        return a == b

    def run_steps(self, steps: list[StepBase], ctx: Context) -> None:
        for step in steps:
            try:
                self.run_step(step, ctx)
            except TemplateError as e:
                raise BusinessError(f"入力データの不備 ({self._where(step)}): {e}") from None

    def _where(self, step: StepBase) -> str:
        return f"step '{step.id}'" if step.id else f"{action_of(step)} step"

    def flush_input(self) -> None:
        if self.batch is not None:
            self.batch.flush()

    def input_step(self, s: Fill | Select | Check, ctx: Context, t: int) -> None:
        # Target and value are rendered now: ${loop.index} and the row belong to this iteration,
        # not to the flush that may apply them later.
        target = s.fill if isinstance(s, Fill) else s.select if isinstance(s, Select) else s.check
        sel = render_text(self.sc.targets[target], ctx)
        if isinstance(s, Check):
            kind, value = "check", _bool(render(s.value, ctx))
        else:
            kind, value = ("fill" if isinstance(s, Fill) else "select"), render_text(s.value, ctx)

        def playwright_step() -> None:
            loc = bw.locate(self.page, sel)
            if kind == "fill":
                loc.fill(value, timeout=t)
            elif kind == "select":
                loc.select_option(value, timeout=t)
            else:
                bw.set_checked(loc, value, t)

        if self.batch is None:
            playwright_step()
        else:
            self.batch.add(InputOp(kind=kind, target=sel, value=value, fallback=playwright_step))

    def run_step(self, s: StepBase, ctx: Context) -> None:  # noqa: C901 - one branch per keyword
        t = s.timeout_ms or self.sc.timeout_ms
        page = self.page
        if isinstance(s, (Fill, Select, Check)):
            self.input_step(s, ctx, t)
            return
        if not isinstance(s, (ForEach, Call)) or (isinstance(s, ForEach) and s.for_each in self.sc.targets):
            self.flush_input()  # anything that reads the page or navigates sees the fields filled
        if isinstance(s, Goto):
            resp = page.goto(self.url(s.goto, ctx), timeout=t, wait_until="domcontentloaded")
            if resp is not None and resp.status >= 500:
                raise AppError(f"HTTP {resp.status} from {resp.url}")
            self.after_navigation(look=True)
        elif isinstance(s, (Click, Press)):
            if isinstance(s, Click):
                bw.click(self.loc(s.click, ctx), t)
            else:
                self.loc(s.press, ctx).press(render_text(s.key, ctx), timeout=t)
            # Playwright's click waits for a navigation it started to commit; the next step's
            # locator then auto-waits on the new document, so no load-state wait is needed.
            self.after_navigation()
        elif isinstance(s, WaitFor):
            names = [s.wait_for] if s.wait_for else list(s.any_of or [])
            loc = self.loc(names[0], ctx)
            for n in names[1:]:
                loc = loc.or_(self.loc(n, ctx))
            loc.first.wait_for(state=s.state, timeout=t)
            self.after_navigation()
        elif isinstance(s, ExpectText):
            want = render_text(s.text, ctx)
            if not bw.shows_text(self.loc(s.expect_text, ctx).first, want, t):
                raise AppError(f"{self._where(s)}: expected text not shown on the page")
        elif isinstance(s, Extract):
            loc = self.loc(s.extract, ctx).first
            value = loc.get_attribute(s.attribute, timeout=t) if s.attribute else loc.inner_text(timeout=t)
            ctx.vars[s.into] = (value or "").strip()
        elif isinstance(s, Screenshot):
            path = self.artifacts / f"{self.record_index:03d}-{s.screenshot}.png"
            bw.masked_screenshot(page, path, mask_targets=self.rendered_mask_targets(ctx),
                                 sensitive_values=self.sensitive_values)
        elif isinstance(s, Guard):
            if self.condition(s.guard, ctx):
                raise AlreadyEntered(render_text(s.message, ctx))
        elif isinstance(s, If):
            self.run_steps(s.then if self.condition(s.if_, ctx) else s.else_, ctx)
        elif isinstance(s, ForEach):
            self.for_each(s, ctx)
        elif isinstance(s, Call):
            self.run_steps(self.sc.subs[s.call], ctx)
        elif isinstance(s, Fail):
            msg = render_text(s.message, ctx)
            if s.message_from:
                loc = self.loc(s.message_from, ctx)
                shown = loc.first.inner_text(timeout=t).strip() if loc.count() else ""
                msg = f"{msg} {shown}".strip()
            msg = msg or "業務エラー"
            raise {"business": BusinessError, "application": AppError, "fatal": FatalError}[s.fail](msg)
        if self.server_error:
            raise AppError(self.server_error)

    def for_each(self, s: ForEach, ctx: Context) -> None:
        if s.for_each in self.sc.targets:
            rows = []
            for el in self.loc(s.for_each, ctx).all():
                cells = [c.strip() for c in el.locator("td, th").all_inner_texts()]
                row = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(s.columns or [])}
                row["text"] = el.inner_text().strip()
                rows.append(row)
        else:
            items = render(s.for_each, ctx)
            if items is None:
                items = []
            if not isinstance(items, list):
                raise BusinessError(f"入力データの不備 ({self._where(s)}): {s.for_each} is not a list")
            rows = items
        saved_row, saved_loop = ctx.rows.get(s.as_), dict(ctx.loop)
        for i, row in enumerate(rows):
            ctx.rows[s.as_] = row if isinstance(row, dict) else {"value": row}
            ctx.loop = {"index": i + 1, "index0": i}
            self.run_steps(s.steps, ctx)
        ctx.loop = saved_loop
        if saved_row is None:
            ctx.rows.pop(s.as_, None)
        else:
            ctx.rows[s.as_] = saved_row

    def login(self, ctx: Context) -> None:
        if not self.sc.session.login:
            raise FatalError("the system asks for a login but the scenario has no session.login sub-scenario")
        self.session.forget_state(self.state_key)
        self.in_login = True
        try:
            self.run_steps(self.sc.subs[self.sc.session.login], ctx)
            self.flush_input()
        finally:
            self.in_login = False
        self.login_seen = False
        if self.sc.session.detect and self.loc(self.sc.session.detect, ctx).count() > 0:
            raise FatalError("ログインできませんでした（ユーザーIDまたはパスワードを確認してください）")
        self.logins += 1
        self.session.save_state(self.state_key, self.context)

    # -- one record ------------------------------------------------------------------------
    def clean(self, text: str) -> str:
        """*text* without the secrets, the record's sensitive values and any My Number."""
        return _cleaner(frozenset(self.secret_values), tuple(self.sensitive_values))(text)

    def rendered_mask_targets(self, ctx: Context | None = None) -> list[str]:
        ctx = ctx or Context(targets=self.sc.targets)
        out = []
        for name in self.mask_targets:
            try:
                out.append(render_text(self.sc.targets[name], ctx))
            except TemplateError:  # e.g. ${loop.index} outside the loop: the page search covers it
                continue
        return out

    def evidence(self, result: RecordResult, key: str) -> None:
        base = self.artifacts / f"{result.index:03d}-{_slug(key)}-{result.status}"
        try:
            bw.masked_screenshot(self.page, Path(f"{base}.png"), mask_targets=self.rendered_mask_targets(),
                                 sensitive_values=self.sensitive_values)
            result.screenshot = f"{base}.png"
        except Exception as e:  # noqa: BLE001 - evidence must not mask the real error
            log.warning("no screenshot for record %s: %s", result.index, self.clean(bw.describe(e)))
        trace = self.tracer.end(Path(f"{base}.trace.zip")) if self.tracer else None
        result.trace = str(trace) if trace is not None and scrub_trace(trace, self.clean) else None

    def end_trace(self) -> None:
        if self.tracer:
            self.tracer.end(None)

    def run_record(self, index: int, record: dict[str, Any]) -> RecordResult:
        self.record_index = index
        key_field = self.sc.input.key
        key = str(record.get(self.eff.field_map.get(key_field, key_field), "")) if key_field else str(index)
        res = RecordResult(index=index, key=mask(key), status="application_error")
        self.sensitive_values = [str(record[f]) for f in self.sensitive_fields if record.get(f) not in (None, "")]
        if self.tracer:
            self.tracer.begin()
        start = time.perf_counter()
        policy = self.sc.record
        relogins = 0
        need_login = False
        while True:
            res.attempts += 1
            if self.batch is not None:
                self.batch.clear()  # nothing queued by a failed attempt is applied later
            ctx = self.context_for(record)
            self.server_error = None
            self.login_seen = False
            try:
                if need_login:
                    need_login = False
                    self.login(ctx)
                self.run_steps(self.sc.steps, ctx)
                self.flush_input()
                res.status = "entered"
                res.extracted = {k: self.clean(str(v)) for k, v in ctx.vars.items()}
                self.end_trace()
                break
            except AlreadyEntered as e:
                res.status, res.message = "skipped_already_entered", self.clean(str(e))
                self.end_trace()
                break
            except BusinessError as e:
                res.status, res.message = "business_error", self.clean(str(e))
                self.evidence(res, key)
                break
            except LoginRequired:
                relogins += 1
                res.attempts -= 1
                if relogins > policy.max_relogins:
                    res.status, res.message = "application_error", "ログイン後もログイン画面に戻されます"
                    self.evidence(res, key)
                    break
                need_login = True
                continue
            except FatalError:
                raise
            except (AppError, AssertionError, *bw.APPLICATION_ERRORS) as e:
                msg = str(e) if isinstance(e, AppError) else bw.describe(e)
                if res.attempts < policy.max_attempts:
                    log.info("record %s attempt %s: application error, retrying: %s", index, res.attempts, self.clean(msg))
                    # Backoff between attempts gives a struggling server room; this is
                    # not waiting for the page (that is Playwright's auto-wait).
                    time.sleep(policy.backoff_s * (2 ** (res.attempts - 1)))
                    if self.tracer:  # the retry is recorded with DOM snapshots (see RecordTracer)
                        self.tracer.begin(full=True)
                    continue
                res.status, res.message = "application_error", self.clean(f"{msg}（{res.attempts}回試行）")
                self.evidence(res, key)
                break
        res.seconds = round(time.perf_counter() - start, 3)
        return res


def _missing_fields(sc: Scenario, record: dict[str, Any], field_map: dict[str, str]) -> list[str]:
    out = []
    for name, f in sc.input.fields.items():
        key = field_map.get(name, name)
        if f.required and (key not in record or record[key] in (None, "", [])):
            out.append(name)
        elif f.type == "list" and key in record and record[key] is not None and not isinstance(record[key], list):
            out.append(f"{name} (must be a list)")
    return out


@lru_cache(maxsize=16)
def _cleaner(secrets: frozenset[str], sensitive: tuple[str, ...]) -> Callable[[str], str]:
    """One compiled cleaner per set of values: a record cleans many messages and a whole trace."""
    return make_cleaner([*secrets, *sensitive])


def _dry_record(r: _Runner, index: int, record: dict[str, Any]) -> RecordResult:
    """Render every template of every step for this record, touching no browser."""
    res = RecordResult(index=index, status="dry_run", key=mask(str(record.get(r.sc.input.key or "", index))))
    ctx = r.context_for(record)
    try:
        def visit(steps: list[StepBase]) -> None:
            for s in steps:
                for f in ("value", "text", "key", "message"):
                    if f in type(s).model_fields and isinstance(getattr(s, f), str):
                        render(getattr(s, f), ctx)
                if isinstance(s, If):
                    visit(s.then)
                    visit(s.else_)
                elif isinstance(s, ForEach) and s.for_each not in r.sc.targets:
                    for i, row in enumerate(render(s.for_each, ctx) or []):
                        ctx.rows[s.as_] = row if isinstance(row, dict) else {"value": row}
                        ctx.loop = {"index": i + 1, "index0": i}
                        visit(s.steps)
                elif isinstance(s, Call):
                    visit(r.sc.subs[s.call])
        visit(r.sc.steps)
        res.message = f"{sum(1 for _ in walk(r.sc.steps))} steps would run"
    except (TemplateError, FatalError) as e:
        res.status, res.message = "business_error", r.clean(str(e))
    return res


def run_scenario(name: str, tenant: TenantConfig, records: list[dict[str, Any]], *, artifacts_dir: Path,
                 secret: Callable[[str, str], str] = get_secret, browser: bw.BrowserSession | None = None,
                 dry_run: bool = False, scenarios_dir: Path | None = None,
                 on_record: Callable[[RecordResult], None] | None = None,
                 scenario: Scenario | None = None) -> ScenarioRunResult:
    """Enter *records* through the tenant's effective scenario; one RecordResult per record.

    ``browser`` is the worker's reused :class:`BrowserSession` (one is started and closed
    here when omitted). ``dry_run`` validates and renders everything without a browser.
    Raises ScenarioError / RpaConfigError for a broken scenario or configuration.
    """
    started = datetime.now(timezone.utc)
    t0 = time.perf_counter()
    base = scenario or load_scenario(name, scenarios_dir)
    eff = apply_override(base, tenant)
    system = resolve_system(eff, tenant, secret)
    artifacts = Path(artifacts_dir)
    artifacts.mkdir(parents=True, exist_ok=True)
    result = ScenarioRunResult(scenario=base.name, version=base.version, tenant_id=tenant.id, started_at=started,
                               dry_run=dry_run)
    own = browser is None and not dry_run
    session = browser or bw.BrowserSession()
    runner = _Runner(eff, tenant, system, artifacts, secret, session)
    pending: list[tuple[int, dict[str, Any]]] = []
    for i, rec in enumerate(records, start=1):
        missing = _missing_fields(base, rec, eff.field_map) if isinstance(rec, dict) else ["(not a mapping)"]
        if missing:
            key = str(rec.get(base.input.key or "", "")) if isinstance(rec, dict) else ""
            rr = RecordResult(index=i, key=mask(key), status="business_error",
                              message=f"入力データに必須項目がありません: {', '.join(missing)}")
            result.records.append(rr)
            if on_record:
                on_record(rr)
        else:
            pending.append((i, rec))
    try:
        if dry_run:
            for i, rec in pending:
                rr = _dry_record(runner, i, rec)
                result.records.append(rr)
                if on_record:
                    on_record(rr)
        elif pending:
            runner.open()
            fatal: str | None = None
            for i, rec in pending:
                if fatal is None:
                    try:
                        rr = runner.run_record(i, rec)
                    except FatalError as e:
                        fatal = runner.clean(str(e))
                        rr = RecordResult(index=i, status="application_error", message=fatal)
                        runner.evidence(rr, str(i))
                else:
                    rr = RecordResult(index=i, status="application_error", message=f"実行中止: {fatal}")
                result.records.append(rr)
                if on_record:
                    on_record(rr)
            traces = [r.trace for r in result.records if r.trace]
            result.trace = traces[-1] if traces else None
    finally:
        if not dry_run and pending:
            runner.close()
        if own:
            session.close()
    result.records.sort(key=lambda r: r.index)
    result.logins = runner.logins
    result.ended_at = datetime.now(timezone.utc)
    result.seconds = round(time.perf_counter() - t0, 3)
    return result
