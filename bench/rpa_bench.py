"""RPA throughput: records/minute entered into the sandbox (variant a), real Chromium.

* kyodo: one BrowserSession reused across records (saved login state, one context per run)
* baseline "browser per record": a fresh Chromium launch + login for every record,
  what a naive robot (or a remote-desktop robot that restarts its app) does.

Both run the same executor with its defaults (per-record trace of actions and network, DOM
snapshots only on a retry; keyboard activation of native links, buttons and checkboxes), so
the ratio is the browser and login reuse alone.

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
    ap.add_argument("--blocks", type=int, default=1,
                    help="alternate the two modes in this many blocks of records, so that a change in the "
                         "machine's load during the run hits both alike (the reused mode then opens one "
                         "context per block; its browser and login state stay)")
    args = ap.parse_args()
    load_before = os.getloadavg()[0]
    records = sample_records(args.records, seed=42)
    secret = lambda _t, _n: "sandbox-pass"  # noqa: E731
    art = Path(tempfile.mkdtemp(prefix="kyodo-rpa-bench-"))
    tenant = get_tenant("nagano-shi").config.model_copy(deep=True)
    servers, tenants, admins = {}, {}, {}
    n = max(1, min(args.blocks, len(records)))
    blocks = [records[i * len(records) // n:(i + 1) * len(records) // n] for i in range(n)]
    seconds = {"reused": 0.0, "baseline": 0.0}
    entered = {"reused": 0, "baseline": 0}
    try:
        for mode in seconds:  # one sandbox per mode, both seeded with the same records
            port = free_port()
            servers[mode] = start_server(port)
            url = f"http://127.0.0.1:{port}/"
            admins[mode] = httpx.Client(base_url=url)
            admins[mode].post("/_admin/seed", json=recipients_for(records))
            tenants[mode] = tenant.model_copy(deep=True)
            tenants[mode].systems["jidou_teate"] = tenant.systems["jidou_teate"].model_copy(update={"base_url": url})
        # kyodo: one browser for all records (launch and first login included in the time)
        reused = BrowserSession()
        try:
            for block in blocks:
                t0 = time.perf_counter()
                res = run_scenario(NAME, tenants["reused"], block, artifacts_dir=art / "reused", secret=secret,
                                   browser=reused)
                seconds["reused"] += time.perf_counter() - t0
                entered["reused"] += sum(r.status == "entered" for r in res.records)
                assert all(r.status == "entered" for r in res.records), [r.message for r in res.records]

                # baseline: a browser launch and a login per record
                t0 = time.perf_counter()
                for rec in block:
                    with BrowserSession() as b:
                        r = run_scenario(NAME, tenants["baseline"], [rec], artifacts_dir=art / "baseline",
                                         secret=secret, browser=b)
                    entered["baseline"] += r.records[0].status == "entered"
                seconds["baseline"] += time.perf_counter() - t0
        finally:
            reused.close()
        for mode in seconds:
            assert entered[mode] == len(records), (mode, entered[mode])
            assert len(admins[mode].get("/_admin/stored").json()) == len(records)
    finally:
        for server in servers.values():
            server.terminate()
            server.wait(timeout=10)
    results = {mode: (seconds[mode], entered[mode]) for mode in seconds}
    rpm = {k: 60 * n / s for k, (s, n) in results.items()}
    load = os.getloadavg()[0]
    print(f"records: {len(records)} (variant a, 1-3 children each) in {n} block(s), load average "
          f"{load_before:.1f} before, {load:.1f} after, on {os.cpu_count()} cores")
    print(f"kyodo (reused browser + login state): {rpm['reused']:.1f} records/min ({results['reused'][0]:.1f} s)")
    print(f"baseline (browser per record):        {rpm['baseline']:.1f} records/min ({results['baseline'][0]:.1f} s)")
    ratio = rpm["reused"] / rpm["baseline"]
    print(f"ratio: {ratio:.2f}x  (targets: >= 60 records/min, >= 3x)")


if __name__ == "__main__":
    main()
