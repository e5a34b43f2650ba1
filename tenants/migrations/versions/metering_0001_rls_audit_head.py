"""Metering branch: audit chain head (serialises audit writers) and PostgreSQL row-level security.

Revision ID: metering_0001
Revises: 0001_foundation

RLS is enabled and FORCEd on the foundation tenant tables and on any table with a
NOT NULL ``tenant_id`` that exists when this runs (see ``tenants/rls.py``; call
``tenants.rls.ensure_rls(engine)`` after upgrading to cover tables added later by
other branches). On SQLite the RLS part does nothing: the tenant session's ORM
scoping is the isolation there.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tenants.rls import FOUNDATION_TABLES, disable_rls, ensure_rls

revision = "metering_0001"
down_revision = "0001_foundation"
branch_labels = ("metering",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_id", sa.Integer(), nullable=True),
        sa.Column("hash", sa.String(64), nullable=False, server_default=""),
    )
    conn = op.get_bind()
    last = conn.execute(sa.text("SELECT id, hash FROM audit_event ORDER BY id DESC LIMIT 1")).first()
    conn.execute(sa.text("INSERT INTO audit_chain_head (id, seq, last_id, hash) VALUES (1, 0, :last, :h)"),
                 {"last": last[0] if last else None, "h": last[1] if last else ""})
    # Metering reads by type and time across tenants (allocation, peak seats).
    op.create_index("ix_usage_event_type_time", "usage_event", ["type", "time"])
    ensure_rls(conn)


def downgrade() -> None:
    conn = op.get_bind()
    for table in FOUNDATION_TABLES:
        disable_rls(conn, table)
    op.drop_index("ix_usage_event_type_time", table_name="usage_event")
    op.drop_table("audit_chain_head")
