"""Failure evidence: no My Number in screenshots or traces, trace depth, keyboard actions, retention."""
from __future__ import annotations

import os
import re
import time
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import cv2
import numpy as np
import pytest

from automation.rpa import browser as bw
from automation.rpa.evidence import make_cleaner, purge_evidence, purge_tenant_evidence, scrub_trace
from automation.sandbox.samples import recipients_for, sample_records

from .conftest import PASSWORD, enter, enter_with_faults, tenant_for

MAGENTA = (255, 0, 255)  # Playwright's default mask colour (RGB)


def magenta_share(png: Path, box: dict[str, float] | None = None) -> float:
    img = cv2.imread(str(png))[:, :, ::-1]  # BGR -> RGB
    if box is not None:
        x, y, w, h = (int(round(box[k])) for k in ("x", "y", "width", "height"))
        img = img[y + 2:y + h - 2, x + 2:x + w - 2]
    return float(np.all(img == MAGENTA, axis=-1).mean())


def trace_text(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "\n".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def forms_of(number: str) -> list[str]:
    return [number, f"{number[:4]} {number[4:8]} {number[8:]}", f"{number[:4]}-{number[4:8]}-{number[8:]}"]


@pytest.mark.browser
def test_screenshot_masks_fields_and_text_holding_a_my_number(browser, tmp_path: Path) -> None:
    page = browser.browser.new_page()
    try:
        page.set_content("""<html><body style="font-size:20px">
            <p><label>個人番号 <input id="mn" value="12345"></label></p>
            <p><label>備考 <input id="note" value="1234 5678 9012"></label></p>
            <table><tr><th>番号</th><td id="cell"><span>1234</span><span>5678</span><span>9013</span></td></tr>
            <tr><th>氏名</th><td id="name">長野 太郎</td></tr>
            <tr><th>記録</th><td id="typed">８７６５４３２１０９８７</td></tr></table></body></html>""")
        shot = tmp_path / "shot.png"
        # #mn holds a partial number: only its target (the scenario's my_number field) masks it
        bw.masked_screenshot(page, shot, mask_targets=["#mn"], sensitive_values=[])
        for sel in ("#mn", "#note", "#cell", "#typed"):
            assert magenta_share(shot, page.locator(sel).bounding_box()) > 0.95, sel
        assert magenta_share(shot, page.locator("#name").bounding_box()) == 0.0
    finally:
        page.close()


@pytest.mark.browser
def test_business_error_evidence_has_no_my_number_or_password(sandbox_a, browser, tmp_path: Path) -> None:
    """A My Number the system rejects is on the re-shown form, in the form post and in every
    fill of the trace: the screenshot paints it over and the trace is scrubbed."""
    tenant = tenant_for("a", sandbox_a.url)
    # a fresh sandbox (new port): the robot logs in during this run, so the password is typed
    (rec,) = sample_records(1, seed=12)
    bad = rec["my_number"][:11] + str((int(rec["my_number"][11]) + 1) % 10)
    rec["my_number"] = bad
    sandbox_a.seed(recipients_for([rec]))
    result = enter(tenant, [rec], tmp_path, browser)
    (r,) = result.records
    assert r.status == "business_error" and "個人番号" in r.message and bad not in r.message
    assert magenta_share(Path(r.screenshot)) > 0.001  # the form's 個人番号 field, masked
    text = trace_text(Path(r.trace))
    for form in forms_of(bad) + [PASSWORD]:
        assert form not in text, form
    # still a useful trace: the actions and the pages the system returned are in it
    # fields are entered in batches, each a named group of the trace (targets, never values)
    assert '"title":"input' in text and "label:個人番号" in text and "現況届" in text
    assert "frame-snapshot" not in text  # a business error keeps the cheap actions-only trace
    with zipfile.ZipFile(r.trace) as z:
        assert z.testzip() is None


@pytest.mark.browser
def test_failed_retries_leave_a_full_trace_of_the_last_attempt(sandbox_a, browser, tmp_path: Path) -> None:
    records = sample_records(2, seed=13)
    result = enter_with_faults(sandbox_a, records, tmp_path, browser, fail_next=3, fail_path="/confirm", fail_method="POST")
    failed, ok = result.records
    assert failed.status == "application_error" and failed.attempts == 3
    text = trace_text(Path(failed.trace))
    assert "frame-snapshot" in text  # DOM snapshots recorded for the retry
    for form in forms_of(records[0]["my_number"]):
        assert form not in text
    assert ok.status == "entered" and ok.trace is None  # back to cheap tracing, nothing kept
    assert len(sandbox_a.stored()) == 1


def test_cleaner_replaces_escaped_forms_and_leaves_other_numbers() -> None:
    clean = make_cleaner(["p@ss word!", "12345"])
    text = 'pw=p%40ss+word%21 "p@ss word!" time 123456.5 id 12345 ref 4123455 mn 1234-5678-9012'
    out = clean(text)
    assert "p%40ss" not in out and "p@ss" not in out and "1234-5678-9012" not in out
    assert "123456.5" in out and "4123455" in out and "id ***" in out


def test_scrub_trace_rewrites_text_members_and_deletes_unreadable(tmp_path: Path) -> None:
    z = tmp_path / "t.trace.zip"
    with zipfile.ZipFile(z, "w") as w:
        w.writestr("trace.trace", '{"method":"fill","params":{"value":"123456789012"}}\n')
        w.writestr("resources/img", b"\x89PNG\x00\xff")
    assert scrub_trace(z, make_cleaner([]))
    with zipfile.ZipFile(z) as r:
        assert "123456789012" not in r.read("trace.trace").decode() and r.read("resources/img") == b"\x89PNG\x00\xff"
    broken = tmp_path / "b.trace.zip"
    broken.write_bytes(b"not a zip 123456789012")
    assert not scrub_trace(broken, make_cleaner([])) and not broken.exists()


@pytest.mark.browser
def test_keyboard_check_and_click_fall_back_to_the_pointer(browser) -> None:
    page = browser.browser.new_page()
    try:
        page.set_content("""<html><body><form action="javascript:void(0)">
            <input id="t"><label><input type="checkbox" id="c"> C</label>
            <div role="checkbox" id="w" tabindex="0" aria-checked="false"
                 onclick="this.setAttribute('aria-checked', this.getAttribute('aria-checked') === 'true' ? 'false' : 'true')">W</div>
            <input type="checkbox" id="hidden" style="display:none">
            <a href="#done" id="link">next</a>
            <button type="button" id="covered" onclick="document.title='clicked'">covered</button>
            <div style="position:fixed;inset:0;background:rgba(0,0,0,.1);display:none" id="overlay"></div></form></body></html>""")
        page.locator("#t").fill("abc")
        for want in (True, False, True):
            bw.set_checked(page.locator("#c"), want, 2000)
            assert page.locator("#c").is_checked() is want
        bw.set_checked(page.locator("#w"), True, 2000)  # ignores Space: the pointer click sets it
        assert page.locator("#w").get_attribute("aria-checked") == "true"
        with pytest.raises(bw.APPLICATION_ERRORS):
            bw.set_checked(page.locator("#hidden"), True, 500)
        assert page.locator("#t").input_value() == "abc"  # no Space typed into the last focused field
        page.evaluate("document.getElementById('overlay').style.display = 'block'")
        with pytest.raises(bw.APPLICATION_ERRORS):  # under an overlay: not activated by the keyboard either
            bw.click(page.locator("#covered"), 500)
        assert page.title() != "clicked"
        page.evaluate("document.getElementById('overlay').remove()")
        bw.click(page.locator("#covered"), 2000)
        bw.click(page.locator("#link"), 2000)
        assert page.title() == "clicked" and page.url.endswith("#done")
    finally:
        page.close()


def _age(path: Path, days: float) -> None:
    t = time.time() - days * 86400
    os.utime(path, (t, t))


def test_purge_deletes_only_old_evidence(tmp_path: Path) -> None:
    job = tmp_path / "work" / "job-7"
    job.mkdir(parents=True)
    files = {name: job / name for name in ("001-1234567-business_error.png", "001-1234567-business_error.trace.zip",
                                           "002-after_search.png", "page-001.png", "notes.txt")}
    for p in files.values():
        p.write_bytes(b"x" * 10)
        _age(p, 40)
    fresh = job / "003-7654321-application_error.trace.zip"
    fresh.write_bytes(b"y")
    _age(fresh, 5)
    res = purge_evidence(tmp_path / "work", 30)
    assert res.deleted == 3 and res.kept == 1 and res.bytes == 30
    assert sorted(p.name for p in job.iterdir()) == sorted(["page-001.png", "notes.txt", fresh.name])
    assert purge_evidence(tmp_path / "missing", 30).deleted == 0
    with pytest.raises(ValueError):
        purge_evidence(tmp_path, -1)


def test_purge_tenant_uses_its_work_folder_and_retention(tmp_path: Path) -> None:
    tenant = tenant_for("a", "http://127.0.0.1:1/")
    work = Path(tenant.folder_paths(tmp_path)["work"]) / "job-1"
    work.mkdir(parents=True)
    old = work / "001-x-business_error.png"
    old.write_bytes(b"x")
    _age(old, 31)
    res = purge_tenant_evidence(tenant, tmp_path, now=datetime.now(timezone.utc))
    assert res.retention_days == tenant.evidence_retention_days == 30 and res.deleted == 1
    assert re.search(r"tenants/nagano-shi/work$", res.folder)
