"""Screenshot every page at 1366x768 in headless Chromium (for a human to look at).

    .venv/bin/python -m tests.web.screenshots OUT_DIR
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def main(out: Path) -> list[Path]:
    root = Path(tempfile.mkdtemp(prefix="kyodo-shots-")) / "var"
    root.mkdir(parents=True)
    os.environ["KYODO_DATA_ROOT"] = str(root)
    from playwright.sync_api import sync_playwright

    from automation.web.app import create_app
    from tenants import migrate
    from tenants.db import make_engine
    from automation.rpa.browser import launch_browser
    from tests.web.conftest import TENANT_A, VIEWPORT, LiveServer, login, seed
    from tests.web.docs import add_failed_job, add_flagged_document

    engine = make_engine(f"sqlite:///{root / 'kyodo.db'}")
    migrate.upgrade(engine)
    tenants = seed(engine)
    doc_ids = [add_flagged_document(engine, tenants[TENANT_A], root, f"genkyo-{i:03d}.png") for i in range(1, 4)]
    out.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with LiveServer(create_app(engine, data_root=root)) as srv, sync_playwright() as p:
        browser = launch_browser(p)
        ctx = browser.new_context(viewport=VIEWPORT, locale="ja-JP", base_url=srv.url)
        page = ctx.new_page()

        def snap(name: str, full: bool = False) -> None:
            path = out / f"{name}.png"
            page.screenshot(path=str(path), full_page=full)
            shots.append(path)

        page.goto("/login")
        snap("01-login")
        login(page, "clerk-a")
        page.wait_for_url("**/review")
        snap("02-review-queue")
        page.goto(f"/documents/{doc_ids[0]}")
        page.keyboard.type("長野 太郎")
        snap("03-document")
        page.keyboard.press("Enter")
        page.keyboard.type("令和13年2月30日")
        snap("04-document-invalid-date")
        page.locator('select[name="f:pension_type"]').scroll_into_view_if_needed()
        snap("04b-document-choice")
        shot_png = page.screenshot()
        page.context.clear_cookies()
        job_id = add_failed_job(engine, tenants[TENANT_A], root, shot_png)
        login(page, "admin-a")
        page.goto("/jobs")
        snap("05-jobs")
        page.goto(f"/jobs/{job_id}")
        snap("06-job-failed", full=True)
        page.goto("/usage")
        snap("07-usage", full=True)
        page.context.clear_cookies()
        login(page, "root", tenant=None)
        page.goto("/usage")
        snap("08-usage-platform", full=True)
        page.goto("/jobs")
        snap("09-jobs-platform")
        page.goto(f"/documents/{doc_ids[0]}")
        snap("10-forbidden")
        page.context.clear_cookies()
        for _ in range(6):  # the sixth try meets the throttle
            login(page, "clerk-a", password="wrong")
        snap("12-login-throttled")
        page.goto("/api/docs")
        page.wait_for_timeout(500)
        snap("11-api-docs")
        browser.close()
    return shots


if __name__ == "__main__":
    for p in main(Path(sys.argv[1] if len(sys.argv) > 1 else "var/web-screenshots")):
        print(p)
