"""Split this fiscal year's shared costs among the municipalities from the usage the demo produced."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from automation.demo import DemoContext, StepSummary
from tenants.allocation import allocate
from tenants.audit import verify
from tenants.billing import load_billing
from tenants.metering import fiscal_year_of, fiscal_year_period, peak_seats
from tenants.models import UsageEvent, utcnow
from tenants.quotas import check_quota
from tenants.reports import write_all

ORDER = 60


def run(ctx: DemoContext) -> StepSummary:
    s = StepSummary(title="共同利用 Usage, quotas, cost allocation, audit")
    billing = load_billing()
    tenants = {tid: t.config for tid, t in ctx.tenants.tenants.items()}
    fy = fiscal_year_of(utcnow())
    period = fiscal_year_period(fy)
    with Session(ctx.engine) as session:
        report = allocate(session, fy, billing=billing, tenants=tenants)
        by_type = dict(session.execute(
            select(UsageEvent.type, func.count()).where(UsageEvent.time >= period.start, UsageEvent.time < period.end)
            .group_by(UsageEvent.type)).all())
        peaks = peak_seats(session, fiscal_year=fy)
        quotas = [check_quota(session, cfg, m, billing=billing) for cfg in tenants.values() for m in sorted(cfg.quotas)
                  if m in billing.meters]
        chain = verify(session)
    files = write_all(report, ctx.workdir / "usage")
    shares = ", ".join(f"{report.name(t)} ¥{y:,}" for t, y in report.totals.items())
    s.lines.append(f"FY{fy} costs ¥{report.total_yen:,} split 基本割/人口割/実績割: {shares}")
    events = ", ".join(f"{t} {n}" for t, n in sorted(by_type.items())) or "none yet"
    peak = max((p.peak for p in peaks), default=0)
    s.lines.append(f"usage events this FY: {events}; peak concurrent robot seats {peak}")
    q = "; ".join(f"{x.tenant_id} {x.meter} {x.used:,.0f}/{x.limit:,.0f} {x.state}" for x in quotas) or "no quotas"
    s.lines.append(f"quotas: {q}; audit chain {'intact' if chain.ok else 'BROKEN'} ({chain.checked} events)")
    s.lines.append(f"wrote {len(files)} files (csv, xlsx, html, png) under {ctx.workdir / 'usage'}")
    if not chain.ok or sum(report.totals.values()) != report.total_yen - sum(i.unallocated_yen for i in report.items):
        s.ok = False
    return s
