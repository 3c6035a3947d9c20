"""审核结果.xlsx: the audit's lists as one workbook for the office, in Chinese.

The contract's CSVs stay as they are (UTF-8, English headers: programs read them). Beside them
the office gets one workbook, read from those same files so that the two cannot disagree:
线索 (findings.csv), 拟停保减保 (remove_list.csv), 拟纳入 (add_list.csv), 变动 (changes.csv) and
汇总 (counts per finding code and district). Headers, finding names, actions, tiers and
severities are in Chinese; money is a number shown with two decimals; IDs and other codes are
text (a spreadsheet would otherwise show 4.20102E+17); each sheet has a frozen, filtered
header, fitted column widths and prints landscape, one page wide, with the header on every
page. Written with XlsxWriter in its constant-memory mode (docs/decisions/0012): rows go to
disk as they are written. The bytes are the same for the same lists (fixed document times).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines.io.publicity_xlsx import display_width
from pipelines.labels import (
    ACTION_LABELS,
    DATASET_LABELS,
    GROUP_LABELS,
    SEVERITY_LABELS,
    match_score,
    priority_note,
)
from pipelines.rules import codes
from pipelines.rules.policy import TIER_LABELS

FILENAME = "审核结果.xlsx"
MONEY = "#,##0.00"


@dataclass(frozen=True)
class Column:
    """A column of a sheet: its Chinese header, the CSV column it shows, how."""

    header: str
    source: str | None
    kind: str = "text"  # text, number, money, integer, score, percent
    words: Callable[[str], str] | None = None

    def value(self, row: dict[str, str]) -> Any:
        raw = row.get(self.source or "", "") or ""
        if self.words is not None:
            return self.words(raw) if raw else None
        if not raw:
            return None
        if self.kind == "money" or self.kind == "number":
            return float(raw)
        if self.kind == "score":  # rounded down: only a full match reads 1.0000
            return float(match_score(float(raw)))
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
    Column("线索代码", "finding_code"), Column("严重程度", "severity", words=_mapped(SEVERITY_LABELS)),
    Column("匹配等级", "tier", words=_TIERS), Column("匹配分", "score", "score"),
    Column("比对数据", "dataset", words=_mapped(DATASET_LABELS)), Column("比对记录号", "record_id"),
    Column("比对说明", "evidence"), Column("涉及金额(元/月)", "amount_at_stake", "money"))
REMOVE = (
    Column("序号", "rank", "integer"), Column("户编号", "household_id"),
    Column("区", "district"), Column("街道", "street"), Column("社区(村)", "community"),
    Column("户主姓名", "head_name"), Column("家庭人口", "members", "integer"),
    Column("月保障金额(元)", "monthly_amount", "money"),
    Column("拟处理", "proposed_action", words=_mapped(ACTION_LABELS)),
    Column("优先级", "priority", "number"), Column("线索类型", "finding_codes", words=_code_names),
    Column("线索编号", "finding_ids"))
ADD = (
    Column("序号", "rank", "integer"), Column("低收入人口记录号", "record_id"),
    Column("姓名", "name"), Column("身份证号", "id_number"), Column("区", "district"),
    Column("街道", "street"), Column("社区(村)", "community"),
    Column("家庭人口", "household_size", "integer"),
    Column("人均月收入(元)", "per_capita_income", "money"),
    Column("保障标准(元/月)", "standard", "money"), Column("差额(元/月)", "gap_amount", "money"),
    Column("城乡", "group", words=_mapped(GROUP_LABELS)), Column("线索编号", "finding_id"))
CHANGES = (
    Column("户编号", "household_id"), Column("变动", "change"),
    Column("原月保障金额(元)", "old_amount", "money"),
    Column("现月保障金额(元)", "new_amount", "money"),
    Column("原人数", "members_before", "integer"), Column("现人数", "members_after", "integer"),
    Column("原因", "reason"))
SHEETS = (("线索", "findings.csv", FINDINGS), ("拟停保减保", "remove_list.csv", REMOVE),
          ("拟纳入", "add_list.csv", ADD), ("变动", "changes.csv", CHANGES))


def _rows(path: Path) -> Iterator[dict[str, str]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _width(value: Any) -> int:
    return display_width(f"{value:,.2f}" if isinstance(value, float) else
                         (value if value is not None else ""))


class Book:
    """A workbook for people (this one and the oversight reports) and the few cell formats it
    uses."""

    def __init__(self, path: Path, as_of: dt.date, title: str = "低保审核结果") -> None:
        # text stays text: never read as a formula, a number or a link
        self.book = xlsxwriter.Workbook(str(path), {
            "constant_memory": True, "strings_to_formulas": False,
            "strings_to_numbers": False, "strings_to_urls": False})
        stamp = dt.datetime.combine(as_of, dt.time(0, 0))
        self.book.set_properties({"title": title, "author": "dibao-audit",
                                  "created": stamp})
        self.head = self.book.add_format({"bold": True, "bg_color": "#E4E4E4", "border": 1,
                                          "align": "center", "valign": "vcenter",
                                          "text_wrap": True})
        self.formats = {"money": self.book.add_format({"num_format": MONEY}),
                        "number": self.book.add_format({"num_format": "0.00"}),
                        "integer": self.book.add_format({"num_format": "0"}),
                        "score": self.book.add_format({"num_format": "0.0000"}),
                        "percent": self.book.add_format({"num_format": "0.0%"}),
                        "text": self.book.add_format({"num_format": "@"})}

    def table(self, title: str, columns: tuple[Column, ...], values: list[list[Any]],
              notes: tuple[str, ...] = ()) -> None:
        """A sheet: the header, one row per value list, notes below; widths fitted, header
        frozen and filtered, printed landscape one page wide with the header on each page."""
        ws: Worksheet = self.book.add_worksheet(title)
        widths = [_width(c.header) for c in columns]
        for row in values:
            for i, value in enumerate(row):
                widths[i] = max(widths[i], _width(value))
        for index, width in enumerate(widths):
            ws.set_column(index, index, min(max(width + 2, 6), 60))
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(values), 1), len(columns) - 1)
        ws.repeat_rows(0)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&C{title}")
        ws.set_footer("&C第 &P 页，共 &N 页")
        for i, column in enumerate(columns):
            ws.write_string(0, i, column.header, self.head)
        for r, row in enumerate(values, start=1):
            for i, (value, column) in enumerate(zip(row, columns, strict=True)):
                if value is None:
                    continue
                if isinstance(value, str):
                    ws.write_string(r, i, value, self.formats["text"])
                else:
                    ws.write_number(r, i, value, self.formats.get(column.kind))
        for offset, note in enumerate(notes, start=len(values) + 2):
            ws.write_string(offset, 0, note)

    def close(self) -> None:
        self.book.close()


SUMMARY = (Column("项目", None), Column("线索代码", None), Column("数量", None, "integer"),
           Column("涉及户数", None, "integer"), Column("涉及金额(元/月)", None, "money"))


def _summary(findings: list[dict[str, str]], remove: list[dict[str, str]],
             add: list[dict[str, str]], changes: list[dict[str, str]], as_of: dt.date,
             weights: dict[str, float]) -> tuple[list[list[Any]], tuple[str, ...]]:
    """The 汇总 sheet's rows and notes."""
    by_code = Counter(r["finding_code"] for r in findings)
    homes: dict[str, set[str]] = {}
    money: dict[str, float] = {}
    for r in findings:
        homes.setdefault(r["finding_code"], set()).add(r["household_id"] or r["record_id"])
        money[r["finding_code"]] = (money.get(r["finding_code"], 0.0)
                                    + float(r["amount_at_stake"] or 0))
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
             "不是结论：每条都须经办人核实并记录决定后才能处理。", priority_note(weights, household=True))
    return values, notes


def write_audit_workbook(folder: Path, as_of: dt.date, weights: dict[str, float]) -> Path:
    """审核结果.xlsx beside the CSVs in `folder`, from them; `weights`: the severity weights
    of the priority (rules.yaml severity_weights)."""
    read = {filename: list(_rows(folder / filename)) for _, filename, _ in SHEETS}
    target = folder / FILENAME
    book = Book(target, as_of)
    try:
        book.table("汇总", SUMMARY, *_summary(
            read["findings.csv"], read["remove_list.csv"], read["add_list.csv"],
            read["changes.csv"], as_of, weights))
        for title, filename, columns in SHEETS:
            notes = (priority_note(weights, household=True),) if filename == "remove_list.csv" else ()
            book.table(title, columns, [[c.value(r) for c in columns] for r in read[filename]],
                       notes)
    finally:
        book.close()
    return target
