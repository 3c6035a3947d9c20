"""The work queue: filters, priority order, counts, and the XLSX export of a filtered queue."""

from __future__ import annotations

import io
from dataclasses import dataclass, fields, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from pipelines import labels
from pipelines.config import AccountabilityConfig
from pipelines.logs import mask_ids
from pipelines.review import accountability
from pipelines.review.auth import Account
from pipelines.review.decisions import STATUS_LABELS
from pipelines.review.models import Finding
from pipelines.rules import codes
from pipelines.rules.policy import TIER_LABELS

CODE_LABELS = {**codes.labels(), accountability.COMPLAINT_CODE: "群众举报"}
SEVERITY_LABELS = {**labels.SEVERITY_LABELS, "": "—"}
PAGE_SIZE = 50


@dataclass(frozen=True)
class Filters:
    district: str = ""
    street: str = ""
    community: str = ""
    code: str = ""
    severity: str = ""
    status: str = ""
    tier: str = ""
    source: str = ""  # audit | complaint (群众举报)
    due: str = ""  # overdue: only leads past their deadline
    sort: str = ""  # "" priority first; "tier": match tier first (确认, 疑似, 待核实), then priority

    @classmethod
    def from_params(cls, params: Any) -> Filters:
        return cls(**{f.name: str(params.get(f.name) or "").strip()[:64] for f in fields(cls)})

    def conditions(self, who: Account, session: Session,
                   config: AccountabilityConfig | None = None) -> list[ColumnElement[bool]]:
        where = [who.scope()]
        for name, column in (("district", Finding.district), ("street", Finding.street),
                             ("community", Finding.community), ("code", Finding.finding_code),
                             ("severity", Finding.severity), ("status", Finding.status),
                             ("tier", Finding.tier), ("source", Finding.source)):
            value = getattr(self, name)
            if value:
                where.append(column == value)
        if self.due == "overdue":
            config = config or accountability.settings(session)
            where.append(accountability.overdue_condition(config.calendar(),
                                                          accountability.today()))
        return where

    def described(self) -> str:
        """The filters as a person reads them in the audit log (district=江岸区, ...)."""
        return ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                         if getattr(self, f.name))

    def query_string(self) -> str:
        from urllib.parse import urlencode

        return urlencode({f.name: getattr(self, f.name) for f in fields(self)
                          if getattr(self, f.name)})


SORTS = {"": "优先级", "tier": "匹配等级"}
_TIER_ORDER = case({name: rank for rank, name in enumerate(TIER_LABELS)}, value=Finding.tier,
                   else_=len(TIER_LABELS))


def listing(who: Account, filters: Filters, session: Session,
            config: AccountabilityConfig | None = None) -> Select[Finding]:
    first = (_TIER_ORDER,) if filters.sort == "tier" else ()
    return select(Finding).where(*filters.conditions(who, session, config)).order_by(
        *first, Finding.priority.desc(), Finding.finding_id)


def page(session: Session, who: Account, filters: Filters, number: int) -> dict[str, Any]:
    """One page of the queue with its counts (total, per status and per code)."""
    config = accountability.settings(session)  # once per page
    where = filters.conditions(who, session, config)
    total = session.scalar(select(func.count()).select_from(Finding).where(*where)) or 0
    by_status = dict(session.execute(select(Finding.status, func.count()).where(*where)
                                     .group_by(Finding.status)).tuples().all())
    by_code = dict(session.execute(select(Finding.finding_code, func.count()).where(*where)
                                   .group_by(Finding.finding_code)).tuples().all())
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number), pages)
    rows = session.scalars(listing(who, filters, session, config).limit(PAGE_SIZE)
                           .offset((number - 1) * PAGE_SIZE)).all()
    calendar, today = config.calendar(), accountability.today()
    deadlines = {f.finding_id: accountability.deadline(f, calendar, today) for f in rows}
    overdue = session.scalar(select(func.count()).select_from(Finding).where(
        who.scope(), accountability.overdue_condition(calendar, today))) or 0
    return {"rows": rows, "total": total, "by_status": by_status, "by_code": by_code,
            "page": number, "pages": pages, "deadlines": deadlines, "overdue": overdue,
            "today": today, "deadline_note": accountability.deadline_note(config)}


def options(session: Session, who: Account, filters: Filters | None = None
            ) -> dict[str, list[str]]:
    """Values offered in the filter drop-downs (within what `who` may see): streets of the
    chosen district only, communities of the chosen district and street only."""
    filters = filters or Filters()

    def distinct(column: Any, *where: ColumnElement[bool]) -> list[str]:
        return [v for v in session.scalars(select(column).where(who.scope(), *where)
                                           .distinct().order_by(column)) if v]

    district = [Finding.district == filters.district] if filters.district else []
    street = [Finding.street == filters.street] if filters.street else []
    return {"district": distinct(Finding.district),
            "street": distinct(Finding.street, *district),
            "community": distinct(Finding.community, *district, *street)}


def narrowed(session: Session, who: Account, filters: Filters
             ) -> tuple[Filters, dict[str, list[str]]]:
    """The filters without a street or community outside the chosen district (and street),
    e.g. after the district changed, and the drop-down options for them."""
    offered = options(session, who, filters)
    if filters.street and filters.street not in offered["street"]:
        filters = replace(filters, street="", community="")
        offered = options(session, who, filters)
    if filters.community and filters.community not in offered["community"]:
        filters = replace(filters, community="")
    return filters, offered


XLSX_COLUMNS = (("优先级", "priority"), ("线索编号", "finding_id"), ("户编号", "household_id"),
                ("姓名", "name"), ("身份证号（已遮蔽）", "id_number"), ("线索类型", "finding_code"),
                ("严重程度", "severity"), ("匹配等级", "tier"), ("匹配分", "score"),
                ("涉及金额(元/月)", "amount_at_stake"),
                ("证据来源", "dataset"), ("证据记录号", "record_id"), ("证据说明", "evidence"),
                ("区", "district"), ("街道", "street"), ("社区", "community"),
                ("状态", "status"), ("首次发现", "first_as_of"), ("最近发现", "last_as_of"),
                ("来源", "source"), ("决定截止日期", "due_on"))


def xlsx(session: Session, who: Account, filters: Filters) -> tuple[bytes, int]:
    """The filtered queue as an XLSX workbook (ID numbers masked); bytes and row count."""
    from openpyxl import Workbook

    from pipelines.io.inert import row_cells

    book = Workbook(write_only=True)
    sheet = book.create_sheet("线索")
    sheet.append([label for label, _ in XLSX_COLUMNS])
    count = 0
    for finding in session.scalars(listing(who, filters, session)):
        row: list[object] = []
        for _, name in XLSX_COLUMNS:
            value = getattr(finding, name)
            if name == "id_number":
                value = mask_ids(value or "")
            elif name == "finding_code":
                value = CODE_LABELS.get(value, value)
            elif name == "severity":
                value = SEVERITY_LABELS.get(value or "", value)
            elif name == "status":
                value = STATUS_LABELS.get(value, value)
            elif name == "source":
                value = accountability.SOURCE_LABELS.get(value or "audit", value)
            elif name == "tier":
                value = TIER_LABELS.get(value or "", "—")
            elif name == "score":  # as the pages show it: rounded down to four decimals
                value = float(labels.match_score(value)) if value is not None else None
            row.append(value)
        sheet.append(row_cells(sheet, row))
        count += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), count
