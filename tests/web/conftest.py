"""Fixtures for the web tests: a seeded database, a live uvicorn server, real Chromium."""
from __future__ import annotations

import functools
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy.engine import Engine

from tenants import migrate
from tenants.config import TenantConfig
from tenants.db import make_engine, session_scope
from tenants.loader import load_all
from tenants.registry import sync_tenants
from tenants.users import Role, User, hash_password

TENANT_A = "nagano-shi"
TENANT_B = "obuse-machi"
PASSWORD = "kyodo-test-pass"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
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
def site(data_root: Path, engine: Engine) -> Site:
    """Both databases (the shared ``engine`` fixture), seeded with the two example tenants and users."""
    return Site(engine=engine, data_root=data_root, tenants=seed(engine))


@pytest.fixture
def sqlite_site(data_root: Path) -> Iterator[Site]:
    eng = make_engine(f"sqlite:///{data_root / 'kyodo.db'}")
    migrate.upgrade(eng)
    yield Site(engine=eng, data_root=data_root, tenants=seed(eng))
    eng.dispose()


class LiveServer:
    """uvicorn on a free loopback port in a thread (the browser talks real HTTP to it)."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                    lifespan="off", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live(sqlite_site: Site) -> Iterator[LiveServer]:
    from automation.web.app import create_app

    with LiveServer(create_app(sqlite_site.engine, data_root=sqlite_site.data_root)) as srv:
        yield srv


@pytest.fixture(scope="session")
def chromium():  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
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
