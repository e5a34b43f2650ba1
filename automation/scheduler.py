"""Time triggers: the tenant's ``[[schedules]]`` (cron in the tenant's timezone).

A slot on a Japanese public holiday (``holidays``, JP) or in the year-end closure
(年末年始, 12/29–1/3) is skipped when the schedule asks for it. Each slot's job has the
idempotency key ``sched:<tenant>:<name>:<slot>``, and only the LATEST due slot is ever
enqueued: a platform that was down over several slots runs the schedule once on start,
not once per missed slot. A schedule that never ran does not fire for slots before the
scheduler started (a new schedule is not retroactive).

Housekeeping runs beside the schedules, on start and then daily: each municipality's RPA
evidence (failure screenshots and traces) older than its ``evidence_retention_days`` is deleted.
"""
from __future__ import annotations

import logging
import threading
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from croniter import croniter
from sqlalchemy import select
from sqlalchemy.engine import Engine

from automation.jobs import enqueue
from tenants.config import Schedule, TenantConfig
from tenants.db import get_engine
from tenants.models import Job, utcnow
from tenants.scope import tenant_session

log = logging.getLogger(__name__)
LOOKBACK_SLOTS = 1000
HOUSEKEEPING_EVERY = timedelta(hours=24)


@lru_cache(maxsize=8)
def _jp_holidays(year: int):  # noqa: ANN202
    import holidays

    return holidays.country_holidays("JP", years=[year])


def is_year_end(day: date) -> bool:
    """年末年始: 12/29 to 1/3, when municipal offices are closed."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


def is_holiday(day: date) -> bool:
    return day in _jp_holidays(day.year)


def skipped(schedule: Schedule, local: datetime) -> str | None:
    """Why a slot is skipped (None if it runs)."""
    d = local.date()
    if schedule.skip_year_end and is_year_end(d):
        return "year-end closure"
    if schedule.skip_holidays and is_holiday(d):
        return f"holiday {_jp_holidays(d.year).get(d)}"
    return None


def latest_slot(schedule: Schedule, tz: str, now: datetime, not_before: datetime | None = None) -> datetime | None:
    """The most recent slot at or before *now* that is not skipped (UTC), or None."""
    local_now = now.astimezone(ZoneInfo(tz))
    it = croniter(schedule.cron, local_now + timedelta(seconds=1))
    for _ in range(LOOKBACK_SLOTS):
        slot: datetime = it.get_prev(datetime)
        if not_before is not None and slot < not_before:
            return None
        if skipped(schedule, slot) is None:
            return slot.astimezone(timezone.utc)
    return None


def next_slots(schedule: Schedule, tz: str, after: datetime, count: int = 3) -> list[datetime]:
    """The next *count* slots that will run (for ``kyodo pools``/UI displays and tests)."""
    it = croniter(schedule.cron, after.astimezone(ZoneInfo(tz)))
    out: list[datetime] = []
    for _ in range(LOOKBACK_SLOTS):
        slot: datetime = it.get_next(datetime)
        if skipped(schedule, slot) is None:
            out.append(slot.astimezone(timezone.utc))
            if len(out) == count:
                break
    return out


def schedule_key(tenant_id: str, name: str, slot: datetime) -> str:
    return f"sched:{tenant_id}:{name}:{slot.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%MZ')}"


class Scheduler:
    def __init__(self, tenants: list[TenantConfig], engine: Engine | None = None, *, started: datetime | None = None):
        self.tenants = tenants
        self.engine = engine or get_engine()
        self.started = started or utcnow()
        self.last_housekeeping: datetime | None = None

    def housekeeping(self, now: datetime | None = None) -> dict[str, int]:
        """Purge old RPA evidence per tenant (at most once per HOUSEKEEPING_EVERY); files deleted per tenant."""
        from automation.rpa.evidence import purge_tenant_evidence
        from tenants.settings import get_settings

        now = now or utcnow()
        if self.last_housekeeping is not None and now - self.last_housekeeping < HOUSEKEEPING_EVERY:
            return {}
        self.last_housekeeping = now
        deleted = {}
        for t in self.tenants:
            try:
                res = purge_tenant_evidence(t, get_settings().data_root, now=now)
            except Exception:  # noqa: BLE001 - housekeeping must never stop the scheduler
                log.exception("evidence purge for %s failed", t.id)
                continue
            deleted[t.id] = res.deleted
            for err in res.errors:
                log.warning("evidence purge for %s: %s", t.id, err)
        return deleted

    def tick(self, now: datetime | None = None) -> list[Job]:
        """Enqueue the latest due slot of every schedule (at most one job per schedule)."""
        now = now or utcnow()
        created = []
        for t in self.tenants:
            for sch in t.schedules:
                if not sch.enabled or not t.enabled:
                    continue
                try:
                    job = self._tick_one(t, sch, now)
                except Exception:  # noqa: BLE001 - one bad schedule must not stop the others
                    log.exception("schedule %s/%s failed", t.id, sch.name)
                    continue
                if job is not None:
                    created.append(job)
        return created

    def _tick_one(self, t: TenantConfig, sch: Schedule, now: datetime) -> Job | None:
        prefix = f"sched:{t.id}:{sch.name}:"
        with tenant_session(t.id, self.engine) as s:
            ran_before = s.exec(select(Job.id).where(Job.idempotency_key.startswith(prefix)).limit(1)).first() is not None  # type: ignore[union-attr,call-overload]
            slot = latest_slot(sch, t.timezone, now, not_before=None if ran_before else self.started)
            if slot is None:
                return None
            key = schedule_key(t.id, sch.name, slot)
            if s.exec(select(Job.id).where(Job.idempotency_key == key)).first() is not None:  # type: ignore[call-overload]
                return None
            payload = {"schedule": sch.name, "slot": slot.isoformat(), "params": sch.params}
            if sch.scenario:
                payload["scenario"] = sch.scenario
                payload["records"] = list(sch.params.get("records", []))
            job = enqueue(s, tenant_id=t.id, kind=sch.kind, payload=payload, idempotency_key=key)
            log.info("schedule %s/%s: slot %s -> job %s", t.id, sch.name, slot.isoformat(), job.id)
            return job

    def run(self, stop: threading.Event, interval: float = 15.0) -> None:
        while True:
            self.tick()
            self.housekeeping()
            if stop.wait(interval):
                return
