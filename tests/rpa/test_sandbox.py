"""The sandbox business system over HTTP (no browser): login, validation, faults, admin."""
from __future__ import annotations

import httpx
import pytest

from automation.sandbox import start_sandbox, valid_my_number
from automation.sandbox.samples import recipients_for, sample_records


def test_samples_have_valid_my_numbers_and_contract_keys() -> None:
    recs = sample_records(20, seed=2)
    assert all(valid_my_number(r["my_number"]) for r in recs)
    assert not valid_my_number(recs[0]["my_number"][:11] + str((int(recs[0]["my_number"][11]) + 1) % 10))
    assert set(recs[0]) == {"recipient_number", "recipient_name", "recipient_kana", "recipient_birth_date", "postal_code",
                            "address", "phone", "my_number", "spouse_name", "children", "pension_type",
                            "supervision_confirmed", "livelihood_confirmed", "submission_date", "addressed_to"}


@pytest.mark.parametrize("variant", ["a", "b"])
def test_login_required_validation_and_faults(variant: str) -> None:
    with start_sandbox(variant) as sb, httpx.Client(base_url=sb.url, follow_redirects=True) as c:
        login = "/login" if variant == "a" else "/auth/signin"
        home = "/menu" if variant == "a" else "/top"
        assert c.get(home).url.path == login  # not logged in
        creds = {"username": "robot", "password": "bad"} if variant == "a" else {"login_id": "robot", "login_pw": "bad"}
        r = c.post(login, data=creds)
        assert r.status_code == 401 and "正しくありません" in r.text
        creds = {k: ("sandbox-pass" if "pass" in k or "pw" in k else v) for k, v in creds.items()}
        assert c.post(login, data=creds).url.path == home
        rec = sample_records(1)[0]
        assert c.post("/_admin/seed", json=recipients_for([rec])).json() == {"seeded": 1}
        # server-side validation: an empty form is refused with Japanese messages, nothing stored
        path = f"/recipients/{rec['recipient_number']}/genkyo/confirm" if variant == "a" else f"/claimants/{rec['recipient_number']}/report"
        r = c.post(path, data={})
        assert r.status_code == 422 and "監護の確認にチェックしてください" in r.text
        assert c.get("/_admin/stored").json() == []
        # a 500 once, then normal again
        c.post("/_admin/faults", json={"fail_next": 1})
        assert c.get(home).status_code == 500
        assert c.get(home).status_code == 200
        # expired sessions send the robot back to the login page
        c.post("/_admin/faults", json={"expire_sessions": True})
        assert c.get(home).url.path == login


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown sandbox variant 'c'"):
        start_sandbox("c")
