"""Rewrite a roll CSV as a street office's workbook: one sheet per street under title rows,
a 小计 row per sheet, notes under the last table, an instructions sheet first and a summary
sheet last. Used to check that the audit finds the same in both (tests/test_office_roll.py,
benchmarks/office_roll.py).

Rows keep their order (a street whose rows come in two runs gets a second sheet, 街道（续2）),
their text as written, and household size and amount become number cells where they read as
numbers, as an office's workbook has them.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import openpyxl
from openpyxl.styles import Font

from pipelines.io.readers import detect_encoding

STREET_HEADERS = ("街道", "街道(乡镇)", "乡镇(街道)", "street")
NUMBER_HEADERS = ("家庭人口", "家庭人数", "household_size", "月保障金额(元)", "月保障金",
                  "保障金额", "monthly_amount")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _runs(rows: list[list[str]], street: int) -> Iterator[tuple[str, list[list[str]]]]:
    """Consecutive rows of one street (a blank street stays with the rows around it)."""
    name, run = "", []
    for row in rows:
        value = row[street].strip() if street < len(row) else ""
        if value and value != name and run:
            yield name, run
            run = []
        if value:
            name = value
        run.append(row)
    if run:
        yield name, run


def _sheet_name(street: str, used: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "", street or "未填街道")[:28]
    name, n = base, 1
    while name in used:
        n += 1
        name = f"{base}（续{n}）"[:31]
    used.add(name)
    return name


def office_workbook(roll_csv: Path, target: Path, title: str = "城乡低保对象花名册") -> int:
    """Write `target` from `roll_csv`; the number of street sheets."""
    data = roll_csv.read_bytes()
    text = data.decode(detect_encoding(data, roll_csv))
    records = list(csv.reader(text.splitlines()))
    header, rows = records[0], [r for r in records[1:] if r]
    street = next(i for i, h in enumerate(header) if h in STREET_HEADERS)
    numeric = {i for i, h in enumerate(header) if h in NUMBER_HEADERS}
    book = openpyxl.Workbook()
    cover = book.active
    assert cover is not None
    cover.title = "填表说明"
    cover.append(["填表说明"])
    cover.append(["1. 每个街道一个工作表，表头不得改动。"])
    cover.append(["2. 身份证号请以文本格式填写。"])
    used: set[str] = {"填表说明", "汇总"}
    totals: list[tuple[str, int, float]] = []
    width = len(header)
    last_col = openpyxl.utils.get_column_letter(width)
    sheets = 0
    for name, run in _runs(rows, street):
        sheet = book.create_sheet(_sheet_name(name, used))
        sheets += 1
        sheet.append([f"{name}{title}"])
        sheet.merge_cells(f"A1:{last_col}1")
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append(["填报单位：" + (name or "") + "办事处", *[None] * 5, "填报日期：2026年10月31日"])
        sheet.append(header)
        amount = 0.0
        for row in run:
            cells: list[object] = []
            for i, value in enumerate(row):
                if i in numeric and _NUMBER.fullmatch(value.strip()):
                    number = float(value)
                    cells.append(int(number) if number.is_integer() else number)
                    if header[i] in ("月保障金额(元)", "月保障金", "保障金额", "monthly_amount"):
                        amount += number
                else:
                    cells.append(value if value != "" else None)
            sheet.append(cells)
        sheet.append(["小计", f"{len(run)}人", *[None] * (width - 3), round(amount, 2)])
        totals.append((sheet.title, len(run), amount))
    last = book.worksheets[-1]
    last.append([])
    last.append(["制表人：周敏        审核人：吴刚        填报日期：2026年10月31日"])
    summary = book.create_sheet("汇总")
    summary.append(["街道", "人数", "月保障金额(元)"])
    for name, people, amount in totals:
        summary.append([name, people, round(amount, 2)])
    book.save(target)
    return sheets
