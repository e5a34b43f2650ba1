"""Usage events (metering for jointly licensed use).

Events are CloudEvents-shaped and unique on (source, event_id): a resent event is
counted once. They are added to the caller's session so they commit in the same
transaction as the job state change that caused them.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlmodel import Session

from .models import UsageEvent, utcnow
from .privacy import mask_value

EVENT_TYPES = (
    "ocr.page", "ocr.field", "ocr.review", "rpa.record", "rpa.robot_seconds", "rpa.run",
    "asr.audio_seconds", "storage.bytes",
)


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


def record_usage(session: Session, event: UsageIn) -> UsageEvent:
    """Add *event* to the session unless (source, event_id) is already stored; never flushes twice."""
    existing = session.exec(  # type: ignore[call-overload]
        select(UsageEvent).where(UsageEvent.source == event.source, UsageEvent.event_id == event.event_id)
    ).scalars().first()
    if existing is not None:
        return existing
    for pending in session.new:
        if isinstance(pending, UsageEvent) and (pending.source, pending.event_id) == (event.source, event.event_id):
            return pending
    row = UsageEvent(**event.model_dump(exclude={"data"}), data=mask_value(event.data))
    session.add(row)
    return row
