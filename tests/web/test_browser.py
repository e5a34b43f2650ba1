"""The web UI in real Chromium (Playwright) against uvicorn on a free loopback port."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from automation.runner.service import drain
from automation.sandbox import start_sandbox
from automation.web.validators import validate
from tenants.db import session_scope
from tenants.models import AuditEvent, Document, DocumentStatus, Job, JobStatus
from tenants.users import FieldCorrection

from .conftest import TENANT_A, TENANT_B, login
from .docs import TRUTH, add_failed_job, add_flagged_document

pytestmark = pytest.mark.browser


def test_clerk_corrects_two_fields_with_the_keyboard_and_approves(page, sqlite_site, tenants_dir, monkeypatch) -> None:  # noqa: ANN001
    site = sqlite_site
    doc_id = add_flagged_document(site.engine, site.tenants[TENANT_A], site.data_root)
    login(page, "clerk-a")
    page.wait_for_url("**/review")
    assert page.locator("#queue tbody tr").count() == 1
    page.keyboard.press("Enter")  # the first document's link has the focus
    page.wait_for_url(f"**/documents/{doc_id}")
    assert page.locator(".box.doubtful").count() == 2  # highlighted on the scan
    assert page.locator("tr.field.doubtful .badge.warn").first.inner_text() == "読み取りの確信度が低い"
    crop = page.locator('tr[data-key="recipient_name"] td.crop img')
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=crop.element_handle(), timeout=10_000)

    # The first doubtful field has the focus with its value selected: typing replaces it.
    focused = page.locator(":focus")
    assert focused.get_attribute("name") == "f:recipient_name"
    page.keyboard.type("長野 太郎")
    page.keyboard.press("Enter")
    assert page.locator(":focus").get_attribute("name") == "f:recipient_birth_date"
    page.keyboard.type("令和13年2月30日")  # validation as you type
    hint = page.locator('tr[data-key="recipient_birth_date"] .hint')
    assert hint.inner_text() == "存在しない日付です"
    page.keyboard.press("Enter")  # refused: the focus stays
    assert page.locator(":focus").get_attribute("name") == "f:recipient_birth_date"
    page.keyboard.press("Control+a")
    page.keyboard.type("昭和63年7月14日")
    assert hint.inner_text() == "＝ 昭和63年7月14日（1988-07-14）"
    page.keyboard.press("Enter")
    assert page.locator(":focus").get_attribute("id") == "approve"
    # A choice is a select box of the template's options only.
    pension = page.locator('select[name="f:pension_type"]')
    assert pension.locator("option").all_inner_texts() == ["厚生年金", "国民年金", "共済組合"]
    assert pension.input_value() == TRUTH["pension_type"]
    # The My Number is in its own input, and nowhere else on the page.
    my_number = TRUTH["my_number"]
    assert page.locator('input[name="f:my_number"]').input_value() == my_number
    assert my_number not in page.locator("body").inner_text()
    page.keyboard.press("Enter")
    page.wait_for_url("**/review")
    flash = page.locator(".flash").inner_text()
    job_id = int(re.search(r"登録ジョブ #(\d+)", flash).group(1))
    assert "訂正 2 件" in flash and page.locator(".empty").is_visible()

    with session_scope(site.engine) as s:
        job = s.get(Job, job_id)
        assert job.kind == "scenario" and job.document_id == doc_id and job.payload["records"] == [TRUTH]
        assert s.get(Document, doc_id).status == DocumentStatus.ready
        assert [c.field for c in s.exec(select(FieldCorrection)).scalars()] == ["recipient_name", "recipient_birth_date"]

    # The runner's worker enters the corrected record into the business system (the sandbox).
    with start_sandbox("a", username="nagano-robot", password="sandbox-pass") as sandbox:
        sandbox.seed([{"recipient_number": TRUTH["recipient_number"], "recipient_name": TRUTH["recipient_name"]}])
        tenant_file = tenants_dir / f"{TENANT_A}.toml"
        tenant_file.write_text(tenant_file.read_text(encoding="utf-8").replace("http://127.0.0.1:8765/", sandbox.url + "/"),
                               encoding="utf-8")
        monkeypatch.setenv("KYODO_SECRET_JIDOU_TEATE_PASSWORD", "sandbox-pass")
        assert drain(site.engine, timeout=120, kinds=["scenario"], threads=1)
        stored = sandbox.stored()
    assert [(r["recipient_number"], r["recipient_name"]) for r in stored] == [(TRUTH["recipient_number"], TRUTH["recipient_name"])]

    # The tenant administrator follows the scenario job the approval created.
    page.context.clear_cookies()
    login(page, "admin-a")
    page.goto("/jobs?kind=scenario")
    row = page.locator("#jobs tbody tr", has_text=f"#{job_id}")
    assert row.count() == 1
    row.locator("a").click()
    page.wait_for_url(f"**/jobs/{job_id}")
    assert "RPA登録" in page.locator("h1").inner_text()
    assert page.locator(".badge.st-succeeded").count() == 1, page.locator("main").inner_text()
    assert page.locator(".badge.rs-entered").inner_text() == "登録済"
    with session_scope(site.engine) as s:
        assert s.get(Document, doc_id).status == DocumentStatus.done


def test_other_tenants_document_is_404_and_audited(page, sqlite_site) -> None:  # noqa: ANN001
    site = sqlite_site
    b_doc = add_flagged_document(site.engine, site.tenants[TENANT_B], site.data_root, "obuse.png")
    login(page, "clerk-a")
    page.wait_for_url("**/review")
    for url in (f"/documents/{b_doc}", f"/documents/{b_doc}/crops/recipient_name.png", f"/api/documents/{b_doc}"):
        response = page.goto(url)
        assert response.status == 404, url
    page.goto(f"/documents/{b_doc}")
    assert "見つかりません" in page.locator("main").inner_text()
    assert "obuse" not in page.content()
    with session_scope(site.engine) as s:
        rows = s.exec(select(AuditEvent).where(AuditEvent.action == "access.denied")).scalars().all()
    assert len(rows) == 4
    assert {(r.actor, r.tenant_id, r.target, r.detail["owner_tenant"]) for r in rows} == {
        ("nagano-shi/clerk-a", TENANT_A, f"document:{b_doc}", TENANT_B)}


def test_posts_without_csrf_token_are_refused(page, sqlite_site) -> None:  # noqa: ANN001
    site = sqlite_site
    doc_id = add_flagged_document(site.engine, site.tenants[TENANT_A], site.data_root)
    login(page, "clerk-a")
    page.wait_for_url("**/review")
    # A forged form post carries the session cookie but not the token.
    for url, form in [(f"/documents/{doc_id}/approve", {"f:recipient_name": "x"}),
                      (f"/documents/{doc_id}/reject", {"reason": "x"}), ("/logout", {})]:
        r = page.request.post(url, form=form, max_redirects=0)
        assert r.status == 403, url
        assert "CSRF" in r.text()
    r = page.request.post(f"/documents/{doc_id}/reject", form={"reason": "x", "csrf_token": "forged"}, max_redirects=0)
    assert r.status == 403
    with session_scope(site.engine) as s:
        assert s.get(Document, doc_id).status == DocumentStatus.needs_review
    # The page's own form (with its token) works.
    page.goto(f"/documents/{doc_id}")
    page.fill("#reason", "二重に提出された書類")
    page.click("#reject")
    page.wait_for_url("**/review")
    assert "差し戻しました" in page.locator(".flash").inner_text()


def test_admin_sees_the_failed_jobs_screenshot_and_retries(page, sqlite_site) -> None:  # noqa: ANN001
    site = sqlite_site
    page.goto("/login")
    job_id = add_failed_job(site.engine, site.tenants[TENANT_A], site.data_root, page.screenshot())
    login(page, "clerk-a")
    page.wait_for_url("**/review")
    assert page.goto("/jobs").status == 403  # clerks do not manage jobs
    page.context.clear_cookies()
    login(page, "admin-a")
    page.wait_for_url("**/jobs")
    page.select_option("select[name=status]", "failed_business")
    page.click(".filters button")
    page.locator("#jobs a", has_text=f"#{job_id}").click()
    page.wait_for_url(f"**/jobs/{job_id}")
    assert "該当する受給者が見つかりません" in page.locator("main").inner_text()
    shot = page.locator("figure.shot img")
    shot.wait_for()
    assert shot.evaluate("img => img.complete && img.naturalWidth") == 1366
    trace = page.request.get(page.locator("a", has_text="トレースをダウンロード").get_attribute("href"))
    assert trace.status == 200 and trace.body().startswith(b"PK")
    page.click("#retry")
    page.wait_for_url(f"**/jobs/{job_id}")
    assert "再実行待ちに戻しました" in page.locator(".flash").inner_text()
    with session_scope(site.engine) as s:
        assert s.get(Job, job_id).status == JobStatus.queued
    page.click("#cancel")
    with session_scope(site.engine) as s:
        assert s.get(Job, job_id).status == JobStatus.cancelled


CASES = [
    ("date_wareki", "令和6年4月1日"), ("date_wareki", "令和元年5月1日"), ("date_wareki", "平成31年4月30日"),
    ("date_wareki", "平成31年5月1日"), ("date_wareki", "R6.4.1"), ("date_wareki", "２０２４－０４－０１"),
    ("date_wareki", "2024/2/30"), ("date_wareki", "昭和64年1月7日"), ("date_wareki", "きのう"), ("date_wareki", ""),
    ("postal_code", "〒380-8512"), ("postal_code", "３８０８５１２"), ("postal_code", "380-851"),
    ("phone", "026-226-4911"), ("phone", "09012345678"), ("phone", "0262264911"), ("phone", "026-2264-911-1"), ("phone", ""),
    ("my_number", TRUTH["my_number"]), ("my_number", TRUTH["my_number"][:11] + "0"), ("my_number", "1234 5678"),
    ("my_number", "000000000000"), ("my_number", "000000000001"), ("my_number", "100000000000"), ("my_number", "１２３４５６７８９０１８"),
    ("kana", "ながの たろう"), ("kana", "ﾅｶﾞﾉ ﾀﾛｳ"), ("kana", "Nagano"), ("digits", "１２３ ４５６７"), ("digits", "12a"),
    ("text", "　長野　 太郎 "), ("checkbox", "1"), ("checkbox", "0"),
]


def test_browser_validation_mirrors_the_server(page) -> None:  # noqa: ANN001
    page.goto("/static/validate.js")
    page.goto("/login")
    page.add_script_tag(url="/static/validate.js")
    got = page.evaluate("cases => cases.map(([t, v]) => KyodoValidate.validate(t, v))", CASES)
    for (ftype, raw), js in zip(CASES, got, strict=True):
        py = validate(ftype, raw).model_dump()
        assert js == py, (ftype, raw)
