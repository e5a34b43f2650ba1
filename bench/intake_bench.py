"""Intake benchmark: 1,000 files dropped at once into three tenants' inboxes.

Kyodo: a real ``kyodo serve`` process (embedded default: SQLite database + SqliteHuey
queue) with the quick ``echo`` job kind: watcher (settle time, SHA-256 duplicate check,
atomic move, Document + Job + usage + audit in one transaction), workers (claim,
lease, result in outbox/, file to done/). Every file must end in done/ exactly once.

Baseline, same run, same files: a naive polling loop (what a hand-written script does):
every second list the inbox and, for each file seen, hash it, write the same JSON result
and move it to done/ — no settle time, no database, no duplicate check, no crash safety.

Prints files/s and the p50/p95 latency from drop to done for both, and the ratios.
Run under ``flock /tmp/kyodo-bench.lock .venv/bin/python bench/intake_bench.py``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timezone
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

TENANTS = ("bench-a", "bench-b", "bench-c")
TIMEOUT = 240.0


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def drop(inboxes: list[Path], n: int) -> dict[str, float]:
    """Write n small scans round-robin into the inboxes; return name -> drop time."""
    dropped = {}
    for i in range(n):
        inbox = inboxes[i % len(inboxes)]
        name = f"scan-{i:05d}.pdf"
        (inbox / name).write_bytes(f"%PDF-1.4 bench file {i} ".encode() + os.urandom(64))
        dropped[f"{inbox.parent.name}/{name}"] = time.time()
    return dropped


# -- baseline: a naive polling loop -------------------------------------------------------

def naive_loop(root: Path, n: int, poll: float = 1.0) -> dict[str, float]:
    """Poll each inbox every *poll* seconds; process everything listed, sequentially."""
    done_at: dict[str, float] = {}
    deadline = time.monotonic() + TIMEOUT
    while len(done_at) < n and time.monotonic() < deadline:
        for t in TENANTS:
            inbox, done, outbox = (root / t / x for x in ("inbox", "done", "outbox"))
            for name in sorted(os.listdir(inbox)):
                src = inbox / name
                digest = hashlib.sha256(src.read_bytes()).hexdigest()
                (outbox / f"{src.stem}.echo.json").write_text(json.dumps({"file": name, "sha256": digest}))
                os.rename(src, done / name)
                done_at[f"{t}/{name}"] = time.time()
        time.sleep(poll)
    return done_at


def run_baseline(n: int) -> tuple[dict[str, float], dict[str, float], float]:
    with tempfile.TemporaryDirectory(prefix="kyodo-naive-") as tmp:
        root = Path(tmp)
        for t in TENANTS:
            for x in ("inbox", "done", "outbox"):
                (root / t / x).mkdir(parents=True)
        import threading

        result: dict[str, float] = {}
        th = threading.Thread(target=lambda: result.update(naive_loop(root, n)))
        th.start()
        time.sleep(0.3)
        t0 = time.time()
        dropped = drop([root / t / "inbox" for t in TENANTS], n)
        th.join()
        return dropped, result, t0


# -- Kyodo -----------------------------------------------------------------------------

def run_kyodo(n: int, threads: int, settle: float) -> tuple[dict[str, float], dict[str, float], float, dict]:
    from sqlalchemy import create_engine, text

    with tempfile.TemporaryDirectory(prefix="kyodo-intake-") as tmp:
        root = Path(tmp) / "var"
        tdir = Path(tmp) / "tenants"
        tdir.mkdir(parents=True)
        for t in TENANTS:
            (tdir / f"{t}.toml").write_text(f'display_name = "{t}"\nmax_concurrent_jobs = 8\n', encoding="utf-8")
        env = {**os.environ, "KYODO_DATA_ROOT": str(root), "KYODO_TENANTS_DIR": str(tdir),
               "KYODO_RUNNER_SETTLE_SECONDS": str(settle), "KYODO_RUNNER_SCAN_INTERVAL": "0.25",
               "PYTHONPATH": str(PROJECT)}
        for k in ("KYODO_DATABASE_URL", "KYODO_QUEUE_URL"):
            env.pop(k, None)
        log = open(Path(tmp) / "serve.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen([sys.executable, "-m", "automation.runner", "serve", "--no-web", "--kinds", "echo",
                                 "--intake-kind", "echo", "--threads", str(threads)],
                                cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            inboxes = [root / "tenants" / t / "inbox" for t in TENANTS]
            deadline = time.monotonic() + 60
            while not all(p.is_dir() for p in inboxes):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise SystemExit("kyodo serve did not start:\n" + (Path(tmp) / "serve.log").read_text(errors="replace")[-3000:])
                time.sleep(0.1)
            time.sleep(1.5)  # let the watcher finish its backlog scan and start watching
            t0 = time.time()
            dropped = drop(inboxes, n)
            engine = create_engine(f"sqlite:///{root / 'kyodo.db'}")
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                with engine.connect() as c:
                    done = c.execute(text("SELECT count(*) FROM document WHERE status = 'done'")).scalar_one()
                if done >= n:
                    break
                time.sleep(0.5)
            with engine.connect() as c:
                rows = c.execute(text("SELECT tenant_id, filename, updated_at FROM document WHERE status = 'done'")).all()
                jobs = c.execute(text("SELECT count(*), sum(attempts), count(DISTINCT document_id) FROM job")).one()
                ends = c.execute(text("SELECT count(*), count(DISTINCT target) FROM audit_event WHERE action = 'job.succeeded'")).one()
            from datetime import datetime

            done_at = {}
            for tid, fname, upd in rows:
                dt = upd if isinstance(upd, datetime) else datetime.fromisoformat(str(upd))
                done_at[f"{tid}/{fname}"] = dt.replace(tzinfo=timezone.utc).timestamp() if dt.tzinfo is None else dt.timestamp()
            files_done = [p for t in TENANTS for p in (root / "tenants" / t / "done").iterdir()]
            left = [p for t in TENANTS for x in ("inbox", "processing", "error") for p in (root / "tenants" / t / x).rglob("*") if p.is_file()]
            checks = {"documents_done": len(rows), "files_in_done": len(files_done), "files_left_elsewhere": len(left),
                      "jobs": jobs[0], "attempts": jobs[1], "jobs_distinct_docs": jobs[2],
                      "succeeded_events": ends[0], "succeeded_distinct_jobs": ends[1]}
            engine.dispose()
            return dropped, done_at, t0, checks
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def summarise(label: str, dropped: dict[str, float], done_at: dict[str, float], t0: float) -> dict[str, float]:
    lat = [done_at[k] - dropped[k] for k in done_at if k in dropped]
    span = max(done_at.values()) - t0 if done_at else float("nan")
    out = {"files": len(done_at), "seconds": span, "files_per_s": len(done_at) / span if span else 0.0,
           "p50": statistics.median(lat) if lat else float("nan"), "p95": pct(lat, 0.95) if lat else float("nan")}
    print(f"{label:<34} {out['files']:>5} files in {out['seconds']:6.1f} s = {out['files_per_s']:6.1f} files/s; "
          f"drop->done p50 {out['p50']:5.2f} s, p95 {out['p95']:5.2f} s")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--settle", type=float, default=1.0, help="Kyodo's settle time (a file must be unchanged this long)")
    args = ap.parse_args()
    print(f"intake benchmark: {args.files} files dropped at once into {len(TENANTS)} tenants' inboxes ({os.cpu_count()} cores)")
    dropped, done_at, t0, checks = run_kyodo(args.files, args.threads, args.settle)
    k = summarise(f"kyodo serve (settle {args.settle:g} s, {args.threads} thr)", dropped, done_at, t0)
    ok = (checks["documents_done"] == checks["files_in_done"] == checks["jobs"] == checks["jobs_distinct_docs"]
          == checks["succeeded_events"] == checks["succeeded_distinct_jobs"] == args.files and checks["files_left_elsewhere"] == 0)
    print(f"  exactly once: {'OK' if ok else 'FAILED'} {checks}")
    bdropped, bdone, bt0 = run_baseline(args.files)
    b = summarise("baseline: naive 1 s polling loop", bdropped, bdone, bt0)
    print(f"ratio kyodo/baseline: throughput x{k['files_per_s'] / b['files_per_s']:.2f}, "
          f"p50 latency x{k['p50'] / b['p50']:.2f}, p95 latency x{k['p95'] / b['p95']:.2f}")
    print("note: the baseline has no settle time (it takes half-copied files), no duplicate check, no database record, "
          "no crash safety; Kyodo's latency floor is its settle time.")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
