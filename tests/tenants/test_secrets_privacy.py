"""Encrypted secret store, configured masking patterns, and no My Number in metering logs and exports."""
from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlmodel import Session
from typer.testing import CliRunner

from tenants import privacy
from tenants.secrets import SecretMissing, get_secret
from tenants.secretstore import SecretStoreError, key_path, list_names, set_secret, store_path

MY_NUMBER = "123456789018"  # valid check digit


def test_secret_store_roundtrip_and_key_file(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KYODO_SECRET_KEY", raising=False)
    with pytest.raises(SecretMissing, match="kyodo secrets set --tenant town-a pw"):
        get_secret("town-a", "pw")
    set_secret("town-a", "pw", "s3cret-パス")
    assert get_secret("town-a", "pw") == "s3cret-パス"
    with pytest.raises(SecretMissing):
        get_secret("town-b", "pw")  # per tenant
    monkeypatch.setenv("KYODO_SECRET_TOWN_A_PW", "from-env")
    assert get_secret("town-a", "pw") == "from-env"  # the environment wins
    assert stat.S_IMODE(key_path().stat().st_mode) == 0o600 and stat.S_IMODE(store_path().stat().st_mode) == 0o600
    assert key_path().parent != store_path().parent
    assert b"s3cret" not in store_path().read_bytes()
    assert list_names() == {"town-a": ["pw"]}
    key_path().chmod(0o644)
    with pytest.raises(SecretStoreError, match="chmod 600"):
        list_names()


def test_secret_store_with_env_key_and_wrong_key(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography.fernet import Fernet

    monkeypatch.setenv("KYODO_SECRET_KEY", Fernet.generate_key().decode())
    set_secret("town-a", "token", "abc")
    assert not key_path().exists() and get_secret("town-a", "token") == "abc"
    monkeypatch.setenv("KYODO_SECRET_KEY", Fernet.generate_key().decode())
    with pytest.raises(SecretStoreError, match="cannot be decrypted"):
        get_secret("town-a", "token")


def test_cli_secrets_set_hidden_prompt(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from automation.cli import app

    monkeypatch.delenv("KYODO_SECRET_KEY", raising=False)
    result = CliRunner().invoke(app, ["secrets", "set", "--tenant", "nagano-shi", "jidou_teate_password"],
                                input="hunter2\nhunter2\n")
    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
    assert get_secret("nagano-shi", "jidou_teate_password") == "hunter2"
    unknown = CliRunner().invoke(app, ["secrets", "set", "--tenant", "nowhere", "x"], input="a\na\n")
    assert unknown.exit_code == 2


def test_configured_patterns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(privacy, "_extra_patterns", [])
    f = tmp_path / "_privacy.toml"
    f.write_text('[[patterns]]\nname = "住民票コード"\nregex = "JK-\\\\d{11}"\nreplacement = "JK-***"\n', encoding="utf-8")
    assert privacy.load_configured_patterns(f) == ["住民票コード"]
    assert privacy.mask(f"code JK-12345678901 and {MY_NUMBER}") == f"code JK-*** and {privacy.MASK}"
    f.write_text('[[patterns]]\nname = "bad"\nregex = "("\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad: invalid regular expression"):
        privacy.load_configured_patterns(f)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_no_my_number_in_metering_logs_audit_or_exports(metered, billing, three_configs, tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:  # noqa: ANN001
    from tenants.allocation import allocate
    from tenants.audit import audit
    from tenants.db import session_scope
    from tenants.models import AuditEvent, UsageEvent
    from tenants.quotas import QuotaExceeded, enforce_job_quotas
    from tenants.reports import write_all
    from tenants.usage import UsageIn, record_usage

    log = logging.getLogger("kyodo.metering.test")
    caplog.handler.addFilter(privacy.MaskingFilter())
    with caplog.at_level(logging.INFO), session_scope(metered) as s:
        record_usage(s, UsageIn(event_id="f1", source="kyodo/job/1", type="ocr.field", subject="town-a",
                                data={"field": "my_number", "value": MY_NUMBER}))
        audit(s, "review.correct", actor=f"clerk {MY_NUMBER}", tenant_id="town-a", target=f"field={MY_NUMBER}",
              detail={"old": MY_NUMBER})
        try:
            enforce_job_quotas(s, three_configs["town-a"], {"ocr.page": 10_000}, month="2026-06", billing=billing)
        except QuotaExceeded as e:
            log.warning("refused job for %s: %s", MY_NUMBER, e)
    with Session(metered) as s:
        # SHA-256 hex digests (the audit chain) can hold a run of 12 decimal digits by chance; they are
        # hashes, not personal data, so they are left out of the search.
        stored = [r.model_dump(exclude={"hash", "prev_hash"}) for m in (UsageEvent, AuditEvent)
                  for r in s.execute(select(m)).scalars()]
        files = write_all(allocate(s, 2026, billing=billing, tenants=three_configs), tmp_path, ("csv", "html"))
    everything = caplog.text + str(stored) + "".join(p.read_text(encoding="utf-8-sig") for p in files if p.suffix != ".png")
    assert "refused job" in caplog.text
    assert privacy.MY_NUMBER_RE.search(everything.replace(privacy.MASK, "")) is None
