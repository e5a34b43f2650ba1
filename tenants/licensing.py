"""Licence pools and seats: a few robot licences shared by several municipalities.

A pool (``tenants/_pools.toml``) has a number of concurrent seats and per-tenant caps;
its members are the tenants that list it in ``pools = [...]``. A seat is a row with a
lease: whoever holds it renews ``lease_until`` by heartbeat, and a seat whose lease
expired (its worker died) is free again. Taking a seat is a compare-and-set UPDATE, so
two workers on two machines can never hold the same seat.

Which waiting job gets a freed seat (fair turns across tenants) is decided by the
runner (``automation/runner/claim.py``); this module only owns seats and pool settings.
"""
from __future__ import annotations

import logging
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import DateTime, UniqueConstraint, and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field as SQLField
from sqlmodel import Session, SQLModel

from .models import utcnow
from .settings import get_settings

log = logging.getLogger(__name__)

POOLS_FILE = "_pools.toml"


class PoolConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    seats: int = Field(ge=1, le=1000, description="concurrent robot licences in the pool")
    description: str = ""
    caps: dict[str, int] = Field(default_factory=dict, description="tenant id -> most seats it may hold at once")
    members: list[str] = Field(default_factory=list, description="extra members (tenants normally list the pool themselves)")

    def cap_for(self, tenant_id: str) -> int:
        return self.caps.get(tenant_id, self.seats)


class PoolsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pools: dict[str, PoolConfig] = Field(default_factory=dict)


class PoolsFileError(ValueError):
    pass


def pools_path(tenants_dir: Path | None = None) -> Path:
    return (tenants_dir or get_settings().tenants_dir) / POOLS_FILE


def load_pools(tenants_dir: Path | None = None) -> dict[str, PoolConfig]:
    """Read the platform's pools file; an absent file means no shared pools."""
    path = pools_path(tenants_dir)
    if not path.is_file():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise PoolsFileError(f"{path}: not valid TOML: {e}") from None
    data: dict[str, Any] = {"pools": {}}
    for name, body in (raw.get("pools") or {}).items():
        data["pools"][name] = {"name": name, **(body or {})}
    try:
        return PoolsFile.model_validate(data).pools
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise PoolsFileError(f"{path}: {problems}") from None


class LicenceSeat(SQLModel, table=True):
    """One concurrent licence of a pool; free when ``holder`` is empty or its lease expired."""

    __tablename__ = "licence_seat"
    __table_args__ = (UniqueConstraint("pool", "seat_no", name="uq_licence_seat_pool_no"),)

    id: int | None = SQLField(default=None, primary_key=True)
    pool: str = SQLField(max_length=64, index=True)
    seat_no: int
    holder: str | None = SQLField(default=None, max_length=200, description="worker that holds it")
    job_id: int | None = None
    # Named ``held_for`` (not ``tenant_id``) on purpose: seats are platform rows shared by
    # the pool's members, so tenant-scoped sessions must not filter them.
    held_for: str | None = SQLField(default=None, max_length=64)
    acquired_at: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))
    lease_until: datetime | None = SQLField(default=None, sa_type=DateTime(timezone=True))


def _aware(dt: datetime | None) -> datetime | None:
    if dt is not None and dt.tzinfo is None:  # SQLite returns naive UTC
        return dt.replace(tzinfo=timezone.utc)
    return dt


def ensure_seats(session: Session, pool: PoolConfig) -> None:
    """Create the pool's seat rows if missing (idempotent, safe when two workers race)."""
    have = set(session.exec(select(LicenceSeat.seat_no).where(LicenceSeat.pool == pool.name)).scalars())  # type: ignore[call-overload]
    for n in range(pool.seats):
        if n in have:
            continue
        try:
            with session.begin_nested():
                session.add(LicenceSeat(pool=pool.name, seat_no=n))
        except IntegrityError:
            pass  # another worker created it first


def _free_clause(now: datetime) -> Any:
    return or_(LicenceSeat.holder.is_(None), LicenceSeat.lease_until.is_(None), LicenceSeat.lease_until < now)  # type: ignore[union-attr,operator]


def acquire_seat(session: Session, pool: PoolConfig, holder: str, lease_seconds: float) -> int | None:
    """Take a free seat of *pool* for *holder*; return its seat number or None if all are busy."""
    ensure_seats(session, pool)
    now = utcnow()
    free = session.exec(  # type: ignore[call-overload]
        select(LicenceSeat.seat_no).where(LicenceSeat.pool == pool.name, LicenceSeat.seat_no < pool.seats, _free_clause(now))
        .order_by(LicenceSeat.seat_no)
    ).scalars().all()
    for seat_no in free:
        res = session.execute(
            update(LicenceSeat).execution_options(synchronize_session=False)
            .where(LicenceSeat.pool == pool.name, LicenceSeat.seat_no == seat_no, _free_clause(now))
            .values(holder=holder, job_id=None, held_for=None, acquired_at=now,
                    lease_until=now + timedelta(seconds=lease_seconds))
        )
        if res.rowcount == 1:  # compare-and-set: nobody took it between our read and write
            return seat_no
    return None


def attach_seat(session: Session, pool: str, seat_no: int, holder: str, *, job_id: int, tenant_id: str) -> None:
    session.execute(
        update(LicenceSeat).execution_options(synchronize_session=False).where(LicenceSeat.pool == pool, LicenceSeat.seat_no == seat_no, LicenceSeat.holder == holder)
        .values(job_id=job_id, held_for=tenant_id)
    )


def release_seat(session: Session, pool: str, *, holder: str | None = None, job_id: int | None = None) -> int:
    """Free the seat held by *holder* (or for *job_id*); return how many seats were freed."""
    cond = [LicenceSeat.pool == pool]
    if holder is not None:
        cond.append(LicenceSeat.holder == holder)
    if job_id is not None:
        cond.append(LicenceSeat.job_id == job_id)
    res = session.execute(
        update(LicenceSeat).execution_options(synchronize_session=False).where(and_(*cond))
        .values(holder=None, job_id=None, held_for=None, acquired_at=None, lease_until=None)
    )
    return res.rowcount or 0


def renew_seat(session: Session, pool: str, holder: str, lease_seconds: float) -> bool:
    res = session.execute(
        update(LicenceSeat).execution_options(synchronize_session=False).where(LicenceSeat.pool == pool, LicenceSeat.holder == holder)
        .values(lease_until=utcnow() + timedelta(seconds=lease_seconds))
    )
    return (res.rowcount or 0) > 0


def reap_seats(session: Session) -> list[LicenceSeat]:
    """Free seats whose lease expired (their worker died); return them as they were."""
    now = utcnow()
    expired = list(session.exec(  # type: ignore[call-overload]
        select(LicenceSeat).where(LicenceSeat.holder.is_not(None), LicenceSeat.lease_until < now)  # type: ignore[union-attr,operator]
    ).scalars())
    for seat in expired:
        snapshot = LicenceSeat(pool=seat.pool, seat_no=seat.seat_no, holder=seat.holder, job_id=seat.job_id,
                               held_for=seat.held_for, acquired_at=seat.acquired_at, lease_until=seat.lease_until)
        session.execute(
            update(LicenceSeat).execution_options(synchronize_session=False).where(LicenceSeat.id == seat.id, LicenceSeat.lease_until < now)
            .values(holder=None, job_id=None, held_for=None, acquired_at=None, lease_until=None)
        )
        expired[expired.index(seat)] = snapshot
    return expired


class SeatView(BaseModel):
    seat_no: int
    holder: str | None
    job_id: int | None
    tenant_id: str | None
    acquired_at: datetime | None
    lease_until: datetime | None
    busy: bool


def seats_of(session: Session, pool: PoolConfig) -> list[SeatView]:
    now = utcnow()
    rows = {s.seat_no: s for s in session.exec(select(LicenceSeat).where(LicenceSeat.pool == pool.name)).scalars()}  # type: ignore[call-overload]
    out = []
    for n in range(pool.seats):
        s = rows.get(n)
        lease = _aware(s.lease_until) if s else None
        busy = bool(s and s.holder and lease and lease >= now)
        out.append(SeatView(seat_no=n, holder=s.holder if busy else None, job_id=s.job_id if busy else None,
                            tenant_id=s.held_for if busy else None, acquired_at=_aware(s.acquired_at) if busy else None,
                            lease_until=lease if busy else None, busy=busy))
    return out
