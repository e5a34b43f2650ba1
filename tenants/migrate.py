"""Schema migrations (Alembic), run programmatically by ``kyodo db upgrade``.

Each capability adds its own revision on a branch from ``0001_foundation``; upgrading
to ``heads`` applies them all, so parallel work never fights over one linear chain.
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from .db import get_engine
from .rls import ensure_rls

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine | None = None) -> list[str]:
    """Apply all pending migrations; return the revisions now current."""
    engine = engine or get_engine()
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")
        # Branches may add tenant tables after the RLS migration ran; cover them too (PostgreSQL only).
        ensure_rls(conn)
    return current_revisions(engine)


def current_revisions(engine: Engine | None = None) -> list[str]:
    engine = engine or get_engine()
    with engine.connect() as conn:
        return sorted(MigrationContext.configure(conn).get_current_heads())


def pending(engine: Engine | None = None) -> list[str]:
    engine = engine or get_engine()
    script = ScriptDirectory.from_config(alembic_config(engine))
    heads = set(script.get_heads())
    return sorted(heads - set(current_revisions(engine)))
