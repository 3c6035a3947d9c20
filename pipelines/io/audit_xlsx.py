"""审核结果.xlsx: the audit's lists as one workbook for the office, in Chinese.

The contract's CSVs stay as they are (UTF-8, English headers: programs read them). Beside them
the office gets one workbook, read from those same files so that the two cannot disagree:
线索 (findings.csv), 拟停保减保 (remove_list.csv), 拟纳入 (add_list.csv), 变动 (changes.csv) and
汇总 (counts per finding code and district). Headers, finding names, actions, tiers and
severities are in Chinese; money is a number shown with two decimals; IDs and other codes are
text (a spreadsheet would otherwise show 4.20102E+17); each sheet has a frozen, filtered
header, fitted column widths and prints landscape, one page wide, with the header on every
page. Written in openpyxl's write-only mode: 100,000 findings in a few seconds, in bounded
memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from pipelines.io.inert import set_text
from pipelines.io.publicity_xlsx import deterministic
from pipelines.rules import codes
from pipelines.rules.policy import TIER_LABELS

FILENAME = "审核结果.xlsx"
MONEY = "#,##0.00"
SEVERITY = {"high": "高", "medium": "中", "low": "低"}
DATASETS = {
    "roll": "低保名册", "standards": "保障标准", "deaths": "死亡火化", "staff": "工作人员",
    "staff_relatives": "工作人员近亲属申报", "kin_filings": "近亲属备案",
    "vehicles": "车辆登记", "property": "不动产登记", "businesses": "工商登记",
    "public_employees": "财政供养人员", "pensions": "养老金领取", "low_income": "低收入人口",
    "decisions": "核查结论"}
#: the actions of config/findings.yaml in plain Chinese (an action a place configures in its
#: own words is shown as written)
ACTIONS = {
    "remove member, recalculate": "停发该成员，重新核定保障金",
    "remove the duplicate": "停发重复享受部分",
    "review: stop or recalculate": "核查后停保或重新核定",
    "review: stop": "核查后停保",
    "review: stop or reduce": "核查后停保或减发",
    "file (备案) and home visit": "补办备案并入户核查",
    "review the link": "核查关联关系",
    "review by another officer, home visit": "由其他工作人员复核并入户核查",
    "outreach, invite to apply": "主动走访，告知申请",
}
GROUPS = {"urban": "城市", "rural": "农村"}
_HEAD_FONT = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="E4E4E4")
_HEAD_ALIGN = Alignment(horizontal="center", vertical="center", wrap_text=True)


@dataclass(frozen=True)
class Column:
    """A column of a sheet: its Chinese header, the CSV column it shows, how."""

    header: str
    source: str | None
    kind: str = "text"  # text, number, money, integer
    words: Callable[[str], str] | None = None

    def value(self, row: dict[str, str]) -> Any:
        raw = row.get(self.source or "", "") or ""
        if self.words is not None:
            return self.words(raw) if raw else None
        if not raw:
            return None
        if self.kind == "money" or self.kind == "number":
            return float(raw)
        if self.kind == "integer":
            return int(float(raw))
        return raw


def _mapped(table: dict[str, str]) -> Callable[[str], str]:
    return lambda value: table.get(value, value)


def _code_names(value: str) -> str:
    labels = codes.labels()
    return "、".join(labels.get(code, code) for code in value.split(";") if code)


_TIERS = _mapped(TIER_LABELS)

FINDINGS = (
    Column("线索编号", "finding_id"), Column("户编号", "household_id"),
    Column("身份证号", "id_number"), Column("姓名", "name"),
    Column("线索类型", "finding_code", words=lambda c: codes.labels().get(c, c)),
    Column("线索代码", "finding_code"), Column("严重程度", "severity", words=_mapped(SEVERITY)),
    Column("匹配等级", "tier", words=_TIERS), Column("匹配分", "score", "number"),
    Column("比对数据", "dataset", words=_mapped(DATASETS)), Column("比对记录号", "record_id"),
    Column("比对说明", "evidence"), Column("涉及金额(元/月)", "amount_at_stake", "money"))
REMOVE = (
    Column("序号", "rank", "integer"), Column("户编号", "household_id"),
    Column("区", "district"), Column("街道", "street"), Column("社区(村)", "community"),
    Column("户主姓名", "head_name"), Column("家庭人口", "members", "integer"),
    Column("月保障金额(元)", "monthly_amount", "money"),
    Column("拟处理", "proposed_action", words=_mapped(ACTIONS)),
    Column("优先级", "priority", "number"), Column("线索类型", "finding_codes", words=_code_names),
    Column("线索编号", "finding_ids"))
ADD = (
    Column("序号", "rank", "integer"), Column("低收入人口记录号", "record_id"),
    Column("姓名", "name"), Column("身份证号", "id_number"), Column("区", "district"),
    Column("街道", "street"), Column("社区(村)", "community"),
    Column("家庭人口", "household_size", "integer"),
    Column("人均月收入(元)", "per_capita_income", "money"),
    Column("保障标准(元/月)", "standard", "money"), Column("差额(元/月)", "gap_amount", "money"),
    Column("城乡", "group", words=_mapped(GROUPS)), Column("线索编号", "finding_id"))
CHANGES = (
    Column("户编号", "household_id"), Column("变动", "change"),
    Column("原月保障金额(元)", "old_amount", "money"),
    Column("现月保障金额(元)", "new_amount", "money"),
    Column("原人数", "members_before", "integer"), Column("现人数", "members_after", "integer"),
    Column("原因", "reason"))
SHEETS = (("线索", "findings.csv", FINDINGS), ("拟停保减保", "remove_list.csv", REMOVE),
          ("拟纳入", "add_list.csv", ADD), ("变动", "changes.csv", CHANGES))


def priority_note(weights: dict[str, float]) -> str:
    """What the priority of the removal list means, with the configured weights."""
    shown = "、".join(f"{SEVERITY.get(k, k)}{v:g}" for k, v in weights.items())
    return (f"优先级 = 严重程度权重（{shown}）× 涉及金额（元/月）× 匹配分，"
            "取该户各条线索中的最高值；数值越大越应先核查。")


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _width(value: Any) -> int:
    text = f"{value:,.2f}" if isinstance(value, float) else str(value if value is not None else "")
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _cell(ws: Worksheet, value: Any, column: Column | None = None, head: bool = False
          ) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws)
    if isinstance(value, str):
        set_text(cell, value)  # text stays text: never read as a formula or a number
    else:
        cell.value = value
    if head:
        cell.font, cell.fill, cell.alignment = _HEAD_FONT, _HEAD_FILL, _HEAD_ALIGN
    elif column is not None and column.kind == "money":
        cell.number_format = MONEY
    elif column is not None and column.kind == "number":
        cell.number_format = "0.00"
    elif column is not None and column.kind == "text":
        cell.number_format = "@"
    return cell


def _prepare(ws: Worksheet, widths: list[int], rows: int, title: str) -> None:
    """What a write-only sheet needs before its first row: widths, frozen header, filter,
    print settings."""
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 6), 60)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(widths))}{max(rows, 1) + 1}"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = title
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"


def _table(workbook: Workbook, title: str, columns: tuple[Column, ...],
           values: list[list[Any]], notes: tuple[str, ...] = (), index: int | None = None
           ) -> None:
    ws = workbook.create_sheet(title, index)
    widths = [_width(c.header) for c in columns]
    for row in values:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], _width(value))
    _prepare(ws, widths, len(values), title)
    ws.append([_cell(ws, c.header, head=True) for c in columns])
    for row in values:
        ws.append([_cell(ws, v, c) for v, c in zip(row, columns, strict=True)])
    if notes:
        ws.append([])
    for note in notes:
        ws.append([_cell(ws, note)])


def _list_sheet(workbook: Workbook, title: str, source: Path, columns: tuple[Column, ...],
                notes: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """A sheet of one CSV, translated; the CSV's rows (for the summary)."""
    rows = list(_rows(source))
    _table(workbook, title, columns, [[c.value(r) for c in columns] for r in rows], notes)
    return rows


SUMMARY = (Column("项目", None), Column("线索代码", None), Column("数量", None, "integer"),
           Column("涉及户数", None, "integer"), Column("涉及金额(元/月)", None, "money"))


def _summary_sheet(workbook: Workbook, findings: list[dict[str, str]],
                   remove: list[dict[str, str]], add: list[dict[str, str]],
                   changes: list[dict[str, str]], as_of: dt.date, weights: dict[str, float]
                   ) -> None:
    by_code = Counter(r["finding_code"] for r in findings)
    homes: dict[str, set[str]] = {}
    money: Counter[str] = Counter()
    for r in findings:
        homes.setdefault(r["finding_code"], set()).add(r["household_id"] or r["record_id"])
        money[r["finding_code"]] += float(r["amount_at_stake"] or 0)
    labels = codes.labels()
    values: list[list[Any]] = [
        [labels[code], code, by_code[code], len(homes[code]), round(money[code], 2)]
        for code in labels if by_code[code]]
    values.append(["线索合计", None, len(findings),
                   len({r["household_id"] or r["record_id"] for r in findings}),
                   round(sum(money.values()), 2)])
    values.append(["拟停保减保", None, len(remove), len(remove),
                   round(sum(float(r["monthly_amount"] or 0) for r in remove), 2)])
    values.append(["拟纳入（人）", None, len(add), None,
                   round(sum(float(r["gap_amount"] or 0) for r in add), 2)])
    for change, count in sorted(Counter(r["change"] for r in changes).items()):
        values.append([f"变动：{change}", None, count, count, None])
    notes = (f"数据截至{as_of.year}年{as_of.month}月{as_of.day}日。线索只是核查的线索，"
             "不是结论：每条都须经办人核实并记录决定后才能处理。", priority_note(weights))
    _table(workbook, "汇总", SUMMARY, values, notes, index=0)


def write_audit_workbook(folder: Path, as_of: dt.date, weights: dict[str, float]) -> Path:
    """审核结果.xlsx beside the CSVs in `folder`, from them; `weights`: the severity weights
    of the priority (rules.yaml severity_weights)."""
    workbook = Workbook(write_only=True)
    read: dict[str, list[dict[str, str]]] = {}
    for title, filename, columns in SHEETS:
        notes = (priority_note(weights),) if filename == "remove_list.csv" else ()
        read[filename] = _list_sheet(workbook, title, folder / filename, columns, notes)
    _summary_sheet(workbook, read["findings.csv"], read["remove_list.csv"],
                   read["add_list.csv"], read["changes.csv"], as_of, weights)
    target = folder / FILENAME
    target.write_bytes(deterministic(workbook, "低保审核结果", as_of))
    return target
