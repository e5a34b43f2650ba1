"""The model layer on both SQLite and the real PostgreSQL (the ``engine`` fixture is parametrised)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from tenants import migrate
from tenants.audit import audit, verify_chain
from tenants.db import session_scope
from tenants.loader import load_all
from tenants.models import Document, DocumentStatus, Job, JobStatus, Tenant, UsageEvent
from tenants.registry import sync_tenants
from tenants.usage import UsageIn, record_usage


@pytest.fixture
def tenant(engine) -> str:  # noqa: ANN001
    with session_scope(engine) as s:
        s.add(Tenant(id="town-a", display_name="Ａ町", population=1000))
    return "town-a"


def test_migrations_are_current_and_idempotent(engine) -> None:  # noqa: ANN001
    assert migrate.pending(engine) == []
    assert migrate.upgrade(engine) == migrate.current_revisions(engine)


def test_document_and_job_roundtrip(engine, tenant: str) -> None:  # noqa: ANN001
    lease = datetime.now(timezone.utc) + timedelta(minutes=5)
    with session_scope(engine) as s:
        doc = Document(tenant_id=tenant, filename="現況届_001.pdf", path="/x", sha256="a" * 64, size=10,
                       ocr_result={"fields": {"氏名": "長野 太郎"}})
        s.add(doc)
        s.flush()
        s.add(Job(tenant_id=tenant, kind="ocr", document_id=doc.id, idempotency_key="ocr:a", payload={"pages": [1, 2]},
                  lease_until=lease, priority=5))
    with Session(engine) as s:
        job = s.exec(select(Job)).scalars().one()  # type: ignore[call-overload]
        assert job.status == JobStatus.queued and job.attempts == 0 and job.payload == {"pages": [1, 2]}
        got = job.lease_until if job.lease_until.tzinfo else job.lease_until.replace(tzinfo=timezone.utc)
        assert abs((got - lease).total_seconds()) < 1
        doc = s.get(Document, job.document_id)
        assert doc.ocr_result == {"fields": {"氏名": "長野 太郎"}} and doc.status == DocumentStatus.received


def test_idempotency_key_is_unique(engine, tenant: str) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        s.add(Job(tenant_id=tenant, kind="ocr", idempotency_key="same"))
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(Job(tenant_id=tenant, kind="ocr", idempotency_key="same"))


def test_same_scan_twice_is_one_document(engine, tenant: str) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        s.add(Document(tenant_id=tenant, filename="a.pdf", path="/a", sha256="b" * 64))
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(Document(tenant_id=tenant, filename="copy of a.pdf", path="/b", sha256="b" * 64))


def test_job_needs_existing_tenant(engine) -> None:  # noqa: ANN001
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(Job(tenant_id="nowhere", kind="ocr"))


def test_resent_usage_event_counted_once(engine, tenant: str) -> None:  # noqa: ANN001
    ev = UsageIn(event_id="job-1-page-1", source="kyodo/job/1", type="ocr.page", subject=tenant, data={"note": "123456789018"})
    with session_scope(engine) as s:
        record_usage(s, ev)
        record_usage(s, ev)  # resent in the same transaction
    with session_scope(engine) as s:
        record_usage(s, ev)  # resent later
    with Session(engine) as s:
        rows = s.exec(select(UsageEvent)).scalars().all()  # type: ignore[call-overload]
        assert len(rows) == 1
        assert "123456789018" not in str(rows[0].data)


def test_audit_chain_detects_edited_row(engine, tenant: str) -> None:  # noqa: ANN001
    with session_scope(engine) as s:
        audit(s, "config.change", actor="admin", tenant_id=tenant, detail={"key": "quota"})
        audit(s, "run.start", actor="scheduler", tenant_id=tenant, target="job/1")
        audit(s, "run.end", actor="scheduler", tenant_id=tenant, target="job/1")
    with Session(engine) as s:
        assert verify_chain(s) == []
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET actor = 'mallory' WHERE action = 'run.start'"))
    with Session(engine) as s:
        problems = verify_chain(s)
    assert len(problems) == 1 and "edited" in problems[0]


def test_sync_tenants_from_files(engine) -> None:  # noqa: ANN001
    report = load_all()
    with session_scope(engine) as s:
        ids = sync_tenants(s, report)
    assert "nagano-shi" in ids
    with session_scope(engine) as s:  # a second sync updates, never duplicates
        sync_tenants(s, report)
    with Session(engine) as s:
        assert s.get(Tenant, "nagano-shi").display_name == "長野市"
        assert len(s.exec(select(Tenant)).scalars().all()) == len(ids)  # type: ignore[call-overload]
