"""The monthly oversight report (督办报告) per district: an XLSX with the tables and a PDF with
the charts, written by `dibao-audit review report` and the monthly DAG next to the publicity
files (`<output>/report/<month>/<district>督办报告-<month>.xlsx|.pdf`, and the city's as
全市督办报告). The figures are those of the oversight page (pipelines.review.oversight) for the
leads first found or received in that month, as the review database holds them now.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pipelines.io.audit_xlsx import Book, Column
from pipelines.io.output import move_into_place, staging_dir
from pipelines.io.publicity_pdf import FAMILY, PdfFonts, cjk_document, quiet_font_tools
from pipelines.review import accountability, charts, oversight
from pipelines.review.accountability import CHANNELS
from pipelines.review.auth import Account
from pipelines.review.db import open_database
from pipelines.review.models import Finding
from pipelines.review.queue import CODE_LABELS

log = logging.getLogger(__name__)
CITY = "全市"
SYSTEM = Account(id=0, username="report", role="auditor", district=None, street=None)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def chart_set(result: oversight.Oversight, floor: float) -> list[charts.BarChart]:
    """The report's and the page's charts, in order."""
    out = [charts.outcome_chart("线索处理情况（按线索类型）", [
        (CODE_LABELS.get(c, c), t.confirmed, t.dismissed, t.open)
        for c, t in sorted(result.by_code.items())])]
    if not result.district:
        out.append(charts.outcome_chart("线索处理情况（按区）", [
            (d, t.confirmed, t.dismissed, t.open) for d, t in sorted(result.by_district.items())]))
    out.append(charts.outcome_chart("线索处理情况（按发现月份）", [
        (m, t.confirmed, t.dismissed, t.open) for m, t in sorted(result.by_month.items())]))
    rated = [(CODE_LABELS.get(c, c), t.rate) for c, t in sorted(result.by_code.items())
             if t.rate is not None]
    if rated:
        out.append(charts.single_chart("确认率（已决线索中确认的比例，红线为复核线）",
                                       [(k, v or 0.0) for k, v in rated], percent=True,
                                       marker=floor, name="确认率"))
    if result.days_by_street:
        out.append(charts.single_chart("决定用时中位数（工作日，按街道）",
                                       [(k, v) for k, _, v in result.days_by_street],
                                       name="工作日"))
    if result.complaints:
        out.append(charts.single_chart("群众举报（按月）", [
            (m, sum(c.values())) for m, c in sorted(result.complaints.items())], name="件"))
    return out


def summary_lines(result: oversight.Oversight, config: Any) -> list[str]:
    t = result.total
    lines = [f"线索 {t.found} 条：已确认 {t.confirmed} 条，已排除 {t.dismissed} 条，未决 {t.open} 条，"
             f"其中逾期 {t.overdue} 条；已决线索确认率 {pct(t.rate)}。"]
    complaints = sum(sum(c.values()) for c in result.complaints.values())
    lines.append(f"群众举报 {complaints} 件。")
    for code in result.flagged_codes:
        tally = result.by_code[code]
        lines.append(f"需复核规则：{CODE_LABELS.get(code, code)}（已决 {tally.decided} 条，确认率 "
                     f"{pct(tally.rate)}，低于 {pct(config.confirmation_floor)}）。")
    for d in result.flagged_groups:
        lines.append(f"差异提示：{oversight.DIMENSIONS[d.dimension]}“{d.group}”占线索 "
                     f"{pct(d.lead_share)}，占名册 {pct(d.roll_share)}（超过 "
                     f"{config.disparity_multiple:g} 倍），其线索确认率 {pct(d.rate)} 低于其他群体的 "
                     f"{pct(d.rest_rate)}：请检查相关规则是否因群体特征而非违规事实产生线索。")
    if not result.flagged_groups:
        lines.append("差异检查：没有群体的线索占比超过其名册占比的 "
                     f"{config.disparity_multiple:g} 倍且确认率更低。")
    return lines


def write_xlsx(result: oversight.Oversight, config: Any, path: Path, title: str) -> None:
    """The report's tables, one sheet each (the audit workbook's layout: pipelines.io.audit_xlsx)."""
    book = Book(path, result.today, title)
    tallies = (Column("发现", None, "integer"), Column("已确认", None, "integer"),
               Column("已排除", None, "integer"), Column("未决", None, "integer"),
               Column("逾期", None, "integer"), Column("确认率", None, "percent"))

    def tally(t: oversight.Tally) -> list[Any]:
        return [t.found, t.confirmed, t.dismissed, t.open, t.overdue, t.rate]

    def text(*headers: str) -> tuple[Column, ...]:
        return tuple(Column(h, None) for h in headers)

    days = (Column("已决线索", None, "integer"), Column("决定用时中位数(工作日)", None, "number"))
    book.table("概况", text(title), [[line] for line in summary_lines(result, config)])
    book.table("按线索类型", (*text("线索类型", "线索代码"), *tallies, *text("需复核规则")),
               [[CODE_LABELS.get(c, c), c, *tally(t), "是" if c in result.flagged_codes else ""]
                for c, t in sorted(result.by_code.items())])
    book.table("按区", (*text("区"), *tallies),
               [[d, *tally(t)] for d, t in sorted(result.by_district.items())])
    book.table("按月份", (*text("发现月份"), *tallies),
               [[m, *tally(t)] for m, t in sorted(result.by_month.items())])
    book.table("用时-街道", (*text("区 街道"), *days), [list(r) for r in result.days_by_street])
    book.table("用时-经办人", (*text("经办人"), *days),
               [list(r) for r in result.days_by_caseworker])
    book.table("逾期线索", text("线索编号", "户编号", "线索类型", "区", "街道", "社区", "状态",
                              "决定截止日期", "审批截止日期", "来源"),
               [[f.finding_id, f.household_id, CODE_LABELS.get(f.finding_code, f.finding_code),
                 f.district, f.street, f.community, f.status, f.due_on, f.approval_due_on,
                 accountability.SOURCE_LABELS.get(f.source, f.source)] for f in result.overdue])
    book.table("群众举报", (*text("月份"), *(Column(c, None, "integer")
                                         for c in (*CHANNELS.values(), "合计"))),
               [[m, *(c.get(k, 0) for k in CHANNELS), sum(c.values())]
                for m, c in sorted(result.complaints.items())])
    book.table("差异检查", (*text("维度", "群体"), Column("名册占比", None, "percent"),
                          Column("线索占比", None, "percent"), Column("线索数", None, "integer"),
                          Column("确认率", None, "percent"),
                          Column("其他群体确认率", None, "percent"), *text("提示")),
               [[oversight.DIMENSIONS[d.dimension], d.group, d.roll_share, d.lead_share, d.leads,
                 d.rate, d.rest_rate, "是" if d.flagged else ""] for d in result.disparity])
    book.close()


def render_pdf(result: oversight.Oversight, config: Any, title: str,
               font: str | None = None) -> bytes:
    lines = summary_lines(result, config)
    figures = chart_set(result, config.confirmation_floor)
    text = title + "".join(lines) + "".join(
        c.title + "".join(c.categories) + "".join(s.name for s in c.series) for c in figures)
    with PdfFonts.for_text(font, text + "第页共生成日期", title + "".join(
            c.title for c in figures)) as fonts:
        pdf = cjk_document(fonts, title, result.today)
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(True, margin=15)
        pdf.add_page()
        pdf.set_font(FAMILY, "B", 16)
        pdf.cell(0, 10, title, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, "", 10)
        pdf.cell(0, 6, f"生成日期 {result.today.isoformat()}", align="C", new_x="LMARGIN",
                 new_y="NEXT")
        pdf.ln(2)
        for line in lines:
            pdf.multi_cell(0, 6, line, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
        for chart in figures:
            needed = 8 + 6 * len(chart.categories) + 9
            if pdf.get_y() + needed > 280:
                pdf.add_page()
            top = pdf.get_y()
            used = chart.draw(pdf, FAMILY, 15, top, 180)
            pdf.set_y(top + used + 4)
        with quiet_font_tools():
            return bytes(pdf.output())


def write_reports(database_url: str, month: str, output_dir: Path,
                  font: str | None = None) -> list[Path]:
    """The city's report and one per district for `month` (YYYY-MM) into
    `output_dir/report/<month>/` (written whole, then moved into place); the files written."""
    try:
        dt.date.fromisoformat(f"{month}-01")
    except ValueError:
        from pipelines.errors import UsageError

        raise UsageError(f"--month {month!r} is not a month (YYYY-MM)") from None
    engine, factory = open_database(database_url)
    written: list[Path] = []
    target = output_dir / "report" / month
    try:
        with factory() as session, staging_dir(target) as stage:
            config = accountability.settings(session)
            districts = sorted(d for d in session.scalars(
                select(Finding.district).where(Finding.first_as_of.like(f"{month}-%"))
                .distinct()) if d)
            for district in ["", *districts]:
                result = oversight.compute(session, SYSTEM, config, district=district,
                                           month=month)
                name = district or CITY
                title = f"{name}最低生活保障线索督办报告（{month}）"
                write_xlsx(result, config, stage / f"{name}督办报告-{month}.xlsx", title)
                (stage / f"{name}督办报告-{month}.pdf").write_bytes(
                    render_pdf(result, config, title, font))
                written += [target / f"{name}督办报告-{month}.xlsx",
                            target / f"{name}督办报告-{month}.pdf"]
            target.parent.mkdir(parents=True, exist_ok=True)
            move_into_place(stage, target)
    finally:
        engine.dispose()
    log.info("oversight reports for %s: %d files in %s", month, len(written), target)
    return written
