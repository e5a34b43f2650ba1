"""Metering write overhead: usage events per second with deduplication vs a plain insert.

Measured: ``tenants.usage.add_usage`` (My Number masking, tenant check and
``INSERT … ON CONFLICT (source, event_id) DO NOTHING RETURNING id``), ``record_usage`` (the
same plus the ORM row it returns, informational) and ``record_usage_many`` (one
multi-row statement). Baseline: a plain INSERT of the same
rows into a table with the same columns and indexes but no unique (source, event_id)
constraint — what metering would cost without deduplication. Events are committed in
transactions of 50 (one job's worth), on SQLite (file, WAL) and on the real PostgreSQL.
Target: deduplicated rate >= 0.5x the plain rate (add_usage per event and record_usage_many batched).

Run: ``flock /tmp/kyodo-bench.lock .venv/bin/python bench/metering_bench.py [--events 4000]``
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from sqlmodel import Session  # noqa: E402

from tenants import migrate  # noqa: E402
from tenants.db import make_engine  # noqa: E402
from tenants.models import Tenant  # noqa: E402
from tenants.usage import UsageIn, add_usage, record_usage, record_usage_many  # noqa: E402

PG_URL = os.environ.get("KYODO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TX = 50
T0 = datetime(2026, 6, 1, tzinfo=timezone.utc)


def events(n: int, tag: str) -> list[UsageIn]:
    types = ("ocr.page", "ocr.field", "rpa.record", "rpa.robot_seconds")
    return [UsageIn(event_id=f"{tag}-{i}", source=f"kyodo/job/{i // TX}", type=types[i % 4],
                    subject=("town-a", "town-b", "town-c")[i % 3], value=float(i % 7 + 1), job_id=i // TX,
                    time=T0 + timedelta(seconds=i), data={"pool": "shared-rpa", "scenario": "child_allowance", "n": i})
            for i in range(n)]


def plain_table(engine: sa.Engine) -> sa.Table:
    md = sa.MetaData()
    sa.Table("tenant", md, sa.Column("id", sa.String(64), primary_key=True))  # exists already; referenced by the FK
    t = sa.Table("bench_usage_plain", md,
                 sa.Column("id", sa.Integer, primary_key=True), sa.Column("event_id", sa.String(200), nullable=False),
                 sa.Column("source", sa.String(200), nullable=False), sa.Column("type", sa.String(64), nullable=False),
                 sa.Column("subject", sa.String(64), sa.ForeignKey("tenant.id"), nullable=False),
                 sa.Column("time", sa.DateTime(timezone=True), nullable=False), sa.Column("value", sa.Float, nullable=False),
                 sa.Column("job_id", sa.Integer, index=True), sa.Column("data", sa.JSON, nullable=False),
                 sa.Index("ix_bench_plain_subject_type_time", "subject", "type", "time"),
                 sa.Index("ix_bench_plain_type_time", "type", "time"))
    t.create(engine)
    return t


def rate(n: int, seconds: float) -> float:
    return n / seconds if seconds else float("inf")


def _timed(engine: sa.Engine, n: int, step) -> float:  # noqa: ANN001
    """Events/s of *step(session, i)* over n events in transactions of TX."""
    t = time.perf_counter()
    for i in range(0, n, TX):
        with Session(engine) as s:
            step(s, i)
            s.commit()
    return rate(n, time.perf_counter() - t)


def run(engine: sa.Engine, n: int, label: str, rounds: int = 2) -> dict[str, float]:
    migrate.upgrade(engine)
    with Session(engine) as s:
        s.add_all([Tenant(id=t, display_name=t) for t in ("town-a", "town-b", "town-c")])
        s.commit()
    plain = plain_table(engine)
    plain_insert = plain.insert()  # built once, like the usage statement: both hit the compiled cache
    out: dict[str, float] = {}

    def best(key: str, value: float) -> None:
        out[key] = max(out.get(key, 0.0), value)

    # Rounds interleave the candidates and keep each one's best: the machine is shared and noisy.
    for r in range(-1, rounds):  # round -1 warms the pool, the compiled caches and the files
        m = n if r >= 0 else TX
        rows = [{**e.model_dump(), "time": e.time} for e in events(m, f"p{r}")]
        evs, evs_a, evs_b = events(m, f"e{r}"), events(m, f"a{r}"), events(m, f"b{r}")
        rows_b = [{**e.model_dump(), "time": e.time} for e in events(m, f"pb{r}")]
        res = {
            "plain_single": _timed(engine, m, lambda s, i: [s.execute(plain_insert, x) for x in rows[i:i + TX]]),
            "dedup_add": _timed(engine, m, lambda s, i: [add_usage(s, e) for e in evs_a[i:i + TX]]),
            "dedup_single": _timed(engine, m, lambda s, i: [record_usage(s, e) for e in evs[i:i + TX]]),
            "plain_batch": _timed(engine, m, lambda s, i: s.execute(plain_insert, rows_b[i:i + TX])),
            "dedup_batch": _timed(engine, m, lambda s, i: record_usage_many(s, evs_b[i:i + TX])),
        }
        with Session(engine) as s:  # every event again: all are duplicates, none may be stored
            before = s.execute(sa.text("SELECT count(*) FROM usage_event")).scalar()
        res["resend_single"] = _timed(engine, m, lambda s, i: [add_usage(s, e) for e in evs_a[i:i + TX]])
        with Session(engine) as s:
            assert s.execute(sa.text("SELECT count(*) FROM usage_event")).scalar() == before
        if r >= 0:
            for k, v in res.items():
                best(k, v)

    print(f"{label}: {n} events, transactions of {TX}, best of {rounds} interleaved rounds")
    print(f"  per event : plain insert {out['plain_single']:8.0f} ev/s | add_usage (dedup)    {out['dedup_add']:8.0f} ev/s"
          f" | ratio {out['dedup_add'] / out['plain_single']:.2f}x | all-duplicate resend {out['resend_single']:8.0f} ev/s")
    print(f"              record_usage (dedup + ORM row returned) {out['dedup_single']:8.0f} ev/s"
          f" | ratio {out['dedup_single'] / out['plain_single']:.2f}x")
    print(f"  batched   : plain insert {out['plain_batch']:8.0f} ev/s | record_usage_many    {out['dedup_batch']:8.0f} ev/s"
          f" | ratio {out['dedup_batch'] / out['plain_batch']:.2f}x")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=4000)
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as d:
        eng = make_engine(f"sqlite:///{d}/bench.db")
        results["sqlite"] = run(eng, args.events, "SQLite (WAL, file)")
        eng.dispose()
    schema = f"kyodo_bench_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL)
    try:
        with admin.begin() as c:
            c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except Exception as e:  # noqa: BLE001
        print(f"PostgreSQL skipped: {str(e).splitlines()[0]}")
    else:
        try:
            eng = make_engine(PG_URL, connect_args={"options": f"-csearch_path={schema}"})
            results["postgres"] = run(eng, args.events, "PostgreSQL (127.0.0.1)")
            eng.dispose()
        finally:
            with admin.begin() as c:
                c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()
    worst = min(min(r["dedup_add"] / r["plain_single"], r["dedup_batch"] / r["plain_batch"]) for r in results.values())
    print(f"target dedup >= 0.5x plain insert: worst ratio {worst:.2f}x -> {'MET' if worst >= 0.5 else 'NOT MET'}")
    return 0 if worst >= 0.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
