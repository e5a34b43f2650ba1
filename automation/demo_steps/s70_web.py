"""The web UI: a demo clerk, the app on a free port, a screenshot of the review queue."""
from __future__ import annotations

from sqlalchemy import func, select

from automation.demo import DemoContext, StepSummary
from tenants.db import session_scope
from tenants.models import Document, DocumentStatus
from tenants.users import FieldCorrection, Role, create_user, find_user, set_password

ORDER = 70
DEMO_USER = "demo-clerk"
DEMO_PASSWORD = "demo-clerk-pass"  # demo only: printed in the summary, never use on a real installation


def ensure_demo_clerk(ctx: DemoContext, tenant_id: str) -> None:
    """Create the demo clerk, or reset its password so the printed one always works (idempotent)."""
    with session_scope(ctx.engine) as s:
        user = find_user(s, tenant_id, DEMO_USER)
        if user is None:
            create_user(s, tenant_id=tenant_id, username=DEMO_USER, role=Role.clerk, password=DEMO_PASSWORD,
                        display_name="デモ 確認担当")
        else:
            set_password(s, user, DEMO_PASSWORD)


def run(ctx: DemoContext) -> StepSummary:
    from playwright.sync_api import sync_playwright

    from automation.rpa.browser import launch_browser
    from automation.web.app import create_app
    from automation.web.server import BackgroundServer

    s = StepSummary(title="Web UI 確認画面 (review queue, jobs, usage)")
    if not ctx.tenants.tenants:
        s.ok, s.lines = False, ["no valid tenant file: nothing to log in to"]
        return s
    tenant_id = sorted(ctx.tenants.tenants)[0]
    ensure_demo_clerk(ctx, tenant_id)
    with session_scope(ctx.engine) as db:
        waiting = db.exec(select(func.count()).select_from(Document).where(  # type: ignore[call-overload]
            Document.tenant_id == tenant_id, Document.status == DocumentStatus.needs_review)).scalar_one()
        # The document a clerk last corrected (the runner step's blotted phone number), to show its page too.
        corrected = db.exec(select(FieldCorrection.document_id).where(  # type: ignore[call-overload]
            FieldCorrection.tenant_id == tenant_id).order_by(FieldCorrection.id.desc()).limit(1)).scalar_one_or_none()
    shot = ctx.workdir / "web-review-queue.png"
    doc_shot = ctx.workdir / "web-document.png"
    app = create_app(ctx.engine, data_root=ctx.settings.data_root)
    with BackgroundServer(app) as srv, sync_playwright() as p:
        browser = launch_browser(p)  # the project's one Chromium wrapper (path, flags)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="ja-JP", base_url=srv.url)
            page.set_default_timeout(10_000)
            page.goto("/login")
            page.select_option("#tenant", tenant_id)
            page.fill("#username", DEMO_USER)
            page.fill("#password", DEMO_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/review")
            page.screenshot(path=str(shot))
            heading = page.locator("h1").inner_text()
            if corrected is not None:
                page.goto(f"/documents/{corrected}", wait_until="networkidle")  # the crops load lazily
                page.screenshot(path=str(doc_shot), full_page=True)
        finally:
            browser.close()
    s.lines.append(f"clerk {DEMO_USER}@{tenant_id} / {DEMO_PASSWORD} (demo only), UI: kyodo serve")
    s.lines.append(f"review queue: {waiting} document(s) waiting for a clerk ({heading.split()[0]})")
    s.lines.append(f"screenshot: {shot}")
    if corrected is not None:
        s.lines.append(f"document {corrected} as the clerk corrected it: {doc_shot}")
    return s
