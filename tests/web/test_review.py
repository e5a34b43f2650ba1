"""automation.review without HTTP, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from automation import review
from tenants.db import session_scope
from tenants.models import AuditEvent, Document, DocumentStatus, Job, UsageEvent
from tenants.scope import tenant_session
from tenants.users import FieldCorrection, Role, User, UserError, authenticate, create_user, find_user

from .conftest import PASSWORD, TENANT_A, TENANT_B
from .docs import MY_NUMBER, TRUTH, add_flagged_document


def _user(engine, tenant: str | None, name: str) -> User:  # noqa: ANN001
    with session_scope(engine) as s:
        return find_user(s, tenant, name)


def _values(**over: str) -> dict[str, str]:
    return {"recipient_name": TRUTH["recipient_name"], "recipient_birth_date": "昭和63年7月14日", **over}


def test_queue_lists_own_tenant_oldest_first(site) -> None:  # noqa: ANN001
    a1 = add_flagged_document(site.engine, site.tenants[TENANT_A], site.data_root, "a1.png")
    add_flagged_document(site.engine, site.tenants[TENANT_B], site.data_root, "b1.png")
    a2 = add_flagged_document(site.engine, site.tenants[TENANT_A], site.data_root, "a2.png")
    with tenant_session(TENANT_A, site.engine) as s:
        items = review.list_review_queue(s)
        assert [i.id for i in items] == [a1, a2]
        assert items[0].doubtful == 2 and items[0].fields == 18
        assert review.count_review_queue(s) == 2


def test_invalid_value_saves_nothing(site) -> None:  # noqa: ANN001
    doc_id = add_flagged_document(site.engine, site.tenants[TENANT_A], site.data_root)
    clerk = _user(site.engine, TENANT_A, "clerk-a")
    with tenant_session(TENANT_A, site.engine) as s:
        doc = s.get(Document, doc_id)
        out = review.approve(s, doc, _values(recipient_birth_date="令和13年2月30日", my_number="123456789012"), user=clerk)
        assert out.errors == {"recipient_birth_date": "存在しない日付です", "my_number": "個人番号のチェックデジットが一致しません"}
        s.rollback()
    with session_scope(site.engine) as s:
        assert s.get(Document, doc_id).status == DocumentStatus.needs_review
        assert s.exec(select(Job)).scalars().all() == []
        assert s.exec(select(FieldCorrection)).scalars().all() == []


def test_a_choice_accepts_only_its_templates_options(site) -> None:  # noqa: ANN001
    doc_id = add_flagged_document(site.engine, site.tenants[TENANT_A], site.data_root)
    clerk = _user(site.engine, TENANT_A, "clerk-a")
    with tenant_session(TENANT_A, site.engine) as s:
        doc = s.get(Document, doc_id)
        [field] = [f for f in review.review_fields(review.form_of(doc)) if f.key == "pension_type"]
        assert field.options == ["厚生年金", "国民年金", "共済組合"]  # from the template, for the select box
        out = review.approve(s, doc, _values(pension_type="厚生年"), user=clerk)
        assert out.errors == {"pension_type": "選択肢（厚生年金・国民年金・共済組合）から選んでください"}
        s.rollback()
    with tenant_session(TENANT_A, site.engine) as s:
        assert review.approve(s, s.get(Document, doc_id), _values(pension_type="国民年金"), user=clerk).ok


def test_approve_stores_corrections_and_enqueues_the_scenario(site) -> None:  # noqa: ANN001
    doc_id = add_flagged_document(site.engine, site.tenants[TENANT_A], site.data_root)
    clerk = _user(site.engine, TENANT_A, "clerk-a")
    with tenant_session(TENANT_A, site.engine) as s:
        out = review.approve(s, s.get(Document, doc_id), _values(my_number=f"{MY_NUMBER[:4]}-{MY_NUMBER[4:8]}-{MY_NUMBER[8:]}"), user=clerk)
    assert out.ok and out.corrections == 2 and out.job_id
    with session_scope(site.engine) as s:
        job = s.get(Job, out.job_id)
        assert (job.kind, job.tenant_id, job.document_id, job.idempotency_key) == ("scenario", TENANT_A, doc_id, f"scenario:doc:{doc_id}")
        assert job.payload["scenario"] == "child_allowance_status_report"
        assert job.payload["records"] == [TRUTH]  # the corrected record, children rebuilt from cells
        assert s.get(Document, doc_id).status == DocumentStatus.ready
        rows = s.exec(select(FieldCorrection).order_by(FieldCorrection.id)).scalars().all()
        assert [(r.field, r.ocr_value, r.corrected_value, r.username) for r in rows] == [
            ("recipient_name", "長野 大郎", "長野 太郎", "clerk-a"),
            ("recipient_birth_date", "1988-07-11", "1988-07-14", "clerk-a")]
        reviews = s.exec(select(UsageEvent).where(UsageEvent.type == "ocr.review")).scalars().all()
        assert [(u.subject, u.value, u.data["outcome"]) for u in reviews] == [(TENANT_A, 1.0, "approved")]
        actions = [a.action for a in s.exec(select(AuditEvent).order_by(AuditEvent.id)).scalars()]
        assert actions[-2:] == ["review.correct", "review.approve"]
    with tenant_session(TENANT_A, site.engine) as s, pytest.raises(review.ReviewError):
        review.approve(s, s.get(Document, doc_id), _values(), user=clerk)  # approved once only


def test_other_tenant_cannot_see_or_touch_the_document(site) -> None:  # noqa: ANN001
    doc_id = add_flagged_document(site.engine, site.tenants[TENANT_A], site.data_root)
    with tenant_session(TENANT_B, site.engine) as s:
        assert s.get(Document, doc_id) is None
        assert review.list_review_queue(s) == []


def test_reject_moves_the_file_to_error_with_a_japanese_reason(site) -> None:  # noqa: ANN001
    tenant = site.tenants[TENANT_A]
    doc_id = add_flagged_document(site.engine, tenant, site.data_root)
    clerk = _user(site.engine, TENANT_A, "clerk-a")
    with tenant_session(TENANT_A, site.engine) as s, pytest.raises(review.ReviewError) as e:
        review.reject(s, s.get(Document, doc_id), "  ", user=clerk, tenant=tenant)
    assert e.value.message_ja == "差し戻しの理由を入力してください"
    with tenant_session(TENANT_A, site.engine) as s:
        review.reject(s, s.get(Document, doc_id), "別人の書類が混在", user=clerk, tenant=tenant)
    err = tenant.folder_paths(site.data_root)["error"]
    reasons = list(err.glob("*.reason.txt"))
    assert len(reasons) == 1 and "別人の書類が混在" in reasons[0].read_text(encoding="utf-8")
    assert (err / "genkyo-001.png").is_file()
    with session_scope(site.engine) as s:
        assert s.get(Document, doc_id).status == DocumentStatus.error


def test_users_and_passwords(sqlite_site) -> None:  # noqa: ANN001
    """argon2 is slow by design, so this runs on SQLite only (the web_user table is exercised on PostgreSQL above)."""
    with session_scope(sqlite_site.engine) as s:
        assert authenticate(s, TENANT_A, "clerk-a", PASSWORD) is not None
        assert authenticate(s, TENANT_A, "clerk-a", "wrong-password") is None
        assert authenticate(s, TENANT_B, "clerk-a", PASSWORD) is None  # users belong to one tenant
        assert authenticate(s, None, "root", PASSWORD).role == Role.platform_admin
        user = find_user(s, TENANT_A, "clerk-a")
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
        with pytest.raises(UserError, match="already exists"):
            create_user(s, tenant_id=TENANT_A, username="clerk-a", role="clerk", password=PASSWORD)
        with pytest.raises(UserError, match="at least 8"):
            create_user(s, tenant_id=TENANT_A, username="short", role="clerk", password="abc")
        with pytest.raises(UserError, match="needs --tenant"):
            create_user(s, tenant_id=None, username="x", role="clerk", password=PASSWORD)
        create_user(s, tenant_id=TENANT_B, username="clerk-a", role="clerk", password=PASSWORD)  # same name, other tenant


def test_an_absent_question_is_no_review_input_and_stays_out_of_the_record() -> None:
    """A question this layout does not ask is not offered to the clerk: an unchecked box would say
    "no", and approving would send that answer on."""
    from ocr.results import Doubt, FieldResult, FieldState, FieldType, FormResult

    form = FormResult(source="x.png", template="genkyo_todoke", fields={
        "in_facility": FieldResult(name="in_facility", type=FieldType.checkbox, state=FieldState.absent, confidence=1.0),
        "phone": FieldResult(name="phone", type=FieldType.phone, state=FieldState.unread, value="", reasons=[Doubt.not_found]),
    })
    keys = [f.key for f in review.review_fields(form)]
    assert keys == ["phone"] and "in_facility" not in review.record_of(form)
