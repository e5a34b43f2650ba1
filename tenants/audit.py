"""Audit log: who did what and when. Append-only and hash-chained: each row's hash
covers its content and the previous row's hash, so an edited or deleted row breaks
the chain (``kyodo audit verify``)."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlmodel import Session

from .models import AuditEvent, utcnow
from .privacy import mask, mask_value


def _canonical(row: AuditEvent) -> bytes:
    t = row.time
    if t.tzinfo is None:  # SQLite returns naive datetimes; they were stored as UTC
        t = t.replace(tzinfo=timezone.utc)
    body = {
        "time": t.astimezone(timezone.utc).isoformat(timespec="microseconds"),
        "tenant_id": row.tenant_id,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "detail": row.detail,
        "prev_hash": row.prev_hash,
    }
    return json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def row_hash(row: AuditEvent) -> str:
    return hashlib.sha256(_canonical(row)).hexdigest()


def _last_hash(session: Session) -> str:
    # The chain is platform-wide, so this read is exempt from tenant scoping.
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1).execution_options(kyodo_unscoped=True)  # type: ignore[union-attr]
    last = session.exec(stmt).scalars().first()  # type: ignore[call-overload]
    return last.hash if last else ""


def audit(
    session: Session,
    action: str,
    *,
    actor: str = "system",
    tenant_id: str | None = None,
    target: str = "",
    detail: dict[str, Any] | None = None,
    time: datetime | None = None,
) -> AuditEvent:
    """Append an audit event in the caller's transaction (flushed so the next one chains on it)."""
    row = AuditEvent(
        time=time or utcnow(),
        tenant_id=tenant_id,
        actor=actor,
        action=action,
        target=mask(target),
        detail=mask_value(detail or {}),
        prev_hash=_last_hash(session),
    )
    row.hash = row_hash(row)
    session.add(row)
    session.flush()
    return row


def verify_chain(session: Session) -> list[str]:
    """Return a list of problems (empty when the chain is intact)."""
    problems = []
    prev = ""
    for row in session.exec(select(AuditEvent).order_by(AuditEvent.id)).scalars():  # type: ignore[call-overload]
        if row.prev_hash != prev:
            problems.append(f"audit event {row.id}: previous-hash link broken (a row before it was removed or changed)")
        if row_hash(row) != row.hash:
            problems.append(f"audit event {row.id}: content does not match its hash (the row was edited)")
        prev = row.hash
    return problems
