"""Validate the tenant files, apply migrations, register tenants, check the installation."""
from __future__ import annotations

from automation.demo import DemoContext, StepSummary
from automation.doctor import run_checks
from tenants import migrate
from tenants.db import session_scope
from tenants.registry import sync_tenants

ORDER = 10


def run(ctx: DemoContext) -> StepSummary:
    s = StepSummary(title="基盤 Foundation: tenants, database, installation")
    revs = migrate.upgrade(ctx.engine)
    with session_scope(ctx.engine) as session:
        synced = sync_tenants(session, ctx.tenants)
    for tid in synced:
        t = ctx.tenants.tenants[tid].config
        s.lines.append(f"tenant {tid}: {t.display_name}, population {t.population:,}, pools {', '.join(t.pools) or '-'}")
    if ctx.tenants.problems:
        s.ok = False
        s.lines += [f"tenant file problem: {p}" for p in ctx.tenants.problems]
    s.lines.append(f"database {ctx.engine.url.render_as_string(hide_password=True)} at {', '.join(revs)}")
    checks = run_checks()
    failed = [c for c in checks if not c.ok]
    s.lines.append(f"doctor: {len(checks) - len(failed)}/{len(checks)} checks OK" + (f"; failing: {', '.join(c.name for c in failed)}" if failed else ""))
    if failed:
        s.ok = False
    return s
