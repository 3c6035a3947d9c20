"""The append-only audit log: who did or saw what, when, from where; and its search."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, insert, select
from sqlalchemy.orm import Session

from pipelines.review.auth import Account
from pipelines.review.models import AuditEntry, Decision, utcnow

ACTIONS = {
    "login": "登录", "login_failed": "登录失败", "login_blocked": "登录被暂停", "logout": "退出",
    "view_household": "查看家庭信息", "view_person": "查看个人信息", "view_queue": "查看线索列表",
    "export_queue": "导出线索列表", "decision": "作出决定", "decision_conflict": "决定冲突",
    "view_audit_log": "查询审计日志", "access_refused": "越权访问被拒绝", "import": "导入审计结果",
    "view_notice": "查看告知书", "view_oversight": "查看督办统计", "export_report": "导出督办报告",
    "user_password": "重设密码", "user_staff_id": "设置工作人员编号", "user_deactivate": "停用账号", "user_list": "查看账号列表",
}


def record(session: Session, who: Account | str, action: str, target: str | None = None,
           detail: str | None = None, client: str | None = None) -> None:
    """Append one entry (in the caller's transaction). There is no update or delete."""
    username, role = (who.username, who.role) if isinstance(who, Account) else (who, None)
    session.execute(insert(AuditEntry).values(
        at=utcnow(), username=_fit("username", username), role=role, action=action,
        target=_fit("target", target), detail=detail, client_addr=_fit("client_addr", client)))


def decision(session: Session, who: Account, finding_id: str, action: str, status: str,
             text: str, client: str | None, request_id: str | None = None) -> None:
    """Append an action on a lead to `decisions` and to the audit log (in the caller's
    transaction): every decision, notice, objection and complaint goes through here."""
    session.execute(insert(Decision).values(
        finding_id=finding_id, action=action, status_after=status, reason=text or None,
        username=who.username, at=utcnow(), client_addr=client, request_id=request_id))
    record(session, who, "decision", finding_id,
           f"{action} -> {status}" + (f" ({text[:200]})" if text else ""), client)


def _fit(column: str, value: str | None) -> str | None:
    """`value` cut to the column's length (PostgreSQL refuses longer values; SQLite would keep
    them): a long filter or address never turns a request into an error."""
    length = getattr(AuditEntry.__table__.c[column].type, "length", None)
    if value is None or length is None or len(value) <= length:
        return value
    return value[:length - 1] + "…"


@dataclass(frozen=True)
class Search:
    username: str = ""
    action: str = ""
    target: str = ""
    since: str = ""
    until: str = ""

    def query(self) -> Select[AuditEntry]:
        stmt = select(AuditEntry)
        if self.username:
            stmt = stmt.where(AuditEntry.username == self.username)
        if self.action:
            stmt = stmt.where(AuditEntry.action == self.action)
        if self.target:
            stmt = stmt.where(AuditEntry.target.contains(self.target, autoescape=True))
        if self.since:
            stmt = stmt.where(AuditEntry.at >= _day(self.since))
        if self.until:
            stmt = stmt.where(AuditEntry.at < _day(self.until) + dt.timedelta(days=1))
        return stmt.order_by(AuditEntry.id.desc())


def _day(value: str) -> dt.datetime:
    """Start of a calendar day in Asia/Shanghai (UTC+8), as a UTC instant."""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        day = dt.date(1970, 1, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - dt.timedelta(hours=8)
