"""Allocation reports for clerks: CSV, Excel, HTML and PNG bar charts (Japanese).

CSV is written with a BOM (``utf-8-sig``) so Japanese Excel detects UTF-8. The workbook
uses Japanese sheet names, a Japanese font, ``¥#,##0`` for yen, widths sized for
full-width characters, frozen headers and landscape fit-to-width printing.
"""
from __future__ import annotations

import base64
import csv
import unicodedata
from pathlib import Path

from .allocation import AllocationReport
from .metering import JST
from .privacy import mask

YEN_FORMAT = "¥#,##0"
XLSX_FONT = "游ゴシック"  # Yu Gothic; Japanese Excel substitutes MS PGothic where it is missing
CJK_FONTS = ("IPAexGothic", "Noto Sans CJK JP", "IPAGothic", "TakaoGothic")


def _stem(report: AllocationReport) -> str:
    return f"allocation_FY{report.fiscal_year}"


def _era(fy: int) -> str:
    return f"令和{fy - 2018}年度" if fy >= 2019 else f"{fy}年度"


def title(report: AllocationReport) -> str:
    return f"{_era(report.fiscal_year)} ({report.fiscal_year}年度) 共同利用経費 按分表"


# ------------------------------------------------------------------ rows (shared by all formats)


def summary_rows(report: AllocationReport) -> tuple[list[str], list[list[object]]]:
    header = ["団体コード", "団体名", "人口"] + [i.name for i in report.items] + ["合計 (円)"]
    rows: list[list[object]] = []
    totals = report.totals
    for tid, m in report.members.items():
        rows.append([tid, m.display_name, m.population] + [i.shares.get(tid, 0) for i in report.items] + [totals[tid]])
    rows.append(["", "合計", sum(m.population for m in report.members.values())]
                + [sum(i.shares.values()) for i in report.items] + [sum(totals.values())])
    return header, rows


def detail_rows(report: AllocationReport) -> tuple[list[str], list[list[object]]]:
    header = ["経費項目", "プール", "経費 (円)", "区分", "比率", "区分額 (円)", "団体名", "算定基礎", "負担額 (円)", "備考"]
    rows: list[list[object]] = []
    for item in report.items:
        if not item.parts:
            rows.append([item.name, item.pool, item.amount_yen, "", "", "", "", "", 0, item.note])
        for part in item.parts:
            for tid, yen in part.shares.items():
                rows.append([item.name, item.pool, item.amount_yen, part.label, part.ratio, part.amount_yen,
                             report.name(tid), part.basis.get(tid, 0), yen, part.note])
    return header, rows


def job_rows(report: AllocationReport) -> tuple[list[str], list[list[object]]]:
    header = ["団体名", "経費項目", "ジョブID", "実績量", "実績割負担額 (円)"]
    rows: list[list[object]] = []
    for item in report.items:
        for tid, shares in item.drilldown.items():
            for js in shares:
                rows.append([report.name(tid), item.name, js.job_id if js.job_id is not None else "(ジョブなし)", js.usage, js.yen])
    return header, rows


def usage_rows(report: AllocationReport) -> tuple[list[str], list[list[object]]]:
    meters = sorted({m for per in report.usage.values() for m in per})
    return ["団体名"] + meters, [[report.name(t)] + [per.get(m, 0.0) for m in meters] for t, per in report.usage.items()]


# ------------------------------------------------------------------ CSV


def write_csv(report: AllocationReport, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for suffix, (header, rows) in (("", summary_rows(report)), ("_detail", detail_rows(report)), ("_jobs", job_rows(report))):
        path = out_dir / f"{_stem(report)}{suffix}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows([[mask(str(c)) if isinstance(c, str) else c for c in r] for r in rows])
        files.append(path)
    return files


# ------------------------------------------------------------------ Excel


def _width(value: object) -> int:
    text = f"{value:,}" if isinstance(value, int) else str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(report: AllocationReport, out_dir: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    out_dir.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    font, bold = Font(name=XLSX_FONT, size=11), Font(name=XLSX_FONT, size=11, bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    def sheet(ws, header: list[str], rows: list[list[object]], yen_cols: set[int], caption: str, total_row: bool = False,
              pct_cols: frozenset[int] = frozenset()) -> None:  # noqa: ANN001
        ws.append([caption])
        ws["A1"].font = Font(name=XLSX_FONT, size=13, bold=True)
        ws.append([f"作成日時 {report.generated_at.astimezone(JST):%Y-%m-%d %H:%M} (日本時間)"])
        ws["A2"].font = font
        ws.append(header)
        for r in rows:
            ws.append([mask(c) if isinstance(c, str) else c for c in r])
        widths = [_width(h) for h in header]
        for row in ws.iter_rows(min_row=3, max_row=ws.max_row):
            for cell in row:
                col = cell.column - 1
                cell.font = bold if cell.row == 3 or (total_row and cell.row == ws.max_row) else font
                cell.border = border
                if cell.row == 3:
                    cell.fill = head_fill
                    cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
                elif col in yen_cols:
                    cell.number_format = YEN_FORMAT
                elif col in pct_cols:
                    cell.number_format = "0%"
                elif isinstance(cell.value, float):
                    cell.number_format = "#,##0.###"
                elif isinstance(cell.value, int):
                    cell.number_format = "#,##0"
                if col < len(widths):
                    widths[col] = max(widths[col], _width(cell.value if cell.value is not None else ""))
        for i, w in enumerate(widths):
            ws.column_dimensions[ws.cell(row=3, column=i + 1).column_letter].width = min(max(w + 3, 8), 60)
        ws.freeze_panes = "A4"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "3:3"

    header, rows = summary_rows(report)
    ws = wb.active
    ws.title = "按分結果"
    sheet(ws, header, rows, set(range(3, len(header))), f"按分結果 — {title(report)}", total_row=True)
    header, rows = detail_rows(report)
    sheet(wb.create_sheet("按分内訳"), header, rows, {2, 5, 8}, "按分内訳 (基本割・人口割・実績割)", pct_cols=frozenset({4}))
    header, rows = job_rows(report)
    sheet(wb.create_sheet("実績明細"), header, rows, {4}, "実績割の明細 (ジョブ別)")
    header, rows = usage_rows(report)
    sheet(wb.create_sheet("利用実績"), header, rows, set(), f"利用実績 ({report.fiscal_year}年度)")
    path = out_dir / f"{_stem(report)}.xlsx"
    wb.save(path)
    return path


# ------------------------------------------------------------------ PNG charts


def _cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((n for n in CJK_FONTS if n in names), None)


def write_png(report: AllocationReport, out_dir: Path) -> list[Path]:
    """One stacked bar chart of every municipality's share by cost item, plus one chart per municipality."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    out_dir.mkdir(parents=True, exist_ok=True)
    font = _cjk_font()
    rc = {"font.family": font} if font else {}
    yen = FuncFormatter(lambda v, _p: f"¥{v:,.0f}")
    files = []
    tids = list(report.members)
    with plt.rc_context(rc):
        fig, ax = plt.subplots(figsize=(max(6, 1.8 * len(tids) + 2), 4.8), dpi=120)
        bottom = [0] * len(tids)
        for item in report.items:
            vals = [item.shares.get(t, 0) for t in tids]
            ax.bar([report.name(t) for t in tids], vals, bottom=bottom, label=item.name)
            bottom = [b + v for b, v in zip(bottom, vals)]
        for x, total in enumerate(bottom):
            ax.annotate(f"¥{total:,}", (x, total), ha="center", va="bottom", fontsize=9)
        ax.yaxis.set_major_formatter(yen)
        ax.set_ylim(0, max(bottom + [1]) * 1.12)
        ax.set_title(title(report))
        ax.set_ylabel("負担額 (円)")
        ax.legend(fontsize=8, loc="upper right")
        fig.tight_layout()
        path = out_dir / f"{_stem(report)}.png"
        fig.savefig(path)
        plt.close(fig)
        files.append(path)
        for tid in tids:
            fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
            names = [i.name for i in report.items]
            left = [0] * len(names)
            for kind, label in (("base", "基本割"), ("population", "人口割"), ("usage", "実績割")):
                vals = [next((p.shares.get(tid, 0) for p in i.parts if p.kind == kind), 0) for i in report.items]
                ax.barh(names, vals, left=left, label=label)
                left = [a + b for a, b in zip(left, vals)]
            for y, total in enumerate(left):
                ax.annotate(f"¥{total:,}", (total, y), va="center", ha="left", fontsize=8, xytext=(3, 0), textcoords="offset points")
            ax.xaxis.set_major_formatter(yen)
            ax.set_xlim(0, max(left + [1]) * 1.3)
            ax.invert_yaxis()
            ax.set_title(f"{report.name(tid)} 負担額 ¥{report.totals[tid]:,} ({report.fiscal_year}年度)")
            ax.legend(fontsize=8, loc="lower right")
            fig.tight_layout()
            p = out_dir / f"{_stem(report)}_{tid}.png"
            fig.savefig(p)
            plt.close(fig)
            files.append(p)
    return files


# ------------------------------------------------------------------ HTML


_HTML = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>{{ title }}</title>
<style>
body { font-family: "Yu Gothic", "Hiragino Sans", "IPAexGothic", "Noto Sans CJK JP", sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #999; padding: .3em .6em; }
th { background: #ddebf7; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; background: #f3f3f3; } details { margin: .4em 0; } .note { color: #a33; }
</style></head><body>
<h1>{{ title }}</h1>
<p>作成日時 {{ generated }} (日本時間)。経費は基本割・人口割・実績割に分け、それぞれ最大剰余法で1円単位に按分しています（合計は経費と一致します）。</p>
<h2>按分結果</h2>
<table><tr>{% for h in sheader %}<th>{{ h }}</th>{% endfor %}</tr>
{% for r in srows %}<tr{% if loop.last %} class="total"{% endif %}>{% for c in r %}<td{% if c is number %} class="n"{% endif %}>{{ fmt(c, loop.index0 >= 3) }}</td>{% endfor %}</tr>{% endfor %}
</table>
<img src="data:image/png;base64,{{ chart }}" alt="団体別負担額のグラフ" style="max-width: 100%;">
<h2>経費項目ごとの内訳</h2>
{% for item in items %}
<h3>{{ item.name }}（{{ item.pool }}、¥{{ "{:,}".format(item.amount_yen) }}）</h3>
{% if item.note %}<p class="note">{{ item.note }}</p>{% endif %}
<table><tr><th>区分</th><th>比率</th><th>区分額</th>{% for t in item.members %}<th>{{ name(t) }}</th>{% endfor %}</tr>
{% for p in item.parts %}<tr><td>{{ p.label }}{% if p.note %}<br><span class="note">{{ p.note }}</span>{% endif %}</td>
<td class="n">{{ "%.0f" % (p.ratio * 100) }}%</td><td class="n">¥{{ "{:,}".format(p.amount_yen) }}</td>
{% for t in item.members %}<td class="n">¥{{ "{:,}".format(p.shares.get(t, 0)) }}</td>{% endfor %}</tr>{% endfor %}
<tr class="total"><td>合計</td><td></td><td class="n">¥{{ "{:,}".format(item.amount_yen) }}</td>
{% for t in item.members %}<td class="n">¥{{ "{:,}".format(item.shares.get(t, 0)) }}</td>{% endfor %}</tr></table>
{% for t, shares in item.drilldown.items() %}
<details><summary>{{ name(t) }} の実績割 ¥{{ "{:,}".format(shares | sum(attribute="yen")) }} の内訳（ジョブ {{ shares | length }} 件）</summary>
<table><tr><th>ジョブID</th><th>実績量</th><th>負担額</th></tr>
{% for js in shares %}<tr><td class="n">{{ js.job_id if js.job_id is not none else "(ジョブなし)" }}</td><td class="n">{{ "{:,.1f}".format(js.usage) }}</td><td class="n">¥{{ "{:,}".format(js.yen) }}</td></tr>{% endfor %}
</table></details>
{% endfor %}
{% endfor %}
</body></html>
"""


def write_html(report: AllocationReport, out_dir: Path, chart: Path | None = None) -> Path:
    from jinja2 import Environment

    out_dir.mkdir(parents=True, exist_ok=True)
    if chart is None:
        chart = write_png(report, out_dir)[0]
    sheader, srows = summary_rows(report)

    def fmt(c: object, money: bool) -> str:
        if isinstance(c, int):
            return f"¥{c:,}" if money else f"{c:,}"
        return mask(str(c))

    html = Environment(autoescape=True).from_string(_HTML).render(
        title=title(report), generated=f"{report.generated_at.astimezone(JST):%Y-%m-%d %H:%M}",
        sheader=sheader, srows=srows, items=report.items, name=report.name, fmt=fmt,
        chart=base64.b64encode(chart.read_bytes()).decode(),
    )
    path = out_dir / f"{_stem(report)}.html"
    path.write_text(html, encoding="utf-8")
    return path


def write_all(report: AllocationReport, out_dir: Path, formats: tuple[str, ...] = ("csv", "xlsx", "html", "png")) -> list[Path]:
    files: list[Path] = []
    pngs: list[Path] = []
    if "png" in formats or "html" in formats:
        pngs = write_png(report, out_dir)
        if "png" in formats:
            files += pngs
    if "csv" in formats:
        files += write_csv(report, out_dir)
    if "xlsx" in formats:
        files.append(write_xlsx(report, out_dir))
    if "html" in formats:
        files.append(write_html(report, out_dir, chart=pngs[0]))
    return files
