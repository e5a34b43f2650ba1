"""Cost allocation: known result for three municipalities, the largest-remainder property, every format."""
from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from tenants.allocation import allocate, largest_remainder, split_item
from tenants.billing import BillingConfig, CostItem
from tenants.reports import write_all


def test_known_allocation_for_three_municipalities(metered, billing, three_configs) -> None:  # noqa: ANN001
    with Session(metered) as s:
        rep = allocate(s, 2026, billing=billing, tenants=three_configs)
    lic, tiny, ocr = rep.items
    # 基本割 150,000 equally; 人口割 350,000 by 6:3:1; 実績割 500,000 by robot seconds 500:300:200.
    assert {p.kind: p.shares for p in lic.parts} == {
        "base": {"town-a": 50_000, "town-b": 50_000, "town-c": 50_000},
        "population": {"town-a": 210_000, "town-b": 105_000, "town-c": 35_000},
        "usage": {"town-a": 250_000, "town-b": 150_000, "town-c": 100_000},
    }
    assert lic.shares == {"town-a": 510_000, "town-b": 305_000, "town-c": 185_000}
    assert tiny.shares == {"town-a": 34, "town-b": 33, "town-c": 33}  # the odd yen goes to the first on a tie
    assert ocr.shares == {"town-a": 706, "town-b": 294, "town-c": 0}  # pages 12:5:0
    assert rep.totals == {"town-a": 510_740, "town-b": 305_327, "town-c": 185_033}
    assert sum(rep.totals.values()) == rep.total_yen == 1_001_100
    # Drill-down: each yen of a 実績割 share traced to the jobs behind it.
    assert [(j.job_id, j.usage, j.yen) for j in lic.drilldown["town-a"]] == [(1, 300, 150_000), (2, 200, 100_000)]
    assert [(j.job_id, j.yen) for j in lic.drilldown["town-c"]] == [(4, 100_000)]
    assert sum(j.yen for j in ocr.drilldown["town-a"]) == 706


def test_zero_usage_and_zero_population_split_equally() -> None:
    item = CostItem(id="x", name="x", pool="p", amount_yen=1001,
                    rule={"base": 0, "population": 0.5, "usage": 0.5, "usage_meters": {"ocr.page": 1}})
    alloc = split_item(item, ["a", "b", "c"], {"a": 0, "b": 0, "c": 0}, {})
    assert sum(alloc.shares.values()) == 1001
    assert all(p.note for p in alloc.parts) and max(alloc.shares.values()) - min(alloc.shares.values()) <= 1
    empty = split_item(item, [], {}, {})
    assert empty.shares == {} and empty.unallocated_yen == 1001 and "構成団体" in empty.note


def test_rule_must_add_up_to_one() -> None:
    with pytest.raises(ValueError, match="add up to 1"):
        BillingConfig.model_validate({"cost_items": [{"id": "x", "name": "x", "pool": "p", "amount_yen": 1,
                                                      "rule": {"base": 0.5, "population": 0.4}}]})
    with pytest.raises(ValueError, match="not declared"):
        BillingConfig.model_validate({"cost_items": [{"id": "x", "name": "x", "pool": "p", "amount_yen": 1,
                                                      "rule": {"usage": 1, "usage_meters": {"nope": 1}}}]})


members = st.lists(st.sampled_from([f"t{i}" for i in range(12)]), min_size=1, max_size=12, unique=True)
amounts = st.integers(min_value=0, max_value=10**11)
ratio3 = st.tuples(st.integers(0, 100), st.integers(0, 100), st.integers(0, 100)).filter(lambda r: sum(r) > 0)


@settings(max_examples=150, deadline=None)
@given(total=amounts, weights=st.dictionaries(st.sampled_from("abcdefghijklmnop"), st.floats(0, 1e9, allow_nan=False), min_size=1, max_size=16))
def test_largest_remainder_is_exact(total: int, weights: dict[str, float]) -> None:
    if sum(weights.values()) == 0:
        if total:
            with pytest.raises(ValueError):
                largest_remainder(total, weights)
        return
    shares = largest_remainder(total, weights)
    assert sum(shares.values()) == total and all(v >= 0 for v in shares.values())
    wsum = sum(weights.values())
    for k, w in weights.items():  # never more than one yen from the exact quota
        assert abs(shares[k] - total * w / wsum) < 1 + 1e-6 * total


@settings(max_examples=150, deadline=None)
@given(amount=amounts, ms=members, r=ratio3, data=st.data())
def test_any_costs_usage_populations_sum_exactly(amount: int, ms: list[str], r: tuple[int, int, int], data: st.DataObject) -> None:
    total = sum(r)
    # Ratios as a file would hold them (four decimals); the last takes the rest.
    base, pop = round(r[0] / total, 4), round(r[1] / total, 4)
    rule = {"base": base, "population": pop, "usage": max(0.0, round(1 - base - pop, 4)), "usage_meters": {"rpa.robot_seconds": 1}}
    item = CostItem(id="x", name="x", pool="p", amount_yen=amount, rule=rule)
    population = {m: data.draw(st.integers(0, 4_000_000)) for m in ms}
    usage = {m: data.draw(st.one_of(st.just(0.0), st.floats(0, 1e7, allow_nan=False))) for m in ms}
    alloc = split_item(item, sorted(ms), population, usage)
    assert sum(alloc.shares.values()) == amount
    assert sum(p.amount_yen for p in alloc.parts) == amount
    for p in alloc.parts:
        assert sum(p.shares.values()) == p.amount_yen
    assert all(v >= 0 for v in alloc.shares.values())


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the files do not depend on the database
def test_every_format(metered, billing, three_configs, tmp_path: Path) -> None:  # noqa: ANN001
    from openpyxl import load_workbook

    with Session(metered) as s:
        rep = allocate(s, 2026, billing=billing, tenants=three_configs)
    files = {p.name: p for p in write_all(rep, tmp_path)}
    assert set(files) >= {"allocation_FY2026.csv", "allocation_FY2026_detail.csv", "allocation_FY2026_jobs.csv",
                          "allocation_FY2026.xlsx", "allocation_FY2026.html", "allocation_FY2026.png",
                          "allocation_FY2026_town-a.png"}
    raw = files["allocation_FY2026.csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Japanese Excel reads it as UTF-8
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:2] == ["団体コード", "団体名"] and rows[1][-1] == "510740" and rows[-1][-1] == "1001100"
    jobs = list(csv.reader(files["allocation_FY2026_jobs.csv"].read_text(encoding="utf-8-sig").splitlines()))
    assert ["Ａ市", "RPA ライセンス", "1", "300.0", "150000"] in jobs
    wb = load_workbook(files["allocation_FY2026.xlsx"])
    assert wb.sheetnames == ["按分結果", "按分内訳", "実績明細", "利用実績"]
    ws = wb["按分結果"]
    assert ws["B4"].value == "Ａ市" and ws["G4"].value == 510_740 and ws["G4"].number_format == "¥#,##0"
    assert ws["B4"].font.name == "游ゴシック" and ws.column_dimensions["D"].width >= 14 and ws.freeze_panes == "A4"
    assert zipfile.is_zipfile(files["allocation_FY2026.xlsx"])
    html = files["allocation_FY2026.html"].read_text(encoding="utf-8")
    assert "¥510,740" in html and "<details>" in html and "data:image/png;base64," in html and 'lang="ja"' in html
    assert files["allocation_FY2026.png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_cli_usage_report_and_allocate(metered, tmp_path: Path) -> None:  # noqa: ANN001
    """The CLI on the platform's own billing file and tenant files (長野市, 小布施町)."""
    from automation.cli import app
    from tenants.db import session_scope
    from tenants.loader import load_all
    from tenants.registry import sync_tenants
    from typer.testing import CliRunner

    from .conftest import jst, robot

    with session_scope(metered) as s:
        sync_tenants(s, load_all())
        s.flush()
        from tenants.usage import record_usage

        record_usage(s, robot("nagano-shi", 500, 120, jst(2026, 6, 10, 9), pool="nagano-rpa"))
        record_usage(s, robot("obuse-machi", 501, 60, jst(2026, 6, 10, 9, 1), pool="nagano-rpa"))
    runner = CliRunner()
    rep = runner.invoke(app, ["usage", "report", "--month", "2026-06", "--format", "csv"])
    assert rep.exit_code == 0, rep.output
    assert "2026-06,nagano-shi,rpa.robot_seconds,data.pool=nagano-rpa,120.0,秒,1" in rep.output
    one = runner.invoke(app, ["usage", "report", "--month", "2026-06", "--tenant", "obuse-machi"])
    assert one.exit_code == 0 and "nagano-shi" not in one.output and "Peak concurrent" in one.output
    bad = runner.invoke(app, ["usage", "report", "--month", "June"])
    assert bad.exit_code == 2 and "YYYY-MM" in bad.output
    table = runner.invoke(app, ["usage", "allocate", "--fiscal-year", "2026"])
    assert table.exit_code == 0 and "長野市" in table.output and "¥6,780,000" in table.output
    out = runner.invoke(app, ["usage", "allocate", "--fiscal-year", "2026", "--format", "csv", "--out", str(tmp_path)])
    assert out.exit_code == 0 and (tmp_path / "allocation_FY2026.csv").is_file()
    rows = list(csv.reader((tmp_path / "allocation_FY2026.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert int(rows[-1][-1]) == 6_780_000 == sum(int(r[-1]) for r in rows[1:-1])
