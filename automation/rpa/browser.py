"""The one module that talks to Playwright and Chromium.

It owns the launch arguments (Debian's ``/usr/bin/chromium``; ``playwright install`` is
not available offline), turns target strings into locators, classifies Playwright's
exceptions into application errors, and keeps login states between runs. The executor
never imports Playwright itself, so a fault-injecting double can replace this seam.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, Error as PlaywrightError, Locator, Page, Playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

from tenants.privacy import MY_NUMBER_RE

log = logging.getLogger(__name__)

CHROMIUM = os.environ.get("KYODO_CHROMIUM", "/usr/bin/chromium")
# No GPU, no phoning home, no first-run UI; --no-sandbox because workers often run as
# root in containers where Chromium's user-namespace sandbox is unavailable.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
APPLICATION_ERRORS = (PlaywrightTimeout, PlaywrightError)
_DETACHED_HINTS = ("detached", "Target closed", "Execution context was destroyed", "net::ERR_", "Navigation failed")


class _PlaywrightPerThread(threading.local):
    """Playwright's sync API allows one driver per thread; sessions in a thread share it."""

    pw: Playwright | None = None
    users: int = 0


_local = _PlaywrightPerThread()


def _acquire_playwright() -> Playwright:
    if _local.pw is None:
        _local.pw = sync_playwright().start()
    _local.users += 1
    return _local.pw


def _release_playwright() -> None:
    _local.users -= 1
    if _local.users <= 0 and _local.pw is not None:
        _local.pw.stop()
        _local.pw, _local.users = None, 0


def launch_browser(pw: Playwright, *, headless: bool = True, slow_mo: float = 0) -> Browser:
    return pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=headless, slow_mo=slow_mo or None)


class BrowserSession:
    """One Chromium per worker, reused across records and runs.

    Each run gets a fresh context (cookies never leak between municipalities); the login
    state (``storage_state``) of each tenant+system is kept here and given to its next
    context, until the system shows its login page again.
    """

    def __init__(self, *, headless: bool = True, slow_mo: float = 0, trace: bool = True,
                 trace_snapshots: bool = False) -> None:
        self.headless = headless
        self.trace = trace  # record a Playwright trace per record; kept only for failed ones
        # DOM snapshots after every action cost ~15% of a record's time; by default a record's
        # first attempt records actions + network only and a retry records them (RecordTracer).
        self.trace_snapshots = trace_snapshots
        self.slow_mo = slow_mo
        self._pw: Playwright | None = None
        self._browser: Browser | None = None
        self._states: dict[str, dict[str, Any]] = {}
        self.launches = 0

    def start(self) -> "BrowserSession":
        if self._browser is None or not self._browser.is_connected():
            if self._pw is None:
                self._pw = _acquire_playwright()
            self._browser = launch_browser(self._pw, headless=self.headless, slow_mo=self.slow_mo)
            self.launches += 1
        return self

    @property
    def browser(self) -> Browser:
        self.start()
        assert self._browser is not None
        return self._browser

    def new_context(self, state_key: str, *, default_timeout_ms: int) -> BrowserContext:
        ctx = self.browser.new_context(storage_state=self._states.get(state_key), locale="ja-JP",
                                       timezone_id="Asia/Tokyo", viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(default_timeout_ms)
        ctx.set_default_navigation_timeout(default_timeout_ms)
        return ctx

    def tracer(self, context: BrowserContext) -> "RecordTracer":
        return RecordTracer(context, enabled=self.trace, snapshots=self.trace_snapshots)

    def has_state(self, state_key: str) -> bool:
        return state_key in self._states

    def save_state(self, state_key: str, context: BrowserContext) -> None:
        self._states[state_key] = context.storage_state()

    def forget_state(self, state_key: str) -> None:
        self._states.pop(state_key, None)

    def close(self) -> None:
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            self._browser = None
            if self._pw is not None:
                self._pw = None
                _release_playwright()

    def __enter__(self) -> "BrowserSession":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def locate(page: Page, selector: str) -> Locator:
    """A target string -> locator. Besides Playwright selectors (CSS, ``text=``, ``xpath=``):
    ``label:TEXT`` (form control by its label, exact), ``role:ROLE:NAME``, ``text:TEXT`` (exact),
    ``placeholder:TEXT``, ``testid:ID``."""
    kind, _, rest = selector.partition(":")
    if kind == "label" and rest:
        return page.get_by_label(rest, exact=True)
    if kind == "role" and rest:
        role, _, name = rest.partition(":")
        return page.get_by_role(role, name=name, exact=True) if name else page.get_by_role(role)  # type: ignore[arg-type]
    if kind == "text" and rest:
        return page.get_by_text(rest, exact=True)
    if kind == "placeholder" and rest:
        return page.get_by_placeholder(rest, exact=True)
    if kind == "testid" and rest:
        return page.get_by_test_id(rest)
    return page.locator(selector)


class RecordTracer:
    """One Playwright trace chunk per record on a run's context.

    Two depths: *actions* (every call with its parameters and timing, console, and the
    network log with the pages the system returned) and *full* (plus a DOM snapshot
    before and after every action). Full costs ~15% of a record's time, so by default a
    record starts with actions only and :meth:`begin` with ``full=True`` (used for an
    application-error retry) switches the context to full snapshots for that attempt: a
    record that fails for good leaves a full trace of its last attempt. Business errors
    (the system's own message) keep the actions trace plus the failure screenshot.
    The screencast (screenshots=True) is never recorded: it costs more than a record.
    """

    def __init__(self, context: BrowserContext, *, enabled: bool, snapshots: bool = False) -> None:
        self.context = context
        self.enabled = enabled
        self.default_snapshots = snapshots
        self._snapshots: bool | None = None  # the mode tracing was started in; None: not started
        self._chunk = False

    def begin(self, *, full: bool = False) -> None:
        """Start the record's (or the retry's) chunk, discarding an unfinished one."""
        if not self.enabled:
            return
        want = full or self.default_snapshots
        try:
            if self._chunk:
                self.context.tracing.stop_chunk()
                self._chunk = False
            if self._snapshots is not None and self._snapshots != want:
                # The snapshot option is fixed per tracing session: switching costs a stop+start,
                # which only happens around a retry.
                self.context.tracing.stop()
                self._snapshots = None
            if self._snapshots is None:
                self.context.tracing.start(screenshots=False, snapshots=want)  # also starts a chunk
                self._snapshots = want
            else:
                self.context.tracing.start_chunk()
            self._chunk = True
        except PlaywrightError as e:  # a trace is evidence, never a reason to fail the run
            log.warning("could not start a trace chunk: %s", describe(e))

    def end(self, path: Path | None = None) -> Path | None:
        """End the chunk: written to *path* (a failure) or discarded (None). Returns the file."""
        if not (self.enabled and self._chunk):
            return None
        self._chunk = False
        try:
            if path is None:
                self.context.tracing.stop_chunk()
                return None
            self.context.tracing.stop_chunk(path=str(path))
            return path if path.exists() else None
        except PlaywrightError as e:
            log.warning("could not save the trace: %s", describe(e))
            return None

    def close(self) -> None:
        if self.enabled and self._snapshots is not None:
            try:
                self.context.tracing.stop()
            except PlaywrightError as e:
                log.warning("could not stop tracing: %s", describe(e))
            self._snapshots, self._chunk = None, False


def set_checked(locator: Locator, checked: bool, timeout_ms: float) -> None:
    """Set a checkbox or radio the keyboard way, verified, with the pointer as the fallback.

    Playwright's ``set_checked`` clicks like a mouse user: scroll, wait for two stable
    animation frames, hit-test, three mouse events, re-read the state (~4x the time of a
    fill). Space on the focused control is the keyboard user's equivalent (the browser
    fires the same click/input/change events). The state is read before and after, so
    nothing is toggled blindly; a control that cannot take the focus (hidden, disabled) or
    a custom widget that ignores Space gets Playwright's pointer ``set_checked``.
    """
    try:
        # One round trip reads a native checkbox's state and, if it must change, focuses it.
        state = locator.evaluate_all(_CHECK_FOCUS_JS, checked)
    except PlaywrightError:
        state = None
    if state == "ok":
        return
    done = False
    if state == "focused":
        try:
            # Space goes to whatever has the focus, so it is pressed only when this control
            # has it (a hidden or disabled one cannot): never into the field filled before.
            locator.page.keyboard.press("Space")
            done = locator.is_checked(timeout=timeout_ms) == checked
        except PlaywrightError:
            done = False
    if not done:
        locator.set_checked(checked, timeout=timeout_ms)


# Exactly one native checkbox or radio (anything else, or none yet: Playwright's own path with
# its auto-wait and strictness errors): "ok" when it already has the wanted state, "focused"
# when it took the focus, null otherwise.
_CHECK_FOCUS_JS = """(els, want) => {
  if (els.length !== 1) return null;
  const el = els[0];
  if (!(el instanceof HTMLInputElement) || !['checkbox', 'radio'].includes(el.type)) return null;
  if (el.checked === want) return 'ok';
  if (el.disabled) return null;
  el.focus();
  return el.ownerDocument.activeElement === el ? 'focused' : null;
}"""


def shows_text(locator: Locator, text: str, timeout_ms: float) -> bool:
    """Whether *locator* comes to contain *text* within the timeout (one auto-retrying call)."""
    try:
        expect(locator).to_contain_text(text, timeout=timeout_ms)
        return True
    except AssertionError:
        return False


def is_application_error(exc: BaseException) -> bool:
    return isinstance(exc, APPLICATION_ERRORS)


def describe(exc: BaseException) -> str:
    """First line of a Playwright error (the call log after it is noise for a clerk's report)."""
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if isinstance(exc, PlaywrightTimeout):
        return f"timeout: {first}"
    if any(h in str(exc) for h in _DETACHED_HINTS):
        return f"browser: {first}"
    return first


# Marks, for the failure screenshot's mask, every element that shows a My Number (the pattern of
# tenants.privacy, passed in) or one of the record's sensitive values: input/textarea values, and
# the innermost element whose text holds one (so a number split over <span>s in one cell is still covered).
_MARK_SENSITIVE_JS = r"""([values, attr, pattern]) => {
  const re = new RegExp(pattern);
  const hit = (t) => !!t && (re.test(t) || values.some((v) => t.includes(v)));
  let n = 0;
  const mark = (el) => { el.setAttribute(attr, ""); n++; };
  for (const el of document.querySelectorAll("input, textarea")) if (hit(el.value)) mark(el);
  for (const el of document.querySelectorAll("body *")) {
    if (el.matches("script, style, template")) continue;
    const text = el.textContent || "";
    if (text.length > 5000 || !hit(text.replace(/\s+/g, " "))) continue;
    if ([...el.children].some((c) => hit((c.textContent || "").replace(/\s+/g, " ")))) continue;
    mark(el);
  }
  return n;
}"""
MASK_ATTR = "data-kyodo-masked"


def masked_screenshot(page: Page, path: Path, *, mask_targets: list[str] = (), sensitive_values: list[str] = (),
                      full_page: bool = True) -> None:
    """A screenshot with every field or text that holds a My Number painted over.

    *mask_targets* are the target strings of the fields the scenario fills with sensitive
    values (masked even when empty or not yet a full 12 digits); the page is also searched for
    anything that looks like a My Number or equals a sensitive value (a confirmation page
    echoes it as text). Playwright's ``mask`` paints the boxes of those elements over.
    """
    values = [v for v in sensitive_values if len(v) >= 4]
    try:
        page.evaluate(_MARK_SENSITIVE_JS, [values, MASK_ATTR, MY_NUMBER_RE.pattern])
    except PlaywrightError as e:
        # Without the search, mask every text input rather than risk an unmasked number.
        log.warning("could not search the page for personal data: %s", describe(e))
        mask_targets = [*mask_targets, "input, textarea"]
    masks = [page.locator(f"[{MASK_ATTR}]")] + [locate(page, t) for t in mask_targets]
    page.screenshot(path=str(path), full_page=full_page, mask=masks, animations="disabled")


# A native link or button that is the one match, enabled, on screen and not covered by
# another element at its centre (Playwright's hit-target check), scrolled into view and focused.
_ACTIVATE_JS = """els => {
  if (els.length !== 1) return false;
  const el = els[0];
  if (!el.matches('a[href], button, input[type=submit], input[type=button], input[type=image], input[type=reset]')
      || el.matches(':disabled')) return false;
  el.scrollIntoView({block: 'nearest', inline: 'nearest'});
  const r = el.getBoundingClientRect();
  if (r.width < 1 || r.height < 1) return false;
  const hit = el.ownerDocument.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!hit || !(hit === el || el.contains(hit))) return false;
  el.focus();
  return el.ownerDocument.activeElement === el;
}"""


def click(locator: Locator, timeout_ms: float) -> None:
    """Click a link or button the keyboard way where that is exactly equivalent, else with the pointer.

    Playwright's pointer click waits for two stable animation frames, hit-tests, then sends
    three mouse events (~35 ms, the largest share of a record after the page loads). For a
    native link or button, Enter on the focused element is what a keyboard user does and the
    browser runs the same activation (click event, form submission, navigation), so that is
    used when one round trip confirms the element is the single match, enabled, visible and
    not covered at its centre. Anything else (custom widgets, overlays, an element not there
    yet) takes Playwright's click with its auto-wait and its error messages.
    """
    try:
        ready = locator.evaluate_all(_ACTIVATE_JS)
    except PlaywrightError:
        ready = False
    if ready:
        # locator.press waits, like click, for a navigation it starts to commit.
        locator.press("Enter", timeout=timeout_ms)
    else:
        locator.click(timeout=timeout_ms)
