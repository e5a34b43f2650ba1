"""``kyodo users`` and the demo step's idempotent demo clerk."""
from __future__ import annotations

from typer.testing import CliRunner

from automation.cli import app
from tenants import migrate
from tenants.db import get_engine, session_scope
from tenants.loader import load_all
from tenants.registry import sync_tenants
from tenants.users import authenticate


def test_users_add_reads_the_password_from_stdin(data_root) -> None:  # noqa: ANN001
    engine = get_engine()
    migrate.upgrade(engine)
    with session_scope(engine) as s:
        sync_tenants(s, load_all())
    runner = CliRunner()
    r = runner.invoke(app, ["users", "add", "--tenant", "nagano-shi", "--role", "clerk", "tanaka", "--password-stdin"],
                      input="tanaka-secret-1\n")
    assert r.exit_code == 0, r.output
    assert "tanaka-secret-1" not in r.output
    with session_scope(engine) as s:
        assert authenticate(s, "nagano-shi", "tanaka", "tanaka-secret-1").role == "clerk"
    again = runner.invoke(app, ["users", "add", "--tenant", "nagano-shi", "tanaka", "--password-stdin"], input="tanaka-secret-1\n")
    assert again.exit_code == 1 and "already exists" in again.output
    unknown = runner.invoke(app, ["users", "add", "--tenant", "nowhere", "x", "--password-stdin"], input="long-enough-1\n")
    assert unknown.exit_code == 2 and "no tenant 'nowhere'" in unknown.output
    no_tenant = runner.invoke(app, ["users", "add", "--role", "tenant_admin", "x", "--password-stdin"], input="long-enough-1\n")
    assert no_tenant.exit_code == 2 and "--tenant" in no_tenant.output
    token = runner.invoke(app, ["users", "token", "--tenant", "nagano-shi", "tanaka"])
    assert token.exit_code == 0 and len(token.output.strip()) > 40
