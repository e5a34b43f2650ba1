"""Fixtures for the web tests: a seeded database, a live uvicorn server, real Chromium."""
from __future__ import annotations

import functools
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from automation.web.server import BackgroundServer
from tenants import migrate
from tenants.config import TenantConfig
from tenants.db import make_engine, session_scope
from tenants.loader import load_all
from tenants.registry import sync_tenants
from tenants.settings import PROJECT_ROOT, reset_settings_cache
from tenants.users import Role, User, hash_password

PROJECT_TENANTS = PROJECT_ROOT / "tenants"
TENANT_A = "nagano-shi"
TENANT_B = "obuse-machi"
PASSWORD = "kyodo-test-pass"
VIEWPORT = {"width": 1366, "height": 768}


@dataclass
class Site:
    engine: Engine
    data_root: Path
    tenants: dict[str, TenantConfig]


@functools.lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 is slow on purpose: hash once per test session


def seed(engine: Engine) -> dict[str, TenantConfig]:
    """Mirror the example tenants and add four users (password PASSWORD)."""
    report = load_all()
    with session_scope(engine) as s:
        sync_tenants(s, report)
        for tenant, name, role in [(TENANT_A, "clerk-a", Role.clerk), (TENANT_B, "clerk-b", Role.clerk),
                                   (TENANT_A, "admin-a", Role.tenant_admin), (None, "root", Role.platform_admin)]:
            s.add(User(tenant_id=tenant, username=name, role=role, password_hash=_password_hash(), display_name=f"{name} さん"))
    return {tid: t.config for tid, t in report.tenants.items()}


@pytest.fixture
def tenants_dir(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the example tenant files (a test may point a tenant at its sandbox)."""
    d = data_root.parent / "tenants"
    d.mkdir()
    for f in PROJECT_TENANTS.glob("*.toml"):
        shutil.copy(f, d / f.name)
    monkeypatch.setenv("KYODO_TENANTS_DIR", str(d))
    reset_settings_cache()
    return d


@pytest.fixture
def site(tenants_dir: Path, data_root: Path, engine: Engine) -> Site:
    """Both databases (the shared ``engine`` fixture), seeded with the two example tenants and users."""
    return Site(engine=engine, data_root=data_root, tenants=seed(engine))


@pytest.fixture
def sqlite_site(tenants_dir: Path, data_root: Path) -> Iterator[Site]:
    eng = make_engine(f"sqlite:///{data_root / 'kyodo.db'}")
    migrate.upgrade(eng)
    yield Site(engine=eng, data_root=data_root, tenants=seed(eng))
    eng.dispose()


LiveServer = BackgroundServer  # uvicorn on a free loopback port in a thread


@pytest.fixture
def live(sqlite_site: Site) -> Iterator[LiveServer]:
    from automation.web.app import create_app

    with LiveServer(create_app(sqlite_site.engine, data_root=sqlite_site.data_root)) as srv:
        yield srv


@pytest.fixture(scope="session")
def chromium():  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    from automation.rpa.browser import CHROMIUM, launch_browser

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as p:
        browser = launch_browser(p)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live: LiveServer):  # noqa: ANN001, ANN201
    context = chromium.new_context(viewport=VIEWPORT, locale="ja-JP", base_url=live.url)
    context.set_default_timeout(10_000)
    pg = context.new_page()
    yield pg
    context.close()


def login(page, username: str, tenant: str | None = TENANT_A, password: str = PASSWORD) -> None:  # noqa: ANN001
    page.goto("/login")
    page.select_option("#tenant", tenant or "")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
