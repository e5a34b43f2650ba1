from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from automation.cli import app
from tenants.loader import TenantFileError, get_tenant, load_all, load_tenant_file

PROJECT = Path(__file__).resolve().parents[2]
runner = CliRunner()

THREE_MISTAKES = """\
display_name = "テスト町"
population = -5
timezone = "Asia/Tokio"

[systems.jidou]
base_url = "not a url"
"""


def write(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / f"{name}.toml"
    p.write_text(body, encoding="utf-8")
    return p


def test_shipped_examples_are_valid() -> None:
    report = load_all(PROJECT / "tenants")
    assert report.ok, report.problems
    assert {"nagano-shi", "obuse-machi"} <= set(report.tenants)
    nagano = report.tenants["nagano-shi"].config
    assert nagano.display_name == "長野市"
    assert nagano.systems["jidou_teate"].password_secret == "jidou_teate_password"


def test_three_mistakes_reported_with_paths_and_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "test-cho", THREE_MISTAKES)
    with pytest.raises(TenantFileError) as info:
        load_tenant_file(path)
    problems = {p.path: p for p in info.value.problems}
    assert set(problems) == {"population", "timezone", "systems.jidou.base_url"}
    assert problems["population"].line == 2
    assert problems["timezone"].line == 3
    assert problems["systems.jidou.base_url"].line == 6
    assert "Asia/Tokyo" in problems["timezone"].message


def test_validate_cli_exits_2_listing_all_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "test-cho", THREE_MISTAKES)
    result = runner.invoke(app, ["tenants", "validate", str(path)])
    assert result.exit_code == 2
    out = result.output
    for fragment in ("population", "timezone", "systems.jidou.base_url", "3 problem(s)"):
        assert fragment in out


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken", 'display_name = "x"\npopulation = = 3\n')
    with pytest.raises(TenantFileError) as info:
        load_tenant_file(path)
    assert info.value.problems[0].line == 2


def test_plaintext_password_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "leaky", 'display_name = "x"\n[systems.s]\nbase_url = "http://h/"\npassword = "hunter2"\n')
    with pytest.raises(TenantFileError) as info:
        load_tenant_file(path)
    msg = str(info.value)
    assert "plaintext secret" in msg and "hunter2" not in msg


def test_unknown_key_and_id_mismatch(tmp_path: Path) -> None:
    path = write(tmp_path, "town-a", 'id = "town-b"\ndisplay_name = "x"\npopulaton = 3\n')
    with pytest.raises(TenantFileError) as info:
        load_tenant_file(path)
    paths = {p.path for p in info.value.problems}
    assert paths == {"id", "populaton"}


def test_broken_file_does_not_stop_the_others(tmp_path: Path) -> None:
    write(tmp_path, "good-town", 'display_name = "良い町"\n')
    write(tmp_path, "bad-town", 'display_name = ""\n')
    report = load_all(tmp_path)
    assert list(report.tenants) == ["good-town"]
    assert [p.path for p in report.problems] == ["display_name"]


def test_layers_and_origins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scen = tmp_path / "scenarios" / "shared_one"
    scen.mkdir(parents=True)
    (scen / "tenant_defaults.toml").write_text(
        '[scenarios.shared_one.params]\nbatch = 10\nmode = "shared"\n[transcription]\nlanguage = "en"\n', encoding="utf-8"
    )
    tdir = tmp_path / "tenants"
    tdir.mkdir()
    write(tdir, "town", 'display_name = "町"\n[scenarios.shared_one.params]\nmode = "local"\n')
    monkeypatch.setenv("KYODO_SCENARIOS_DIR", str(tmp_path / "scenarios"))
    from tenants.settings import reset_settings_cache

    reset_settings_cache()
    t = get_tenant("town", tenants_dir=tdir, run_params={"transcription": {"language": "ja"}})
    params = t.config.scenarios["shared_one"].params
    assert params == {"batch": 10, "mode": "local"}
    assert t.origins["scenarios.shared_one.params.batch"] == "scenario:shared_one"
    assert t.origins["scenarios.shared_one.params.mode"].endswith("town.toml")
    assert t.origins["timezone"] == "platform defaults"
    assert t.origins["transcription.language"] == "run parameters"
    reset_settings_cache()


def test_config_show_cli_prints_origins() -> None:
    result = runner.invoke(app, ["config", "show", "--tenant", "nagano-shi", "--json"])
    assert result.exit_code == 0, result.output
    assert "platform defaults" in result.output and "nagano-shi.toml" in result.output


def test_unknown_tenant_exit_2() -> None:
    result = runner.invoke(app, ["config", "show", "--tenant", "nowhere"])
    assert result.exit_code == 2
    assert "no tenant 'nowhere'" in result.output
