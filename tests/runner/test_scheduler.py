"""Schedules: cron in the tenant's timezone, Japanese holidays and 年末年始 skipped,
a missed run runs once on start (not once per missed slot), new schedules not retroactive."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from automation.scheduler import Scheduler, is_holiday, is_year_end, latest_slot, next_slots
from tenants.config import Schedule
from tenants.loader import get_tenant
from tenants.models import Job

from .conftest import Platform

JST = ZoneInfo("Asia/Tokyo")
WEEKDAY_0830 = Schedule(name="morning", cron="30 8 * * 1-5", scenario="child_allowance_status_report")


def jst(*a: int) -> datetime:
    return datetime(*a, tzinfo=JST)


def test_calendar() -> None:
    assert is_holiday(date(2026, 1, 12))  # 成人の日
    assert is_holiday(date(2026, 5, 5)) and not is_holiday(date(2026, 5, 7))
    assert is_year_end(date(2026, 12, 29)) and is_year_end(date(2027, 1, 3)) and not is_year_end(date(2027, 1, 4))


def test_slots_skip_weekends_holidays_and_year_end_in_tenant_time() -> None:
    # Fri 2026-12-25 08:30 JST ... next runnable weekday slots skip 12/28? no: 12/28 (Mon) runs, 12/29-1/3 closed.
    slots = next_slots(WEEKDAY_0830, "Asia/Tokyo", jst(2026, 12, 25, 9, 0), count=3)
    assert [s.astimezone(JST) for s in slots] == [jst(2026, 12, 28, 8, 30), jst(2027, 1, 4, 8, 30), jst(2027, 1, 5, 8, 30)]
    assert slots[0].tzinfo == timezone.utc and slots[0].hour == 23  # stored in UTC
    # Golden week: 5/4-5/6 2026 are holidays.
    slots = next_slots(WEEKDAY_0830, "Asia/Tokyo", jst(2026, 5, 1, 9, 0), count=2)
    assert [s.astimezone(JST).date() for s in slots] == [date(2026, 5, 7), date(2026, 5, 8)]
    relaxed = WEEKDAY_0830.model_copy(update={"skip_holidays": False, "skip_year_end": False})
    assert next_slots(relaxed, "Asia/Tokyo", jst(2026, 12, 29, 9, 0), count=1)[0].astimezone(JST) == jst(2026, 12, 30, 8, 30)
    assert latest_slot(WEEKDAY_0830, "Asia/Tokyo", jst(2026, 5, 6, 12, 0)).astimezone(JST) == jst(2026, 5, 1, 8, 30)


def test_missed_slots_run_once_on_start_and_new_schedules_are_not_retroactive(platform: Platform) -> None:
    p = platform.tenants_dir / "alpha.toml"
    p.write_text(p.read_text(encoding="utf-8") + '\n[[schedules]]\nname = "morning"\ncron = "30 8 * * 1-5"\n'
                 'scenario = "child_allowance_status_report"\n', encoding="utf-8")
    tenant = get_tenant("alpha").config

    def jobs() -> list[Job]:
        with platform.session() as s:
            return list(s.exec(select(Job).order_by(Job.id)).scalars())

    # First start ever on Tue 2026-06-02 10:00: today's 08:30 slot was before we existed.
    sch = Scheduler([tenant], platform.engine, started=jst(2026, 6, 2, 10, 0))
    assert sch.tick(jst(2026, 6, 2, 10, 0)) == [] and jobs() == []
    # Running through Wednesday 08:30: one job for that slot, however often we tick.
    for minute in (29, 30, 31, 45):
        sch.tick(jst(2026, 6, 3, 8, minute))
    assert [j.payload["slot"] for j in jobs()] == [jst(2026, 6, 3, 8, 30).astimezone(timezone.utc).isoformat()]
    # Down from Wednesday noon to the next Tuesday 12:00 (Thu, Fri, Mon, Tue slots missed): one run on start.
    restarted = Scheduler([tenant], platform.engine, started=jst(2026, 6, 9, 12, 0))
    created = restarted.tick(jst(2026, 6, 9, 12, 0)) + restarted.tick(jst(2026, 6, 9, 12, 1))
    assert len(created) == 1 and created[0].payload["slot"] == jst(2026, 6, 9, 8, 30).astimezone(timezone.utc).isoformat()
    assert len(jobs()) == 2
    j = jobs()[-1]
    assert j.kind == "scenario" and j.payload["scenario"] == "child_allowance_status_report" and j.pool == "robots"


def test_housekeeping_purges_rpa_evidence_past_the_tenants_retention_daily(platform: Platform) -> None:
    import os
    import time

    p = platform.tenants_dir / "alpha.toml"
    p.write_text(p.read_text(encoding="utf-8") + "evidence_retention_days = 7\n", encoding="utf-8")
    alpha, beta = get_tenant("alpha").config, get_tenant("beta").config
    assert (alpha.evidence_retention_days, beta.evidence_retention_days) == (7, 30)
    files = {}
    for tenant in (alpha, beta):
        job = platform.folder(tenant.id, "work") / "job-9"
        job.mkdir(parents=True)
        for age in (1, 10, 40):
            f = job / f"00{age % 10}-rec{age}-application_error.trace.zip"
            f.write_bytes(b"PK")
            os.utime(f, (time.time() - age * 86400,) * 2)
            files[(tenant.id, age)] = f
        (job / "page-1.png").write_bytes(b"not evidence")  # never touched
        os.utime(job / "page-1.png", (time.time() - 400 * 86400,) * 2)
    sch = Scheduler([alpha, beta], platform.engine)
    assert sch.housekeeping() == {"alpha": 2, "beta": 1}
    assert sorted(k for k, f in files.items() if f.exists()) == [("alpha", 1), ("beta", 1), ("beta", 10)]
    assert (platform.folder("alpha", "work") / "job-9" / "page-1.png").exists()
    assert sch.housekeeping() == {}  # once a day
