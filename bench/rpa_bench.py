"""RPA throughput: records/minute entered into the sandbox (variant a), real Chromium.

* kyodo: one BrowserSession reused across records (saved login state, one context per run)
* baseline "browser per record": a fresh Chromium launch + login for every record,
  what a naive robot (or a remote-desktop robot that restarts its app) does.

Same records, same sandbox (a separate process, reset between the two), same run.
Target: >= 60 records/minute and >= 3x the baseline. Run under the shared lock:

    flock /tmp/kyodo-bench.lock .venv/bin/python bench/rpa_bench.py [--records 20]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from automation.rpa import BrowserSession, run_scenario  # noqa: E402
from automation.sandbox.samples import recipients_for, sample_records  # noqa: E402
from tenants.loader import get_tenant  # noqa: E402

NAME = "child_allowance_status_report"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    code = ("import uvicorn; from automation.sandbox import create_sandbox_app; "
            f"uvicorn.run(create_sandbox_app('a', username='nagano-robot'), host='127.0.0.1', port={port}, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).resolve().parent.parent)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/_admin/health", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("sandbox did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=20)
    args = ap.parse_args()
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}/"
    admin = httpx.Client(base_url=url)
    tenant = get_tenant("nagano-shi").config.model_copy(deep=True)
    tenant.systems["jidou_teate"] = tenant.systems["jidou_teate"].model_copy(update={"base_url": url})
    records = sample_records(args.records, seed=42)
    secret = lambda _t, _n: "sandbox-pass"  # noqa: E731
    art = Path(tempfile.mkdtemp(prefix="kyodo-rpa-bench-"))
    results = {}
    try:
        # kyodo: one browser for all records (launch and first login included in the time)
        admin.post("/_admin/reset"); admin.post("/_admin/seed", json=recipients_for(records))
        t0 = time.perf_counter()
        with BrowserSession() as b:
            res = run_scenario(NAME, tenant, records, artifacts_dir=art / "reused", secret=secret, browser=b)
        reused = time.perf_counter() - t0
        ok = sum(r.status == "entered" for r in res.records)
        assert ok == len(records), [r.message for r in res.records if r.status != "entered"]
        results["reused"] = (reused, ok)

        # baseline: a browser launch and a login per record
        admin.post("/_admin/reset"); admin.post("/_admin/seed", json=recipients_for(records))
        t0 = time.perf_counter()
        ok = 0
        for rec in records:
            with BrowserSession() as b:
                r = run_scenario(NAME, tenant, [rec], artifacts_dir=art / "baseline", secret=secret, browser=b)
            ok += r.records[0].status == "entered"
        base = time.perf_counter() - t0
        assert ok == len(records)
        results["baseline"] = (base, ok)
        stored = admin.get("/_admin/stored").json()
        assert len(stored) == len(records)
    finally:
        server.terminate()
        server.wait(timeout=10)
    rpm = {k: 60 * n / s for k, (s, n) in results.items()}
    load = os.getloadavg()[0]
    print(f"records: {len(records)} (variant a, 1-3 children each), load average {load:.1f} on {os.cpu_count()} cores")
    print(f"kyodo (reused browser + login state): {rpm['reused']:.1f} records/min ({results['reused'][0]:.1f} s)")
    print(f"baseline (browser per record):        {rpm['baseline']:.1f} records/min ({results['baseline'][0]:.1f} s)")
    ratio = rpm["reused"] / rpm["baseline"]
    print(f"ratio: {ratio:.2f}x  (targets: >= 60 records/min, >= 3x)")


if __name__ == "__main__":
    main()
