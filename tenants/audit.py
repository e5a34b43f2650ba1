"""Audit log: who did what and when. Append-only and hash-chained: each row's hash
covers its content and the previous row's hash, so an edited or deleted row breaks
the chain (``kyodo audit verify``).

Two writers must never fork the chain (both linking to the same previous row). The
chain's head lives in a one-row table, ``audit_chain_head``; :func:`audit` first
UPDATEs that row, which takes a row lock on PostgreSQL (held to commit, so a second
writer waits and then reads the new head) and the database write lock on SQLite (the
sqlite3 driver starts the transaction at the first write, so no stale snapshot is read
before it). The head is read from that row, never from ``audit_event``, which row-level
security may filter in a tenant session.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from pydantic import BaseModel, Field as PField
from sqlalchemy import select, text
from sqlmodel import Field, Session, SQLModel

from .models import AuditEvent, utcnow
from .privacy import mask, mask_value

HEAD_ID = 1


class AuditChainHead(SQLModel, table=True):
    """The last link of the audit chain (one row, id 1); its lock serialises writers."""

    __tablename__ = "audit_chain_head"

    id: int = Field(default=HEAD_ID, primary_key=True)
    seq: int = 0
    last_id: int | None = None
    hash: str = Field(default="", max_length=64)


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


def _last_row_hash(session: Session) -> str:
    stmt = select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1).execution_options(kyodo_unscoped=True)  # type: ignore[union-attr]
    return session.execute(stmt).scalar() or ""  # type: ignore[call-overload]


def _lock_head(session: Session) -> str:
    """Lock the chain head for this transaction and return the current last hash."""
    bump = text("UPDATE audit_chain_head SET seq = seq + 1 WHERE id = :id")
    if session.execute(bump, {"id": HEAD_ID}).rowcount == 0:  # type: ignore[attr-defined]
        # A database made without the migration: start the head from the table's last row.
        session.execute(text("INSERT INTO audit_chain_head (id, seq, last_id, hash) VALUES (:id, 1, NULL, :h)"),
                        {"id": HEAD_ID, "h": _last_row_hash(session)})
    return session.execute(text("SELECT hash FROM audit_chain_head WHERE id = :id"), {"id": HEAD_ID}).scalar() or ""


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
    """Append an audit event in the caller's transaction (flushed so the next one chains on it).

    Holds the chain-head lock until the caller commits: keep audited transactions short.
    """
    prev = _lock_head(session)
    row = AuditEvent(
        time=time or utcnow(),
        tenant_id=tenant_id,
        actor=mask(actor),
        action=action,
        target=mask(target),
        detail=mask_value(detail or {}),
        prev_hash=prev,
    )
    row.hash = row_hash(row)
    session.add(row)
    session.flush()
    session.execute(text("UPDATE audit_chain_head SET last_id = :last, hash = :h WHERE id = :id"),
                    {"last": row.id, "h": row.hash, "id": HEAD_ID})
    return row


class ChainReport(BaseModel):
    ok: bool
    checked: int = 0
    broken_ids: list[int] = PField(default_factory=list)
    problems: list[str] = PField(default_factory=list)


def verify(session: Session, *, batch: int = 2000) -> ChainReport:
    """Walk the whole chain in id order (streamed) and report every broken link or edited row."""
    problems: list[str] = []
    broken: list[int] = []
    prev = ""
    last_id: int | None = None
    checked = 0
    stmt = select(AuditEvent).order_by(AuditEvent.id).execution_options(kyodo_unscoped=True, yield_per=batch)  # type: ignore[arg-type]
    for row in session.execute(stmt).scalars():  # type: ignore[call-overload]
        checked += 1
        bad = False
        if row.prev_hash != prev:
            problems.append(f"audit event {row.id}: previous-hash link broken (a row before it was removed or changed)")
            bad = True
        if row_hash(row) != row.hash:
            problems.append(f"audit event {row.id}: content does not match its hash (the row was edited)")
            bad = True
        if bad:
            broken.append(row.id)  # type: ignore[arg-type]
        prev, last_id = row.hash, row.id
    head = session.execute(text("SELECT last_id, hash FROM audit_chain_head WHERE id = :id"), {"id": HEAD_ID}).first()
    if head is not None and checked and (head[0], head[1]) != (last_id, prev):
        problems.append(f"audit chain head names event {head[0]} but the last row is {last_id}: "
                        "rows at the end were removed or the head was changed")
    return ChainReport(ok=not problems, checked=checked, broken_ids=broken, problems=problems)


def verify_chain(session: Session) -> list[str]:
    """Return a list of problems (empty when the chain is intact)."""
    return verify(session).problems
