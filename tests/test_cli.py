from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from automation.cli import app
from automation.doctor import check_database, check_tesseract

runner = CliRunner()


def test_help_lists_groups() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for group in ("tenants", "config", "db", "doctor", "demo"):
        assert group in result.output


def test_db_upgrade_creates_sqlite_under_data_root(data_root: Path) -> None:
    result = runner.invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (data_root / "kyodo.db").is_file()
    assert "nagano-shi" in result.output
    assert check_database().ok


def test_doctor_reports_pending_migrations_with_fix(data_root: Path) -> None:
    c = check_database()
    assert not c.ok and c.fix == "kyodo db upgrade"


def test_doctor_finds_tesseract_jpn() -> None:
    c = check_tesseract()
    assert c.ok, c.detail


def test_tenants_list_ok() -> None:
    result = runner.invoke(app, ["tenants", "list"])
    assert result.exit_code == 0, result.output
    assert "長野市" in result.output
