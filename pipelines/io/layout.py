"""Find the table inside an office export: the header row(s) under a title, and the rows that
are not records (blank rows, 合计 totals, notes such as 制表人：, a header repeated on every
printed page).

Departments rarely send a bare table. A 花名册 exported from Excel or WPS typically looks like:

    〇〇区城乡低保对象花名册                      <- title (merged across the table)
    填报单位：〇〇街道办事处      填报日期：…       <- more title
    序号 | 户编号 | 家庭成员信息          | 月保障金额(元)   <- header, with a group heading
         |        | 姓名 | 身份证号 | 关系 |                <- ... over a second header row
    1    | H001   | 张伟 | 4201…    | 户主 | 1200
    ...
    合计 |        |      |          |      | 35600          <- total
    制表人：…   审核人：…                                  <- notes

The header is the row (or pair of rows) whose cells name the most distinct columns of the
dataset; everything above it is title. The functions here work on rows of cell text, so CSV and
workbook readers share them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: How many rows from the top of a sheet or file are searched for the header.
HEADER_SCAN_ROWS = 30

#: A function naming the dataset column a header cell stands for (None: not a known header).
Canonical = Callable[[str], str | None]

Cells = Sequence[str | None]

# The first filled cell of a total row: 合计, 总计, 小计, 共计 (spaces removed), alone or followed
# by a colon, a bracket or a figure (合计：35户, 合计(元), 共计12人).
_TOTAL = re.compile(r"(合计|总计|小计|共计|总合计|累计)(?:[:：（(].*|\d.*)?")
# The first filled cell of a note under the table: a label and a colon (制表人：王某).
_NOTE = re.compile(
    r"(制表人|制表|填表人|填表|填报人|填报单位|填报日期|制表日期|填表日期|制表时间|填报时间|"
    r"审核人|审核|审批人|复核人|负责人|单位负责人|分管领导|主要领导|联系人|联系电话|备注|说明|"
    r"注|注意|盖章|单位盖章|单位（盖章）|单位\(盖章\))[:：].*")

# first characters a total row's first cell may start with (before folding: full width too)
_MAYBE = frozenset("合总小共累 \u3000\t")

REASON_TOTAL = "total row (合计/总计/小计), not a record"
REASON_NOTE = "note below the table (制表人/审核人/填报日期...), not a record"
REASON_HEADER = "the header row repeated (a printed page's heading), not a record"


@dataclass(frozen=True)
class HeaderSpan:
    """Where the header is: rows `first`..`last` (0-based, inclusive) and the column labels.

    With two header rows, each column's label is the lower row's cell, or where that is empty
    the upper row's (a vertically merged cell such as 户编号 sits in the upper row only).
    """

    first: int
    last: int
    labels: list[str]
    matched: int  # distinct dataset columns the labels name

    @property
    def rows(self) -> int:
        return self.last - self.first + 1

    @property
    def labels_first(self) -> str:
        """The first filled label (a repeated header row starts with it)."""
        return next((label for label in self.labels if label), "")


def _text(cell: object) -> str:
    return "" if cell is None else str(cell).strip()


def _combine(upper: Cells, lower: Cells) -> list[str]:
    width = max(len(upper), len(lower))
    padded_upper = [*upper, *[None] * (width - len(upper))]
    padded_lower = [*lower, *[None] * (width - len(lower))]
    return [_text(b) or _text(a) for a, b in zip(padded_upper, padded_lower, strict=True)]


def _score(labels: Sequence[str], canonical: Canonical) -> int:
    return len({c for c in (canonical(label) for label in labels if label) if c is not None})


def find_header(rows: Sequence[Cells], canonical: Canonical) -> HeaderSpan | None:
    """The header among the first rows: the row, or pair of rows, naming the most columns.

    Two adjacent rows form one header when each names at least one column and together they
    name no fewer than either alone (a group heading over 姓名/身份证号, with 户编号 in the upper
    row). Among equals the span starting earlier wins. None when no row holds anything (an
    empty sheet). When no cell names a known column, the first non-blank row is taken, so the
    caller can say which headers it found.
    """
    scan = list(rows[:HEADER_SCAN_ROWS])
    labels = [[_text(c) for c in row] for row in scan]
    singles = [_score(row, canonical) for row in labels]
    best: HeaderSpan | None = None
    for index, score in enumerate(singles):
        if score and (best is None or score > best.matched):
            best = HeaderSpan(index, index, labels[index], score)
        if index + 1 < len(scan) and score and singles[index + 1]:
            pair_labels = _combine(scan[index], scan[index + 1])
            pair = _score(pair_labels, canonical)
            if pair >= max(score, singles[index + 1]) and (best is None or pair > best.matched
                                                            or best.first > index):
                best = HeaderSpan(index, index + 1, pair_labels, pair)
    if best is not None:
        return best
    first_filled = next((i for i, row in enumerate(labels) if any(row)), None)
    if first_filled is None:
        return None
    return HeaderSpan(first_filled, first_filled, labels[first_filled], 0)


def fold(cell: str) -> str:
    """A cell as compared with the patterns: NFKC, no white space (合 计 is 合计)."""
    return "".join(unicodedata.normalize("NFKC", cell).split())


def row_reason(cells: Cells, header: HeaderSpan, canonical: Canonical) -> str | None:
    """Why a row below the header is not a record (total, note, repeated header), else None.

    Blank rows are the caller's to count: they hold nothing to quarantine.
    """
    raw = next((text for text in (_text(c) for c in cells) if text), "")
    # most rows are people: only a first cell that could match is folded and checked
    if raw[:1] not in _MAYBE and ":" not in raw and "：" not in raw \
            and raw != header.labels_first and canonical(raw) is None:
        return None
    return first_cell_reason(fold(raw), cells, header, canonical)


def first_cell_reason(first: str, cells: Cells, header: HeaderSpan,
                      canonical: Canonical) -> str | None:
    """`row_reason` given the row's first filled cell already folded."""
    if _TOTAL.fullmatch(first):
        return REASON_TOTAL
    if _NOTE.fullmatch(first):
        return REASON_NOTE
    # a printed page's heading: starts like the header (its first label, 序号 say, need not be
    # a dataset column) and names at least half of the header's columns
    if header.matched >= 2 and (first == fold(header.labels_first)
                                or canonical(first) is not None):
        labels = [_text(c) for c in cells]
        if _score(labels, canonical) * 2 >= header.matched + 1:
            return REASON_HEADER
    return None


def total_pattern() -> str:
    """The total-row pattern as a regular expression for vectorised engines (Arrow)."""
    return f"^(?:{_TOTAL.pattern})$"


def note_pattern() -> str:
    """The note-row pattern as a regular expression for vectorised engines (Arrow)."""
    return f"^(?:{_NOTE.pattern})$"
