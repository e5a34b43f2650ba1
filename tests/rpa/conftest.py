"""RPA fixtures: one real Chromium for the whole test session, a fresh sandbox per test."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from automation.rpa import BrowserSession, ScenarioRunResult, run_scenario
from automation.sandbox import SandboxHandle, start_sandbox
from automation.sandbox.samples import recipients_for
from tenants.config import TenantConfig
from tenants.loader import get_tenant

PROJECT = Path(__file__).resolve().parents[2]
TENANT_OF = {"a": "nagano-shi", "b": "obuse-machi"}
PASSWORD = "sandbox-pass"


@pytest.fixture(scope="package")
def browser() -> Iterator[BrowserSession]:
    # Package scope, not session: Playwright's sync API allows one driver per thread, and
    # other areas' tests start their own after this package has finished.
    with BrowserSession() as b:
        yield b


def tenant_for(variant: str, url: str) -> TenantConfig:
    """The example tenant on this variant, pointed at a running sandbox."""
    cfg = get_tenant(TENANT_OF[variant], tenants_dir=PROJECT / "tenants").config.model_copy(deep=True)
    system = cfg.systems["jidou_teate"]
    cfg.systems["jidou_teate"] = system.model_copy(update={"base_url": url})
    return cfg


def secret(_tenant: str, name: str) -> str:
    assert name == "jidou_teate_password"
    return PASSWORD


def enter(tenant: TenantConfig, records: list[dict], tmp_path: Path, browser: BrowserSession, **kw) -> ScenarioRunResult:
    """The shared 現況届 scenario over *records* with the sandbox password, evidence under *tmp_path*."""
    return run_scenario("child_allowance_status_report", tenant, records, artifacts_dir=tmp_path, secret=secret,
                        browser=browser, **kw)


def enter_with_faults(sandbox: SandboxHandle, records: list[dict], tmp_path: Path, browser: BrowserSession,
                      **faults) -> ScenarioRunResult:
    """*records* entered into a variant-a sandbox that holds them and misbehaves as *faults* say."""
    sandbox.seed(recipients_for(records))
    sandbox.set_faults(**faults)
    return enter(tenant_for("a", sandbox.url), records, tmp_path, browser)


@pytest.fixture(params=["a", "b"])
def variant(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def sandbox(variant: str) -> Iterator[SandboxHandle]:
    user = {"a": "nagano-robot", "b": "obuse-robot"}[variant]
    with start_sandbox(variant, username=user, password=PASSWORD) as sb:
        yield sb


@pytest.fixture
def sandbox_a() -> Iterator[SandboxHandle]:
    with start_sandbox("a", username="nagano-robot", password=PASSWORD) as sb:
        yield sb
