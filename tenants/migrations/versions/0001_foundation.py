"""Foundation tables: tenant, document, job, usage_event, audit_event.

Revision ID: 0001_foundation
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "tenant",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenant.id"), nullable=False, index=True),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("media_type", sa.String(), nullable=False, server_default=""),
        sa.Column("route", sa.String(), nullable=False, server_default=""),
        sa.Column("template", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False, index=True),
        sa.Column("pages", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("ocr_result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("tenant_id", "sha256", name="uq_document_tenant_sha256"),
    )
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("tenant_id", sa.String(64), sa.ForeignKey("tenant.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False, index=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer(), nullable=False, server_default="3"),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("heartbeat_at", TS, nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("document.id"), nullable=True, index=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("idempotency_key", name="uq_job_idempotency_key"),
    )
    op.create_index("ix_job_dispatch", "job", ["status", "priority", "created_at"])
    op.create_table(
        "usage_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(64), sa.ForeignKey("tenant.id"), nullable=False),
        sa.Column("time", TS, nullable=False),
        sa.Column("value", sa.Float(), nullable=False, server_default="1"),
        sa.Column("job_id", sa.Integer(), nullable=True, index=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.UniqueConstraint("source", "event_id", name="uq_usage_event_source_id"),
    )
    op.create_index("ix_usage_event_subject_type_time", "usage_event", ["subject", "type", "time"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("time", TS, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=True, index=True),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False, index=True),
        sa.Column("target", sa.String(), nullable=False, server_default=""),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("hash", sa.String(64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    for table in ("audit_event", "usage_event", "job", "document", "tenant"):
        op.drop_table(table)
