"""``kyodo db upgrade|status``."""
from __future__ import annotations

import typer

from automation.console import console
from tenants import migrate
from tenants.db import get_engine, session_scope
from tenants.loader import load_all
from tenants.registry import sync_tenants

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


def _safe_url() -> str:
    return get_engine().url.render_as_string(hide_password=True)


@db_app.command("upgrade")
def upgrade() -> None:
    """Apply pending migrations and mirror the valid tenant files into the tenant table."""
    revs = migrate.upgrade()
    with session_scope() as s:
        synced = sync_tenants(s, load_all())
    console.print(f"database {_safe_url()} at {', '.join(revs)}; tenants: {', '.join(synced) or 'none'}")


@db_app.command("status")
def status() -> None:
    """Show the current revisions and what is pending."""
    console.print(f"database: {_safe_url()}")
    console.print(f"current: {', '.join(migrate.current_revisions()) or '(empty)'}")
    pend = migrate.pending()
    console.print(f"pending: {', '.join(pend) or 'none'}")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
