"""Fixtures for metering, allocation and isolation tests: three municipalities with known usage."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tenants.billing import BillingConfig
from tenants.config import TenantConfig
from tenants.db import session_scope
from tenants.models import Tenant
from tenants.usage import UsageIn, record_usage

JST = ZoneInfo("Asia/Tokyo")

THREE = {
    "town-a": ("Ａ市", 60_000),
    "town-b": ("Ｂ町", 30_000),
    "town-c": ("Ｃ村", 10_000),
}


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


@pytest.fixture
def three_configs() -> dict[str, TenantConfig]:
    return {
        tid: TenantConfig(id=tid, display_name=name, population=pop, pools=["shared-rpa"],
                          quotas={"ocr.page": {"monthly_limit": 100, "warn_ratio": 0.8}})
        for tid, (name, pop) in THREE.items()
    }


@pytest.fixture
def billing() -> BillingConfig:
    return BillingConfig.model_validate({
        "meters": {
            "rpa.robot_seconds": {"event_type": "rpa.robot_seconds", "group_by": ["data.pool"], "title": "ロボット稼働秒数"},
            "rpa.jobs": {"event_type": "rpa.run", "aggregation": "UNIQUE_COUNT", "value": "job_id"},
            "ocr.pages_in_data": {"event_type": "ocr.page", "value": "data.pages"},
        },
        "cost_items": [
            {"id": "licence", "name": "RPA ライセンス", "pool": "shared-rpa", "amount_yen": 1_000_000,
             "rule": {"base": 0.15, "population": 0.35, "usage": 0.5, "usage_meters": {"rpa.robot_seconds": 1}}},
            {"id": "tiny", "name": "端数テスト", "pool": "shared-rpa", "amount_yen": 100, "rule": {"base": 1.0}},
            {"id": "ocr", "name": "OCR サーバ", "pool": "shared-rpa", "amount_yen": 1000, "period": "year",
             "rule": {"usage": 1.0, "usage_meters": {"ocr.page": 1}}},
        ],
    })


def robot(tid: str, job: int, seconds: float, start: datetime, pool: str = "shared-rpa") -> UsageIn:
    from datetime import timedelta

    end = start + timedelta(seconds=seconds)
    return UsageIn(event_id=f"job-{job}-robot", source=f"kyodo/job/{job}", type="rpa.robot_seconds", subject=tid,
                   value=seconds, job_id=job, time=end,
                   data={"pool": pool, "started_at": start.isoformat(), "ended_at": end.isoformat(), "scenario": "x"})


@pytest.fixture
def metered(engine):  # noqa: ANN001, ANN201
    """Three tenants; robot seconds in FY2026 a=500 (jobs 1, 2), b=300 (job 3), c=200 (job 4), plus noise outside it."""
    with session_scope(engine) as s:
        s.add_all([Tenant(id=tid, display_name=name, population=pop) for tid, (name, pop) in THREE.items()])
        s.flush()
        for ev in [
            robot("town-a", 1, 300, jst(2026, 6, 1, 9, 0)),
            robot("town-a", 2, 200, jst(2026, 6, 1, 9, 2)),
            robot("town-b", 3, 300, jst(2026, 6, 1, 9, 4)),
            robot("town-c", 4, 200, jst(2026, 7, 15, 13, 0)),
            # FY2025: ends 23:10 JST on 31 March 2026 (already 1 April nowhere in Japan)
            robot("town-a", 5, 600, jst(2026, 3, 31, 23, 0)),
        ]:
            record_usage(s, ev)
        for i, (tid, pages) in enumerate([("town-a", 3), ("town-a", 2), ("town-b", 5)]):
            record_usage(s, UsageIn(event_id=f"p{i}", source="kyodo/job/9", type="ocr.page", subject=tid, value=pages,
                                    job_id=9 + i, time=jst(2026, 6, 30, 23, 30), data={"pages": pages}))
        # 1 July 00:10 JST is still 30 June in UTC: it belongs to July.
        record_usage(s, UsageIn(event_id="p-july", source="kyodo/job/20", type="ocr.page", subject="town-a", value=7,
                                job_id=20, time=jst(2026, 7, 1, 0, 10), data={"pages": 7}))
        for n, job in enumerate((30, 30, 31)):
            record_usage(s, UsageIn(event_id=f"run-{job}-{n}", source="kyodo/runs", type="rpa.run",
                                    subject="town-b", job_id=job, time=jst(2026, 6, 2, 10)))
    return engine
