"""The shared scenario against the real sandbox in real Chromium (both vendor variants)."""
from __future__ import annotations

from pathlib import Path

import pytest

from automation.rpa import BrowserSession, run_scenario
from automation.rpa.executor import load_scenario
from automation.sandbox.samples import recipients_for, sample_records

from .conftest import enter, enter_with_faults, secret, tenant_for

pytestmark = pytest.mark.browser
NAME = "child_allowance_status_report"


def test_full_run_stores_every_field_and_rerun_enters_nothing_twice(sandbox, variant, browser, tmp_path: Path) -> None:
    tenant = tenant_for(variant, sandbox.url)
    records = sample_records(3, seed=7, municipality=tenant.display_name)
    # Japanese text that breaks naive encodings: 﨑 and 髙 are outside JIS X 0208.
    records[0]["recipient_name"] = "髙﨑 花子"
    records[0]["children"][0]["name"] = "髙﨑 陽葵"
    assert any(len(r["children"]) > 1 for r in records)
    sandbox.seed(recipients_for(records))

    result = enter(tenant, records, tmp_path, browser)
    assert [r.status for r in result.records] == ["entered"] * 3, [r.message for r in result.records]
    stored = sandbox.stored()
    assert len(stored) == 3
    for rec, got in zip(records, stored):
        assert {k: got[k] for k in rec} == rec  # every field, children rows included
        assert result.records[records.index(rec)].extracted["receipt_number"] == got["receipt_number"]
    assert result.logins == 1

    again = enter(tenant, records, tmp_path, browser)
    assert [r.status for r in again.records] == ["skipped_already_entered"] * 3
    assert len(sandbox.stored()) == 3
    assert again.logins == 0  # the saved login state was reused


@pytest.mark.parametrize("variant", ["b"])
def test_step_by_step_input_stores_the_same(sandbox, variant, browser, tmp_path: Path) -> None:
    # input_method: step (each field one Playwright call, as with --slow-mo) against batched input
    tenant = tenant_for(variant, sandbox.url)
    records = sample_records(2, seed=11, municipality=tenant.display_name)
    sandbox.seed(recipients_for(records))
    scenario = load_scenario(NAME).model_copy(update={"input_method": "step"})
    result = enter(tenant, records, tmp_path, browser, scenario=scenario)
    assert [r.status for r in result.records] == ["entered"] * 2, [r.message for r in result.records]
    for rec, got in zip(records, sandbox.stored()):
        assert {k: got[k] for k in rec} == rec


def test_server_error_is_retried_and_entered_once(sandbox_a, browser, tmp_path: Path) -> None:
    records = sample_records(1, seed=3)
    result = enter_with_faults(sandbox_a, records, tmp_path, browser, fail_next=1, fail_path="/register", fail_method="POST")
    r = result.records[0]
    assert r.status == "entered" and r.attempts == 2, r
    assert len(sandbox_a.stored()) == 1


def test_lost_response_after_storing_is_not_entered_twice(sandbox_a, browser, tmp_path: Path) -> None:
    """The report is stored but the completion page fails: the retry's guard finds it."""
    records = sample_records(1, seed=4)
    result = enter_with_faults(sandbox_a, records, tmp_path, browser, fail_next=1, fail_path="/reports/", fail_method="GET")
    assert result.records[0].status == "skipped_already_entered"
    assert result.records[0].attempts == 2
    assert len(sandbox_a.stored()) == 1


@pytest.mark.parametrize("variant", ["b"])  # variant a's business errors: see the demo and the CLI scaffold test
def test_business_errors_are_not_retried(sandbox, variant, browser, tmp_path: Path) -> None:
    tenant = tenant_for(variant, sandbox.url)
    records = sample_records(3, seed=11)
    bad = dict(records[1], my_number=records[1]["my_number"][:11] + str((int(records[1]["my_number"][11]) + 1) % 10))
    sandbox.seed(recipients_for(records[:2]))  # records[2] is not in the system
    result = enter(tenant, [records[0], bad, records[2]], tmp_path, browser)
    ok, invalid, missing = result.records
    assert ok.status == "entered"
    assert invalid.status == "business_error" and invalid.attempts == 1
    assert ("個人番号" if variant == "a" else "マイナンバー") in invalid.message
    assert bad["my_number"] not in invalid.message
    assert missing.status == "business_error" and missing.attempts == 1
    assert "該当する受給者が見つかりません" in missing.message
    assert Path(missing.screenshot).is_file() and Path(missing.trace).is_file()
    assert len(sandbox.stored()) == 1


def test_persistent_server_errors_end_as_application_error_with_evidence(sandbox_a, browser, tmp_path: Path) -> None:
    records = sample_records(1, seed=5)
    result = enter_with_faults(sandbox_a, records, tmp_path, browser, fail_next=100, fail_path="/search")
    r = result.records[0]
    assert r.status == "application_error" and r.attempts == 3
    assert "HTTP 500" in r.message
    assert Path(r.screenshot).stat().st_size > 1000 and Path(r.trace).stat().st_size > 1000
    assert result.trace == r.trace
    assert sandbox_a.stored() == []


def test_expired_session_logs_in_again(sandbox_a, browser, tmp_path: Path) -> None:
    tenant = tenant_for("a", sandbox_a.url)
    records = sample_records(2, seed=6)
    sandbox_a.seed(recipients_for(records))
    result = enter(tenant, records, tmp_path, browser, on_record=lambda r: sandbox_a.expire_sessions())
    assert [r.status for r in result.records] == ["entered", "entered"]
    assert result.logins == 2
    assert sandbox_a.store.logins == 2


def test_login_state_is_per_browser_session_and_wrong_password_stops_the_run(sandbox_a, tmp_path: Path) -> None:
    tenant = tenant_for("a", sandbox_a.url)
    records = sample_records(2, seed=8)
    sandbox_a.seed(recipients_for(records))
    with BrowserSession() as b:
        first = enter(tenant, records[:1], tmp_path, b)
        second = enter(tenant, records[1:], tmp_path, b)
        assert (first.logins, second.logins) == (1, 0)
        assert b.launches == 1
    sandbox_a.reset()
    sandbox_a.seed(recipients_for(records))
    with BrowserSession() as b:
        res = run_scenario(NAME, tenant, records, artifacts_dir=tmp_path, secret=lambda t, n: "wrong-pass!", browser=b)
    assert [r.status for r in res.records] == ["application_error", "application_error"]
    assert "ログインできません" in res.records[0].message and "実行中止" in res.records[1].message
    assert "wrong-pass!" not in res.model_dump_json()


def test_slow_pages_are_waited_for_not_slept(sandbox_a, browser, tmp_path: Path) -> None:
    records = sample_records(1, seed=9)
    result = enter_with_faults(sandbox_a, records, tmp_path, browser, slow_ms=400)
    assert result.records[0].status == "entered" and result.records[0].attempts == 1


def test_dry_run_needs_no_browser_and_reports_bad_records(tmp_path: Path) -> None:
    tenant = tenant_for("a", "http://127.0.0.1:9/")
    records = sample_records(2, seed=1)
    del records[1]["addressed_to"]
    result = run_scenario(NAME, tenant, records, artifacts_dir=tmp_path, secret=secret, dry_run=True)
    assert result.records[0].status == "dry_run"
    assert result.records[1].status == "business_error" and "addressed_to" in result.records[1].message
