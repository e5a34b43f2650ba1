"""Runner: job pool/dispatch/backoff columns and licence seats.

Revision ID: 0002_runner
Revises: 0001_foundation
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_runner"
down_revision = "0001_foundation"
branch_labels = ("runner",)
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("job") as batch:
        batch.add_column(sa.Column("pool", sa.String(64), nullable=True))
        batch.add_column(sa.Column("dispatched_at", TS, nullable=True))
        batch.add_column(sa.Column("run_after", TS, nullable=True))
    op.create_index("ix_job_pool", "job", ["pool"])
    # The claim query: queued jobs of a kind, oldest first, per tenant.
    op.create_index("ix_job_claim", "job", ["kind", "status", "tenant_id"])
    op.create_table(
        "licence_seat",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("pool", sa.String(64), nullable=False, index=True),
        sa.Column("seat_no", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        sa.Column("held_for", sa.String(64), nullable=True),
        sa.Column("acquired_at", TS, nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.UniqueConstraint("pool", "seat_no", name="uq_licence_seat_pool_no"),
    )


def downgrade() -> None:
    op.drop_table("licence_seat")
    op.drop_index("ix_job_claim", table_name="job")
    op.drop_index("ix_job_pool", table_name="job")
    with op.batch_alter_table("job") as batch:
        batch.drop_column("run_after")
        batch.drop_column("dispatched_at")
        batch.drop_column("pool")
