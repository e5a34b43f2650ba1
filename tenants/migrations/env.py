"""Alembic environment: the URL comes from Kyodo's settings (or the caller's config)."""
from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from tenants.db import get_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
connection = config.attributes.get("connection")


def run() -> None:
    if connection is not None:
        context.configure(connection=connection, target_metadata=SQLModel.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = get_engine(url or None)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=SQLModel.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        conn.commit()


run()
