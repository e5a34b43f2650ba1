"""Shared fixtures: an isolated data root per test, and the database on SQLite and PostgreSQL.

PostgreSQL tests use the real server on 127.0.0.1:5432 (db ``test``), each test run in its
own schema so parallel runs never see each other's tables.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tenants import migrate
from tenants.db import make_engine, reset_engine_cache
from tenants.settings import reset_settings_cache

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
PG_URL = os.environ.get("KYODO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("KYODO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _service_missing(what: str, why: str) -> None:
    """Skip where a service is absent (a user's laptop); in CI a missing service is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI but not reachable: {why}")
    pytest.skip(f"{what} not reachable: {why}")


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh KYODO_DATA_ROOT (SQLite database, tenant folders, models cache stays shared)."""
    root = tmp_path / "var"
    root.mkdir()
    monkeypatch.setenv("KYODO_DATA_ROOT", str(root))
    monkeypatch.setenv("KYODO_MODEL_DIR", str(PROJECT / "var" / "models"))
    monkeypatch.delenv("KYODO_DATABASE_URL", raising=False)
    monkeypatch.delenv("KYODO_QUEUE_URL", raising=False)
    reset_settings_cache()
    reset_engine_cache()
    yield root
    reset_settings_cache()
    reset_engine_cache()


def _pg_engine(schema: str) -> Engine:
    return make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A throw-away schema on the real PostgreSQL server."""
    schema = f"kyodo_t_{uuid.uuid4().hex[:10]}"
    try:
        admin = make_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as e:  # noqa: BLE001
        _service_missing("PostgreSQL at 127.0.0.1:5432", str(e).splitlines()[0])
    yield schema
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, data_root: Path) -> Iterator[Engine]:
    """A migrated database: SQLite under the test's data root, or a PostgreSQL schema."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{data_root / 'kyodo.db'}")
    else:
        eng = _pg_engine(request.getfixturevalue("pg_schema"))
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared is absent (a user's clone has no shared test material)")
    return SHARED
