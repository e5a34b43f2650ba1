"""Meters over usage events: totals per tenant, month and fiscal year, and peak seats per pool.

Aggregation runs in SQL (one GROUP BY per meter) so it scales with the event table; the
JSON value paths use SQLAlchemy's portable JSON operators, which compile to
``json_extract`` on SQLite and ``->>`` on PostgreSQL. Periods are Japanese calendar
periods: a month and the fiscal year (April–March) are taken in Asia/Tokyo and turned
into UTC bounds, because events are stored in UTC.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from .billing import Aggregation, BillingConfig, Meter, load_billing
from .models import UsageEvent

JST = ZoneInfo("Asia/Tokyo")
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class Period(BaseModel):
    """A half-open window [start, end) in UTC with its label ('2026-06' or 'FY2026')."""

    label: str
    start: datetime
    end: datetime


def _jst_midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=JST).astimezone(timezone.utc)


def month_period(month: str) -> Period:
    m = MONTH_RE.match(month or "")
    if not m:
        raise ValueError(f"month must look like 2026-06 (YYYY-MM), got {month!r}")
    y, mo = int(m.group(1)), int(m.group(2))
    nxt = date(y + (mo == 12), 1 if mo == 12 else mo + 1, 1)
    return Period(label=month, start=_jst_midnight(date(y, mo, 1)), end=_jst_midnight(nxt))


def fiscal_year_period(fiscal_year: int) -> Period:
    """Japanese fiscal year: FY2026 runs from 2026-04-01 to 2027-03-31 (JST)."""
    if not 1900 < int(fiscal_year) < 3000:
        raise ValueError(f"fiscal year must be a year such as 2026, got {fiscal_year!r}")
    return Period(label=f"FY{fiscal_year}", start=_jst_midnight(date(fiscal_year, 4, 1)),
                  end=_jst_midnight(date(fiscal_year + 1, 4, 1)))


def fiscal_year_months(fiscal_year: int) -> list[str]:
    return [f"{fiscal_year + (m < 4)}-{m:02d}" for m in (4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 3)]


def fiscal_year_of(t: datetime | date) -> int:
    if isinstance(t, datetime):
        t = (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(JST).date()
    return t.year if t.month >= 4 else t.year - 1


def current_month(now: datetime | None = None) -> str:
    now = (now or datetime.now(timezone.utc)).astimezone(JST)
    return f"{now.year}-{now.month:02d}"


def to_utc(t: datetime) -> datetime:
    """Aware UTC; naive values are taken as UTC (SQLite hands them back naive)."""
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def _bound(t: datetime) -> datetime:
    # SQLite stores DateTime as text without an offset; bind the same UTC wall clock.
    return to_utc(t)


class MeterTotal(BaseModel):
    """One meter's aggregate for one tenant (and group) over one period."""

    meter: str
    tenant_id: str
    period: str
    value: float
    events: int = Field(description="number of usage events behind the value")
    group: dict[str, str | None] = Field(default_factory=dict)
    title: str = ""
    unit: str = ""


def value_expr(path: str) -> ColumnElement[Any]:
    """SQL expression for a meter value path: a column or a ``data.<key>…`` JSON path."""
    if not path.startswith("data."):
        return getattr(UsageEvent, path)
    keys = path.split(".")[1:]
    node = UsageEvent.data[tuple(keys)] if len(keys) > 1 else UsageEvent.data[keys[0]]  # type: ignore[index]
    return node


def _numeric(path: str) -> ColumnElement[Any]:
    expr = value_expr(path)
    return expr.as_float() if path.startswith("data.") else expr  # type: ignore[union-attr]


def _text(path: str) -> ColumnElement[Any]:
    expr = value_expr(path)
    return expr.as_string() if path.startswith("data.") else expr  # type: ignore[union-attr]


def _aggregate(meter: Meter) -> ColumnElement[Any]:
    match meter.aggregation:
        case Aggregation.SUM:
            return func.coalesce(func.sum(_numeric(meter.value)), 0.0)
        case Aggregation.COUNT:
            return func.count()
        case Aggregation.MAX:
            return func.coalesce(func.max(_numeric(meter.value)), 0.0)
        case Aggregation.UNIQUE_COUNT:
            return func.count(func.distinct(_text(meter.value)))
    raise ValueError(meter.aggregation)  # pragma: no cover


def _resolve_period(month: str | None, fiscal_year: int | None) -> Period:
    if month and fiscal_year is not None:
        raise ValueError("give either month or fiscal_year, not both")
    if fiscal_year is not None:
        return fiscal_year_period(fiscal_year)
    return month_period(month or current_month())


def meter_query(meter: Meter, period: Period, tenant_id: str | None = None, *, group: bool = True):  # noqa: ANN201
    cols = [UsageEvent.subject.label("tenant_id")]  # type: ignore[attr-defined]
    group_cols = [_text(p).label(f"g{i}") for i, p in enumerate(meter.group_by)] if group else []
    stmt = (
        select(*cols, *group_cols, _aggregate(meter).label("value"), func.count().label("events"))
        .where(UsageEvent.type == meter.event_type)
        .where(UsageEvent.time >= _bound(period.start), UsageEvent.time < _bound(period.end))  # type: ignore[operator]
    )
    if tenant_id is not None:
        stmt = stmt.where(UsageEvent.subject == tenant_id)
    return stmt.group_by(*cols, *group_cols).order_by(*cols, *group_cols)


def meter_totals(
    session: Session,
    *,
    month: str | None = None,
    fiscal_year: int | None = None,
    tenant_id: str | None = None,
    meters: list[str] | None = None,
    billing: BillingConfig | None = None,
    group: bool = True,
) -> list[MeterTotal]:
    """Totals of every declared meter per tenant (and group-by values) for a month or a fiscal year.

    With neither ``month`` nor ``fiscal_year`` the current month (JST) is used. Meters
    without events in the period are omitted. ``group=False`` ignores the meters' group-by.
    """
    billing = billing or load_billing()
    period = _resolve_period(month, fiscal_year)
    out: list[MeterTotal] = []
    for name in meters or sorted(billing.meters):
        meter = billing.meter(name)
        keys = meter.group_by if group else []
        for row in session.execute(meter_query(meter, period, tenant_id, group=group)):  # type: ignore[call-overload]
            m = row._mapping
            out.append(MeterTotal(
                meter=name, tenant_id=m["tenant_id"], period=period.label, value=float(m["value"] or 0),
                events=int(m["events"]), group={k: (None if m[f"g{i}"] is None else str(m[f"g{i}"])) for i, k in enumerate(keys)},
                title=meter.title, unit=meter.unit,
            ))
    return out


def meter_value(session: Session, meter: str, tenant_id: str, *, month: str | None = None,
                fiscal_year: int | None = None, billing: BillingConfig | None = None) -> float:
    """One number: *meter* for *tenant_id* over the period, group-by ignored (for quotas)."""
    billing = billing or load_billing()
    m = billing.meter(meter)
    period = _resolve_period(month, fiscal_year)
    stmt = (
        select(_aggregate(m))
        .where(UsageEvent.type == m.event_type, UsageEvent.subject == tenant_id)
        .where(UsageEvent.time >= _bound(period.start), UsageEvent.time < _bound(period.end))  # type: ignore[operator]
    )
    return float(session.execute(stmt).scalar() or 0)  # type: ignore[call-overload]


def monthly_series(session: Session, fiscal_year: int, *, tenant_id: str | None = None,
                   meters: list[str] | None = None, billing: BillingConfig | None = None) -> list[MeterTotal]:
    """Per-month totals across a fiscal year (twelve bounded GROUP BY queries per meter)."""
    billing = billing or load_billing()
    out: list[MeterTotal] = []
    for month in fiscal_year_months(fiscal_year):
        out.extend(meter_totals(session, month=month, tenant_id=tenant_id, meters=meters, billing=billing, group=False))
    return out


def usage_by_job(session: Session, meter: str, period: Period, tenant_id: str,
                 billing: BillingConfig | None = None) -> dict[int | None, float]:
    """*meter* per job for one tenant (the drill-down behind a 実績割 share); SUM/COUNT meters."""
    billing = billing or load_billing()
    m = billing.meter(meter)
    stmt = (
        select(UsageEvent.job_id, _aggregate(m))
        .where(UsageEvent.type == m.event_type, UsageEvent.subject == tenant_id)
        .where(UsageEvent.time >= _bound(period.start), UsageEvent.time < _bound(period.end))  # type: ignore[operator]
        .group_by(UsageEvent.job_id).order_by(UsageEvent.job_id)
    )
    return {job: float(v or 0) for job, v in session.execute(stmt)}  # type: ignore[call-overload]


# ---------------------------------------------------------------- peak concurrent seats


class PeakSeats(BaseModel):
    """Peak concurrent robot seats of a pool on one day (JST), UiPath-style licence usage."""

    pool: str
    day: date
    peak: int
    at: datetime | None = Field(default=None, description="when (UTC) the peak was first reached")
    by_tenant: dict[str, int] = Field(default_factory=dict, description="each member's own peak that day")


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return to_utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        return None


def _sweep(intervals: list[tuple[datetime, datetime]]) -> tuple[int, datetime | None]:
    # An end at the same instant as a start frees the seat first (a seat is reused, not doubled).
    points = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals], key=lambda p: (p[0], p[1]))
    cur = best = 0
    when = None
    for t, d in points:
        cur += d
        if cur > best:
            best, when = cur, t
    return best, when


def peak_seats(session: Session, *, month: str | None = None, fiscal_year: int | None = None,
               pool: str | None = None, tenant_id: str | None = None) -> list[PeakSeats]:
    """Peak concurrent seats per pool per day from ``rpa.robot_seconds`` events.

    The events' data carry ``pool``, ``started_at`` and ``ended_at`` (ISO times). SQL
    selects only those three fields in the window; the sweep over one day's intervals
    runs here. A run crossing midnight counts on both days.
    """
    period = _resolve_period(month, fiscal_year)
    pool_col = _text("data.pool")
    stmt = (
        select(UsageEvent.subject, pool_col, _text("data.started_at"), _text("data.ended_at"), UsageEvent.time, UsageEvent.value)
        .where(UsageEvent.type == "rpa.robot_seconds")
        .where(UsageEvent.time >= _bound(period.start - timedelta(days=1)), UsageEvent.time < _bound(period.end + timedelta(days=1)))  # type: ignore[operator]
    )
    if pool is not None:
        stmt = stmt.where(pool_col == pool)
    if tenant_id is not None:
        stmt = stmt.where(UsageEvent.subject == tenant_id)
    per_day: dict[tuple[str, date], list[tuple[str, datetime, datetime]]] = defaultdict(list)
    for subject, pl, started, ended, time, value in session.execute(stmt):  # type: ignore[call-overload]
        end = _parse_time(ended) or to_utc(time)
        start = _parse_time(started) or end - timedelta(seconds=float(value or 0))
        if end <= start or pl is None:
            continue
        start, end = max(start, period.start), min(end, period.end)
        if end <= start:
            continue
        day = start.astimezone(JST).date()
        while _jst_midnight(day) < end:
            lo, hi = max(start, _jst_midnight(day)), min(end, _jst_midnight(day + timedelta(days=1)))
            if hi > lo:
                per_day[(pl, day)].append((subject, lo, hi))
            day += timedelta(days=1)
    out = []
    for (pl, day), ivs in sorted(per_day.items()):
        peak, at = _sweep([(s, e) for _, s, e in ivs])
        by_tenant = {}
        for tid in sorted({t for t, _, _ in ivs}):
            by_tenant[tid] = _sweep([(s, e) for t, s, e in ivs if t == tid])[0]
        out.append(PeakSeats(pool=pl, day=day, peak=peak, at=at, by_tenant=by_tenant))
    return out
