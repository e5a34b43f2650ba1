"""Shared RPA scenario: one scenario, two vendors' systems (sandbox variants a and b)."""
from __future__ import annotations

import time

from automation.demo import DemoContext, StepSummary
from automation.rpa import BrowserSession, apply_override, load_scenario, run_scenario
from automation.sandbox import start_sandbox
from automation.sandbox.samples import recipients_for, sample_records

ORDER = 30
NAME = "child_allowance_status_report"
PASSWORD = "sandbox-pass"


def run(ctx: DemoContext) -> StepSummary:
    s = StepSummary(title="RPA 共有シナリオ: 児童手当 現況届 (sandbox variants a/b)")
    plan = [("nagano-shi", "a", 2, 1), ("obuse-machi", "b", 2, 0)]  # tenant, variant, records, unknown recipients
    sc = load_scenario(NAME, ctx.settings.scenarios_dir)
    runs = []
    t0 = time.perf_counter()
    with BrowserSession() as browser:
        for tid, variant, n, unknown in plan:
            loaded = ctx.tenants.tenants.get(tid)
            if loaded is None:
                s.ok = False
                s.lines.append(f"tenant {tid} is missing or invalid; skipped")
                continue
            tenant = loaded.config.model_copy(deep=True)
            system = tenant.systems["jidou_teate"]
            sandbox = start_sandbox(variant, username=system.username or "robot", password=PASSWORD)
            try:
                tenant.systems["jidou_teate"] = system.model_copy(update={"base_url": sandbox.url})
                records = sample_records(n + unknown, seed=30 + len(runs), municipality=tenant.display_name)
                sandbox.seed(recipients_for(records[:n]))
                art = ctx.workdir / "rpa" / tid
                first = run_scenario(NAME, tenant, records, artifacts_dir=art, secret=lambda _t, _n: PASSWORD, browser=browser)
                again = run_scenario(NAME, tenant, records, artifacts_dir=art, secret=lambda _t, _n: PASSWORD, browser=browser)
                eff = apply_override(sc, tenant)
                runs.append((tenant, variant, first, again, len(sandbox.stored()), n, eff))
            finally:
                sandbox.stop()
        launches = browser.launches
    total_records = 0
    for tenant, variant, first, again, stored, n, eff in runs:
        c = first.counts()
        total_records += len(first.records)
        changed = sum(1 for k, v in eff.origins.items() if k.startswith("targets.") and v != "scenario")
        how = "shared scenario as is" if not (changed or eff.skipped or eff.added) else \
            f"override: {changed} targets, -{len(eff.skipped)}/+{len(eff.added)} steps"
        errs = [r.message for r in first.records if r.status == "business_error"]
        receipts = [r.extracted.get("receipt_number", "") for r in first.records if r.status == "entered"]
        s.lines.append(f"{tenant.display_name} (variant {variant}, {how}): entered {c.get('entered', 0)}/{len(first.records)} "
                       f"[{receipts[0]}…]" + (f", business error: {errs[0]}" if errs else "") + f" in {first.seconds:.1f} s")
        if c.get("entered", 0) != n or c.get("application_error"):
            s.ok = False
    reruns = [r for *_, again, _st, _n, _e in runs for r in again.records]
    skipped = sum(r.status == "skipped_already_entered" for r in reruns)
    stored_total = sum(st for *_, st, _n, _e in runs)
    expected = sum(n for *_, n, _e in runs)
    s.lines.append(f"re-run (idempotent): {skipped} skipped as already entered, stored reports {stored_total} (= {expected}, none twice)")
    if stored_total != expected:
        s.ok = False
    logins = sum(f.logins + a.logins for _t, _v, f, a, *_ in runs)
    s.lines.append(f"1 browser launch ({launches}), {logins} logins for {len(runs) * 2} runs (login state reused), "
                   f"{2 * total_records} records in {time.perf_counter() - t0:.1f} s")
    return s
