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

    def __init__(self, *, headless: bool = True, slow_mo: float = 0, trace: bool = True) -> None:
        self.headless = headless
        self.trace = trace  # record a Playwright trace per record; kept only for failed ones
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
        if self.trace:
            # DOM snapshots only: the screencast (screenshots=True) costs more than the
            # whole record and the failure screenshot is saved separately anyway.
            ctx.tracing.start(screenshots=False, snapshots=True)
        return ctx

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


def restart_trace(context: BrowserContext, enabled: bool = True) -> None:
    if enabled:
        try:
            context.tracing.start_chunk()
        except PlaywrightError as e:
            log.warning("could not start a trace chunk: %s", describe(e))


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


def save_trace(context: BrowserContext, path: Path | None, enabled: bool = True) -> None:
    """End the record's trace chunk: written to *path* (a failure) or discarded (None)."""
    if not enabled:
        return
    try:
        if path is None:
            context.tracing.stop_chunk()
        else:
            context.tracing.stop_chunk(path=str(path))
    except PlaywrightError as e:  # a trace is evidence, never a reason to fail the run
        log.warning("could not save the trace: %s", describe(e))
