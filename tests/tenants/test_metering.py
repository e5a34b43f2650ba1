"""Meters, periods, peak seats, quotas and dedup on SQLite and the real PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from tenants.db import session_scope
from tenants.metering import fiscal_year_period, meter_totals, meter_value, month_period, monthly_series, peak_seats
from tenants.models import AuditEvent, UsageEvent
from tenants.quotas import QuotaExceeded, check_job_quotas, check_quota, enforce_job_quotas
from tenants.scope import CrossTenantError, tenant_session
from tenants.usage import UsageIn, record_usage, record_usage_many

from .conftest import jst, robot


def _by(totals, meter):  # noqa: ANN001, ANN202
    return {(t.tenant_id, tuple(t.group.values())): t.value for t in totals if t.meter == meter}


def test_resent_events_counted_once(metered) -> None:  # noqa: ANN001
    ev = robot("town-a", 1, 300, jst(2026, 6, 1, 9, 0))
    with session_scope(metered) as s:
        again = record_usage(s, ev)  # resent after commit
        assert again.id is not None and again.value == 300
        assert record_usage_many(s, [ev, robot("town-a", 77, 10, jst(2026, 6, 2, 9)), robot("town-a", 77, 10, jst(2026, 6, 2, 9))]) == 1
    with Session(metered) as s:
        n = s.execute(select(func.count()).select_from(UsageEvent).where(UsageEvent.source == "kyodo/job/1")).scalar()
        assert n == 1
        assert meter_value(s, "rpa.robot_seconds", "town-a", month="2026-06", billing=None) == 510


def test_usage_rolls_back_with_the_state_change(metered) -> None:  # noqa: ANN001
    with pytest.raises(RuntimeError), session_scope(metered) as s:
        record_usage(s, robot("town-c", 50, 99, jst(2026, 6, 3, 9)))
        raise RuntimeError("job failed before commit")
    with Session(metered) as s:
        assert s.execute(select(UsageEvent).where(UsageEvent.job_id == 50)).first() is None


def test_totals_per_month_and_fiscal_year(metered, billing) -> None:  # noqa: ANN001
    with Session(metered) as s:
        june = meter_totals(s, month="2026-06", billing=billing)
        fy = meter_totals(s, fiscal_year=2026, billing=billing)
        fy25 = meter_totals(s, fiscal_year=2025, billing=billing)
        july_a = meter_totals(s, month="2026-07", tenant_id="town-a", billing=billing)
        series = monthly_series(s, 2026, meters=["ocr.page"], billing=billing)
    assert _by(june, "rpa.robot_seconds") == {("town-a", ("shared-rpa",)): 500, ("town-b", ("shared-rpa",)): 300}
    assert _by(fy, "rpa.robot_seconds") == {("town-a", ("shared-rpa",)): 500, ("town-b", ("shared-rpa",)): 300,
                                            ("town-c", ("shared-rpa",)): 200}
    assert _by(fy25, "rpa.robot_seconds") == {("town-a", ("shared-rpa",)): 600}  # 31 March JST is the old year
    # 1 July 00:10 JST (30 June in UTC) is July's; 30 June 23:30 JST is June's.
    assert _by(june, "ocr.page") == {("town-a", ()): 5, ("town-b", ()): 5}
    assert _by(july_a, "ocr.page") == {("town-a", ()): 7}
    assert _by(june, "ocr.pages_in_data") == {("town-a", ()): 5, ("town-b", ()): 5}  # value path into data
    assert _by(june, "rpa.jobs") == {("town-b", ()): 2}  # UNIQUE_COUNT of job ids (job 30 twice)
    assert _by(june, "rpa.run") == {("town-b", ()): 3}  # COUNT
    assert {(t.period, t.tenant_id): t.value for t in series} == {("2026-06", "town-a"): 5, ("2026-06", "town-b"): 5,
                                                                  ("2026-07", "town-a"): 7}
    assert next(t for t in june if t.meter == "rpa.robot_seconds" and t.tenant_id == "town-a").events == 2


def test_period_bounds_are_japan_time() -> None:
    p = month_period("2026-06")
    assert p.start.isoformat() == "2026-05-31T15:00:00+00:00" and p.end.isoformat() == "2026-06-30T15:00:00+00:00"
    fy = fiscal_year_period(2026)
    assert fy.start.isoformat() == "2026-03-31T15:00:00+00:00" and fy.end.isoformat() == "2027-03-31T15:00:00+00:00"
    for bad in ("2026-13", "2026/06", "June"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            month_period(bad)


def test_peak_concurrent_seats_per_pool_and_day(metered) -> None:  # noqa: ANN001
    with session_scope(metered) as s:
        # Another pool at the same time must not add to shared-rpa's peak; a run over midnight counts on both days.
        record_usage(s, robot("town-b", 60, 600, jst(2026, 6, 1, 9, 1), pool="other"))
        record_usage(s, robot("town-c", 61, 3600, jst(2026, 6, 1, 23, 30)))
    with Session(metered) as s:
        peaks = {(p.pool, p.day.isoformat()): p for p in peak_seats(s, month="2026-06")}
    # 09:00-09:05 a, 09:02-09:05:20 a, 09:04-09:09 b -> three at 09:04.
    assert peaks[("shared-rpa", "2026-06-01")].peak == 3
    assert peaks[("shared-rpa", "2026-06-01")].by_tenant == {"town-a": 2, "town-b": 1, "town-c": 1}
    assert peaks[("other", "2026-06-01")].peak == 1
    assert peaks[("shared-rpa", "2026-06-02")].peak == 1 and peaks[("shared-rpa", "2026-06-02")].by_tenant == {"town-c": 1}


def test_quota_warns_then_refuses_and_is_audited(metered, three_configs, billing) -> None:  # noqa: ANN001
    a = three_configs["town-a"]  # ocr.page limit 100, warning at 80; 5 pages used in June
    with Session(metered) as s:
        assert check_quota(s, a, "ocr.page", month="2026-06", billing=billing).state == "ok"
        warn = check_quota(s, a, "ocr.page", 80, month="2026-06", billing=billing)
        assert warn.state == "warning" and warn.allowed
        over = check_quota(s, a, "ocr.page", 96, month="2026-06", billing=billing)
    assert over.state == "exceeded" and not over.allowed
    assert "ocr.page" in over.message_en and "5" in over.message_en and "100" in over.message_en
    assert "月間上限" in over.message_ja and "ocr.page" in over.message_ja and "100" in over.message_ja
    with session_scope(metered) as s:
        with pytest.raises(QuotaExceeded) as e:
            enforce_job_quotas(s, a, {"ocr.page": 96}, job_id=123, month="2026-06", billing=billing)
        assert e.value.status.limit == 100
    with session_scope(metered) as s:
        decision = check_job_quotas(s, a, {"ocr.page": 80}, job_id=124, month="2026-06", billing=billing)
        assert decision.allowed and decision.warnings
    with Session(metered) as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
    assert [(r.action, r.target, r.detail["limit"]) for r in rows] == [("quota.refused", "job/123", 100),
                                                                      ("quota.warning", "job/124", 100)]


def test_metering_in_a_tenant_session_sees_only_that_tenant(metered, billing) -> None:  # noqa: ANN001
    with tenant_session("town-a", metered) as s:
        seen = {t.tenant_id for t in meter_totals(s, fiscal_year=2026, billing=billing)}
        assert seen == {"town-a"}
        with pytest.raises(CrossTenantError):
            record_usage(s, robot("town-b", 90, 1, jst(2026, 6, 5, 9)))


def test_usage_data_is_masked(metered) -> None:  # noqa: ANN001
    with session_scope(metered) as s:
        row = record_usage(s, UsageIn(event_id="m1", source="kyodo/job/1", type="ocr.field", subject="town-a",
                                      data={"field": "my_number", "raw": "1234 5678 9018", "nested": ["123456789018"]}))
    assert "9018" not in str(row.data)
    with pytest.raises(ValueError, match="dotted lower case"):
        UsageIn(event_id="x", source="s", type="OCR PAGE", subject="town-a")
