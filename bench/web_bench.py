"""Web UI latency under load: p95 of the review page and the JSON API under 20 concurrent
clients on loopback, against a static file served by the same server (the baseline).

Bounded: each endpoint gets at most --requests requests or --seconds seconds, whichever
comes first. The server runs in its own process (uvicorn, one worker, SQLite on a temp
data root) so the load generator does not share its interpreter.

    flock /tmp/kyodo-bench.lock .venv/bin/python bench/web_bench.py
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(root: Path, documents: int) -> list[int]:
    os.environ["KYODO_DATA_ROOT"] = str(root)
    from tenants import migrate
    from tenants.db import get_engine
    from tests.web.conftest import TENANT_A, seed
    from tests.web.docs import add_flagged_document

    engine = get_engine()
    migrate.upgrade(engine)
    tenants = seed(engine)
    return [add_flagged_document(engine, tenants[TENANT_A], root, f"genkyo-{i:03d}.png") for i in range(documents)]


async def load(client: httpx.AsyncClient, urls: list[str], clients: int, max_requests: int, max_seconds: float,
               headers: dict[str, str]) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    sent = 0
    start = time.perf_counter()

    async def worker(n: int) -> None:
        nonlocal sent, errors
        while sent < max_requests and time.perf_counter() - start < max_seconds:
            url = urls[(sent + n) % len(urls)]
            sent += 1
            t0 = time.perf_counter()
            r = await client.get(url, headers=headers)
            latencies.append(time.perf_counter() - t0)
            if r.status_code != 200:
                errors += 1

    await asyncio.gather(*(worker(i) for i in range(clients)))
    return latencies, errors, time.perf_counter() - start


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) >= 2 else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--requests", type=int, default=2000, help="per endpoint")
    ap.add_argument("--seconds", type=float, default=20.0, help="per endpoint")
    ap.add_argument("--documents", type=int, default=5)
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="kyodo-web-bench-")) / "var"
    root.mkdir(parents=True)
    doc_ids = prepare(root, args.documents)
    port = _free_port()
    env = {**os.environ, "KYODO_DATA_ROOT": str(root), "PYTHONPATH": str(PROJECT)}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "automation.web.app:create_app", "--factory",
                               "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
                              env=env, cwd=PROJECT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        from tests.web.conftest import PASSWORD, TENANT_A

        setup = httpx.Client(base_url=base, follow_redirects=True)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', setup.get("/login").text).group(1)
        r = setup.post("/login", data={"csrf_token": csrf, "tenant": TENANT_A, "username": "clerk-a", "password": PASSWORD})
        assert r.status_code == 200 and "確認待ち" in r.text, "login failed"
        cookie = {"Cookie": "; ".join(f"{k}={v}" for k, v in setup.cookies.items())}
        token = setup.post("/api/token", json={"tenant": TENANT_A, "username": "clerk-a", "password": PASSWORD}).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        cases = [
            ("static file (baseline)", ["/static/style.css"], {}),
            ("review page /documents/{id}", [f"/documents/{d}" for d in doc_ids], cookie),
            ("API /api/documents/{id}", [f"/api/documents/{d}" for d in doc_ids], bearer),
        ]
        results = {}
        limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)

        async def run_all() -> None:
            async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
                for name, urls, headers in cases:
                    await load(client, urls, args.clients, 40, 5, headers)  # warm-up
                    results[name] = await load(client, urls, args.clients, args.requests, args.seconds, headers)

        asyncio.run(run_all())
    finally:
        server.terminate()
        server.wait(timeout=10)

    print(f"web bench: {args.clients} concurrent clients on loopback, up to {args.requests} requests or "
          f"{args.seconds:.0f} s per endpoint; uvicorn 1 worker, SQLite; {os.cpu_count()} cores")
    print(f"{'endpoint':32} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8}")
    base_p95 = None
    for name, (lat, errors, secs) in results.items():
        p95 = p(lat, 95)
        base_p95 = base_p95 or p95
        print(f"{name:32} {len(lat):8d} {errors:6d} {len(lat) / secs:8.0f} {p(lat, 50):8.1f} {p95:8.1f}"
              + (f"   x{p95 / base_p95:.1f} baseline p95" if p95 != base_p95 else ""))


if __name__ == "__main__":
    main()
