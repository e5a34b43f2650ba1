"""Web UI: users (per tenant, with a role) and the clerks' field corrections.

Revision ID: web_0001_users
Revises: 0001_foundation
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "web_0001_users"
down_revision = "0001_foundation"
branch_labels = ("web",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_user",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenant.id"), nullable=True, index=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False, server_default=""),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("last_login_at", TS, nullable=True),
        sa.UniqueConstraint("tenant_id", "username", name="uq_web_user_tenant_username"),
    )
    op.create_table(
        "field_correction",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenant.id"), nullable=False, index=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id"), nullable=False, index=True),
        sa.Column("field", sa.String(100), nullable=False),
        sa.Column("field_type", sa.String(32), nullable=False, server_default=""),
        sa.Column("ocr_value", sa.JSON(), nullable=True),
        sa.Column("corrected_value", sa.JSON(), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=False, server_default="0"),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("web_user.id"), nullable=True),
        sa.Column("username", sa.String(64), nullable=False, server_default=""),
        sa.Column("time", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("field_correction")
    op.drop_table("web_user")
