"""Usage events (metering for jointly licensed use).

Events are CloudEvents-shaped (id, source, type, subject = tenant, time, data) and
unique on (source, event_id): a resent event is counted once. They are written through
the caller's session, so they commit (or roll back) in the same transaction as the job
state change that caused them; nothing here commits.

Deduplication is ``INSERT … ON CONFLICT (source, event_id) DO NOTHING`` rather than
"select, then insert": it is one statement, and two workers racing on the same event
(a retried job next to a zombie) never abort each other's transaction with a unique
violation on PostgreSQL.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session

from .models import UsageEvent, utcnow
from .privacy import mask, mask_value

EVENT_TYPES = (
    "ocr.page", "ocr.field", "ocr.review", "rpa.record", "rpa.robot_seconds", "rpa.run",
    "asr.audio_seconds", "storage.bytes",
)
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class UsageIn(BaseModel):
    """A usage event as a producer hands it in."""

    event_id: str = Field(min_length=1, max_length=200)
    source: str = Field(min_length=1, max_length=200, description="e.g. 'kyodo/job/42'")
    type: str = Field(min_length=1, max_length=64)
    subject: str = Field(description="tenant id")
    value: float = 1.0
    time: datetime = Field(default_factory=utcnow)
    job_id: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _type(cls, v: str) -> str:
        if not _TYPE_RE.match(v):
            raise ValueError(f"usage type must be dotted lower case such as 'ocr.page' (known: {', '.join(EVENT_TYPES)})")
        return v

    @field_validator("time")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        # Stored in UTC: SQLite keeps the wall clock without an offset, so normalise here.
        return v.replace(tzinfo=timezone.utc) if v.tzinfo is None else v.astimezone(timezone.utc)

    def row(self) -> dict[str, Any]:
        """Column values as stored: personal data masked in the id, source and data."""
        return {
            "event_id": mask(self.event_id), "source": mask(self.source), "type": self.type, "subject": self.subject,
            "time": self.time, "value": self.value, "job_id": self.job_id, "data": mask_value(self.data),
        }


_UPSERT: dict[str, Any] = {}


def _upsert(session: Session) -> Any:
    """The dedup insert for the session's dialect, built once (a Core statement: its compiled form is cached)."""
    dialect = session.get_bind().dialect.name
    stmt = _UPSERT.get(dialect)
    if stmt is None:
        if dialect not in ("postgresql", "sqlite"):
            raise NotImplementedError(f"usage events need SQLite or PostgreSQL, not {dialect}")
        table = UsageEvent.__table__  # type: ignore[attr-defined]
        ins = (postgresql if dialect == "postgresql" else sqlite).insert(table)
        stmt = _UPSERT[dialect] = ins.on_conflict_do_nothing(index_elements=["source", "event_id"]).returning(table.c.id)
    return stmt


def _check_tenant(session: Session, subjects: Iterable[str]) -> None:
    tid = session.info.get("kyodo_tenant_id")  # tenants.scope.TENANT_KEY (scope imports the engine; keep this light)
    if tid is not None:
        other = sorted({s for s in subjects if s != tid})
        if other:
            from .scope import CrossTenantError

            raise CrossTenantError(f"usage for tenant(s) {', '.join(other)} recorded in a session of '{tid}'")


def add_usage(session: Session, event: UsageIn) -> int | None:
    """Write *event* in the caller's transaction; the new row's id, or None for a resend.

    The lean path for producers in a loop: no ORM object is built. Never commits.
    """
    _check_tenant(session, [event.subject])
    return session.execute(_upsert(session), event.row()).scalar()  # type: ignore[call-overload]


def record_usage(session: Session, event: UsageIn) -> UsageEvent:
    """Write *event* in the caller's transaction unless (source, event_id) is already stored.

    Returns the stored row (the earlier one for a resend). Never commits.
    """
    _check_tenant(session, [event.subject])
    values = event.row()
    new_id = session.execute(_upsert(session), values).scalar()  # type: ignore[call-overload]
    if new_id is not None:
        # The row is exactly what was inserted: build it the way the ORM loads a row (no
        # __init__ validation, ~10x cheaper) and attach it as persistent without reading it back.
        row = UsageEvent.__mapper__.class_manager.new_instance()  # type: ignore[attr-defined]
        for key, value in (("id", new_id), *values.items()):
            set_committed_value(row, key, value)
        make_transient_to_detached(row)
        session.add(row)
        return row
    existing = select(UsageEvent).where(UsageEvent.source == values["source"], UsageEvent.event_id == values["event_id"])
    return session.execute(existing.execution_options(kyodo_unscoped=True)).scalars().one()  # type: ignore[call-overload]


def record_usage_many(session: Session, events: Iterable[UsageIn]) -> int:
    """Write many events in one statement (e.g. ``ocr.field`` per field); returns how many were new."""
    rows = [e.row() for e in events]
    if not rows:
        return 0
    _check_tenant(session, [r["subject"] for r in rows])
    return len(session.execute(_upsert(session), rows).all())  # type: ignore[call-overload]
