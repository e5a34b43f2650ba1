"""Audit chain under concurrency and tampering; tenant isolation (ORM, RLS on the real server, files)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from typer.testing import CliRunner

from tenants.audit import audit, verify
from tenants.db import make_engine, session_scope
from tenants.models import AuditEvent, Document, Job, Tenant, UsageEvent
from tenants.paths import PathTraversalError, safe_tenant_path
from tenants.rls import rls_status
from tenants.scope import CrossTenantError, deny_cross_tenant, tenant_session
from tenants.usage import UsageIn, record_usage


@pytest.fixture
def ab(engine):  # noqa: ANN001, ANN201
    with session_scope(engine) as s:
        s.add_all([Tenant(id="town-a", display_name="A"), Tenant(id="town-b", display_name="B")])
        s.flush()
        for tid in ("town-a", "town-b"):
            doc = Document(tenant_id=tid, filename=f"{tid}.pdf", path=f"/{tid}", sha256=tid.ljust(64, "0"))
            s.add(doc)
            s.flush()
            s.add(Job(tenant_id=tid, kind="ocr", document_id=doc.id))
            record_usage(s, UsageIn(event_id=f"{tid}-1", source="t", type="ocr.page", subject=tid))
            audit(s, "run.start", tenant_id=tid, target=f"{tid}/job")
    return engine


def test_two_writers_never_fork_the_chain(ab) -> None:  # noqa: ANN001
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            for i in range(15):
                with session_scope(ab) as s:
                    audit(s, "run.end", actor=name, tenant_id="town-a", target=f"job/{i}")
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(f"worker-{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with Session(ab) as s:
        rep = verify(s)
        prevs = s.execute(select(AuditEvent.prev_hash)).scalars().all()
    assert rep.ok, rep.problems
    assert rep.checked == 2 + 45 and len(set(prevs)) == len(prevs)  # no two rows link to the same predecessor


def test_verify_names_edited_and_removed_rows(ab, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    with session_scope(ab) as s:
        for i in range(3):
            audit(s, "review.correct", actor="clerk", tenant_id="town-a", target=f"doc/{i}", detail={"field": "phone"})
    with Session(ab) as s:
        ids = s.execute(select(AuditEvent.id).order_by(AuditEvent.id)).scalars().all()
    with ab.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE id = :i"), {"i": ids[2]})
        conn.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": ids[-1]})
    with Session(ab) as s:
        rep = verify(s)
    assert not rep.ok and rep.broken_ids == [ids[2]]
    assert any("head" in p for p in rep.problems)  # the removed last row is noticed too


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_cli_audit_verify_exit_code(ab) -> None:  # noqa: ANN001
    from automation.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0 and "intact (2 events)" in ok.output
    with ab.begin() as conn:
        conn.execute(text("UPDATE audit_event SET target = 'x' WHERE id = 1"))
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1 and "broken ids: 1" in bad.output
    listed = runner.invoke(app, ["audit", "list", "--tenant", "town-b", "--json"])
    assert listed.exit_code == 0 and '"town-b"' in listed.output and '"town-a"' not in listed.output


def test_orm_isolation_and_denied_attempt_is_audited(ab) -> None:  # noqa: ANN001
    with session_scope(ab) as s:
        b_doc = s.execute(select(Document.id).where(Document.tenant_id == "town-b")).scalar_one()
    with tenant_session("town-a", ab) as s:
        assert {d.tenant_id for d in s.execute(select(Document)).scalars()} == {"town-a"}
        assert {u.subject for u in s.execute(select(UsageEvent)).scalars()} == {"town-a"}
        assert s.get(Document, b_doc) is None
        err = deny_cross_tenant(s, "clerk-a", "town-a", f"document/{b_doc}", owner_tenant_id="town-b")
        assert isinstance(err, CrossTenantError)
    with Session(ab) as s:
        row = s.execute(select(AuditEvent).where(AuditEvent.action == "access.denied")).scalar_one()
        assert (row.actor, row.tenant_id, row.target) == ("clerk-a", "town-a", f"document/{b_doc}")
        assert verify(s).ok


def _app_role(engine, schema: str) -> None:  # noqa: ANN001
    # An ordinary role: superusers (the test login) bypass row-level security.
    with engine.begin() as conn:
        conn.execute(text("DO $$ BEGIN CREATE ROLE kyodo_app NOLOGIN; "
                          "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO kyodo_app'))
        conn.execute(text(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO kyodo_app'))
        conn.execute(text(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO kyodo_app'))


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_rls_hides_other_tenants_from_raw_sql(ab, pg_schema: str) -> None:  # noqa: ANN001
    from tests.conftest import PG_URL

    _app_role(ab, pg_schema)
    with ab.connect() as conn:
        assert all(rls_status(conn).get(t) for t in ("document", "job", "usage_event", "audit_event"))
    tables = {"document": "tenant_id", "job": "tenant_id", "usage_event": "subject", "audit_event": "tenant_id"}
    with ab.connect() as conn:
        superuser = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}
        conn.execute(text("SET ROLE kyodo_app"))
        platform = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in tables}
        conn.execute(text("SELECT set_config('app.tenant_id', 'town-a', false)"))
        for table, col in tables.items():
            seen = conn.execute(text(f"SELECT DISTINCT {col} FROM {table}")).scalars().all()
            assert seen == ["town-a"], (table, seen)
            assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE {col} = 'town-b'")).scalar() == 0
        assert conn.execute(text("UPDATE document SET filename = 'x' WHERE tenant_id = 'town-b'")).rowcount == 0
        with pytest.raises(DBAPIError, match="row-level security"):
            conn.execute(text("INSERT INTO job (tenant_id, kind, status, priority, attempts, max_attempts, payload, "
                              "created_at, updated_at) VALUES ('town-b', 'ocr', 'queued', 0, 0, 3, '{}', now(), now())"))
        conn.rollback()
    assert superuser == platform and all(v == 2 for v in platform.values())  # no tenant set: the platform sees all
    # Through the application's own mechanism: tenant_session sets app.tenant_id per transaction.
    app_engine = make_engine(PG_URL, connect_args={"options": f"-csearch_path={pg_schema} -crole=kyodo_app"})
    try:
        with tenant_session("town-b", app_engine) as s:
            assert s.execute(text("SELECT DISTINCT subject FROM usage_event")).scalars().all() == ["town-b"]
            assert s.execute(text("SELECT current_user")).scalar() == "kyodo_app"
        with Session(app_engine) as s:  # a later platform transaction on the same pooled connection sees all again
            assert s.execute(text("SELECT count(*) FROM usage_event")).scalar() == 2
    finally:
        app_engine.dispose()


def test_safe_tenant_path(tmp_path: Path) -> None:
    base = tmp_path / "tenants" / "town-a"
    (base / "work").mkdir(parents=True)
    (tmp_path / "secret.txt").write_text("x")
    assert safe_tenant_path(base, "work", "doc-1", "page-1.png") == (base / "work/doc-1/page-1.png").resolve()
    for bad in (["..", "town-b"], ["work/../../town-b"], ["/etc/passwd"], ["C:\\x"], ["a\x00b"], [""]):
        with pytest.raises(PathTraversalError):
            safe_tenant_path(base, *bad)
    os.symlink(tmp_path, base / "work" / "out")
    with pytest.raises(PathTraversalError, match="outside"):
        safe_tenant_path(base, "work", "out", "secret.txt")
