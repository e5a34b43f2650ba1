from __future__ import annotations

import pytest
from sqlalchemy import select

from tenants.db import session_scope
from tenants.models import Document, Job, Tenant, UsageEvent
from tenants.scope import CrossTenantError, tenant_session


@pytest.fixture
def two_tenants(engine):  # noqa: ANN001, ANN201
    with session_scope(engine) as s:
        s.add_all([Tenant(id="town-a", display_name="A"), Tenant(id="town-b", display_name="B")])
        s.flush()
        s.add_all([
            Document(tenant_id="town-a", filename="a.pdf", path="/a", sha256="a" * 64),
            Document(tenant_id="town-b", filename="b.pdf", path="/b", sha256="b" * 64),
            UsageEvent(event_id="1", source="t", type="ocr.page", subject="town-b"),
        ])
    return engine


def test_queries_see_only_own_rows(two_tenants) -> None:  # noqa: ANN001
    with tenant_session("town-a", two_tenants) as s:
        docs = s.exec(select(Document)).scalars().all()  # type: ignore[call-overload]
        assert [d.filename for d in docs] == ["a.pdf"]
        assert s.exec(select(UsageEvent)).scalars().all() == []  # type: ignore[call-overload]
        b_id = None
    with session_scope(two_tenants) as s:
        b_id = s.exec(select(Document.id).where(Document.tenant_id == "town-b")).scalar_one()  # type: ignore[call-overload]
    with tenant_session("town-a", two_tenants) as s:
        assert s.get(Document, b_id) is None


def test_writing_another_tenants_row_is_refused(two_tenants) -> None:  # noqa: ANN001
    with pytest.raises(CrossTenantError), tenant_session("town-a", two_tenants) as s:
        s.add(Job(tenant_id="town-b", kind="ocr"))


def test_tenant_filled_in_when_missing(two_tenants) -> None:  # noqa: ANN001
    with tenant_session("town-a", two_tenants) as s:
        job = Job(tenant_id=None, kind="ocr")  # type: ignore[arg-type]
        s.add(job)
    assert job.tenant_id == "town-a"
