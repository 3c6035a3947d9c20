"""Decisions on findings: who may do what in which state, with optimistic locking.

States: open -> pending_approval (a confirmation, waiting for a supervisor other than the
confirmer) -> confirmed; open -> pending_dismissal (a dismissal as the wrong person, which keeps
the match out of every later audit: waiting for a supervisor other than the one who dismissed)
-> dismissed_wrong_person; open -> dismissed_legitimate | dismissed_handled; open -> escalated
(then a supervisor confirms or dismisses). A supervisor may also send a pending confirmation or
dismissal back to open. Notes change nothing but are kept.

Recusal: an account that names its staff_id may take no decision on a lead that names that
staff member (a 关系保 or 人情保 lead about their own relatives or cases).

Every action appends a row to `decisions` and to the audit log, in the same transaction as
the status change. The status change is `UPDATE ... WHERE version = <the version the user
saw>`: a second person deciding the same finding at once updates no row and gets a conflict,
and nothing they typed is lost (the page shows it again).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipelines.review import accountability, audit
from pipelines.review.auth import Account
from pipelines.review.db import retry_busy
from pipelines.review.models import Decision, Finding, utcnow

DISMISS_REASONS = {
    "wrong_person": "dismissed_wrong_person",
    "legitimate": "dismissed_legitimate",
    "handled": "dismissed_handled",
}
STATUS_LABELS = {
    "open": "待处理", "pending_approval": "待主管审批", "confirmed": "已确认（已审批）",
    "pending_dismissal": "排除待主管审批（非同一人）",
    "escalated": "已上报", "dismissed_wrong_person": "排除：非同一人",
    "dismissed_legitimate": "排除：情况属实但合规", "dismissed_handled": "排除：已处理",
}
ACTION_LABELS = {"confirm": "确认（提请审批）", "approve": "审批通过", "reject": "退回",
                 "dismiss": "排除", "escalate": "上报", "note": "备注"}
ACTIONS = tuple(ACTION_LABELS)
#: actions recorded by pipelines.review.accountability (not offered on a lead's card)
ACTION_LABELS.update({"notice": "出具告知书", "object": "记录异议", "complaint": "登记举报"})
log = logging.getLogger(__name__)


class DecisionError(Exception):
    """Not allowed (HTTP 403) or malformed (400); the message is shown to the user."""

    def __init__(self, message: str, status: int = 403, out_of_scope: bool = False):
        super().__init__(message)
        self.status = status
        self.out_of_scope = out_of_scope  # the finding exists but is not the user's to see


class Conflict(Exception):
    """Someone else changed the finding since the user loaded it (HTTP 409)."""


@dataclass(frozen=True)
class Outcome:
    finding_id: str
    action: str
    status: str
    version: int
    repeated: bool = False  # the same request_id was already recorded
    household_id: str | None = None


PENDING = {"pending_approval": "confirmed", "pending_dismissal": "dismissed_wrong_person"}


def named_staff(finding: Finding) -> set[str]:
    """The staff members a lead names: its evidence record's staff_id (a declared relative,
    an approver's declaration), or the staff record itself."""
    try:
        record = json.loads(finding.evidence_record or "{}")
    except ValueError:
        record = {}
    named = {str(record["staff_id"])} if isinstance(record, dict) and record.get("staff_id") \
        else set()
    if finding.dataset == "staff" and finding.record_id:
        named.add(finding.record_id)
    return named


def recused(who: Account, finding: Finding) -> bool:
    return bool(who.staff_id) and who.staff_id in named_staff(finding)


def allowed_actions(who: Account, finding: Finding) -> list[str]:
    """Actions `who` may take on `finding` in its current state."""
    if not who.can_decide or not who.sees(finding) or recused(who, finding):
        return []
    actions = ["note"]
    if finding.status == "open":
        actions = ["confirm", "dismiss", "escalate", "note"]
    elif finding.status == "escalated" and who.can_approve:
        actions = ["confirm", "dismiss", "note"]
    elif (finding.status in PENDING and who.can_approve
          and finding.decided_by != who.username):
        actions = ["approve", "reject", "note"]
    return actions


def decide(factory: sessionmaker[Session], who: Account, finding_id: str, action: str,
           version: int, reason_code: str = "", note: str = "", client: str | None = None,
           request_id: str | None = None) -> Outcome:
    """Apply `action` to the finding as `who`, who saw it at `version`.

    On SQLite a writer that lost the race for the file lock (its snapshot went stale) is
    retried; the retry then sees the new version and reports the conflict.
    """
    return retry_busy(factory, lambda: _decide(
        factory, who, finding_id, action, version, reason_code, note, client, request_id))


def _decide(factory: sessionmaker[Session], who: Account, finding_id: str, action: str,
            version: int, reason_code: str, note: str, client: str | None,
            request_id: str | None) -> Outcome:
    note = note.strip()[:2000]
    request_id = request_id or None
    if request_id is not None and len(request_id) > 64:
        raise DecisionError("请求编号无效，本次操作未保存，请刷新页面后重试。", 400)
    try:
        with factory.begin() as session:
            finding = session.get(Finding, finding_id)
            if finding is None or not who.sees(finding):
                raise DecisionError("未找到该线索", 404, out_of_scope=finding is not None)
            if request_id:
                done = session.scalar(select(Decision).where(Decision.request_id == request_id))
                if done is not None and (done.finding_id != finding_id
                                         or done.username != who.username):
                    # a form's request id sent with another finding, or by another user:
                    # nothing is recorded, so "saved" would be untrue
                    raise DecisionError("请求编号已用于另一条线索，本次操作未保存，请刷新页面后重试。",
                                        400)
                if done is not None:  # the same form sent twice: the first one counts
                    return Outcome(finding_id, done.action, done.status_after, version, True,
                                   finding.household_id)
            if not who.can_decide:
                raise DecisionError("您的角色为只读，不能作出决定或添加备注")
            if recused(who, finding):
                raise DecisionError("该线索涉及您本人（工作人员编号相同），您须回避，不能处理或备注")
            if action not in ACTIONS:
                raise DecisionError("未知的操作", 400)
            if action == "note":
                if not note:
                    raise DecisionError("备注内容不能为空", 400)
                if not who.can_decide:
                    raise DecisionError("您的角色不能添加备注")
                return _append(session, who, finding, action, finding.status, note, client,
                               request_id, finding.version)
            if finding.version != version:
                raise Conflict()
            if action not in allowed_actions(who, finding):
                if action == "approve" and finding.decided_by == who.username:
                    raise DecisionError("不能审批自己提出的确认或排除（需另一名主管审批）")
                raise DecisionError("当前状态或您的角色不允许此操作")
            now = utcnow()
            values: dict[str, object]
            config = accountability.settings(session)
            approval_due = config.calendar().add(accountability.today(),
                                                 config.approval_days).isoformat()
            if action == "confirm":
                status = "pending_approval"
                values = {"decided_by": who.username, "decided_at": now, "reason": note,
                          "approved_by": None, "approved_at": None,
                          "approval_due_on": approval_due}
            elif action == "approve":
                status = PENDING[finding.status]
                values = {"approved_by": who.username, "approved_at": now}
                if finding.objection_on and status == "confirmed":  # the objection decided
                    values["objection_decided_on"] = accountability.today().isoformat()
            elif action == "reject":
                status = "open"
                values = {"decided_by": None, "decided_at": None, "reason": None,
                          "approved_by": None, "approved_at": None, "approval_due_on": None}
            elif action == "dismiss":
                if reason_code not in DISMISS_REASONS:
                    raise DecisionError("请选择排除原因", 400)
                # wrong person: the match is never reported again, so a second pair of eyes
                status = "pending_dismissal" if reason_code == "wrong_person" \
                    else DISMISS_REASONS[reason_code]
                values = {"decided_by": who.username, "decided_at": now, "reason": note,
                          "approved_by": None, "approved_at": None,
                          "approval_due_on": approval_due if status in PENDING else None}
            else:  # escalate
                status = "escalated"
                values = {"decided_by": who.username, "decided_at": now, "reason": note,
                          "approved_by": None, "approved_at": None}
            changed = session.execute(
                update(Finding)
                .where(Finding.finding_id == finding_id, Finding.version == version)
                .values(status=status, version=version + 1, **values)
                .execution_options(synchronize_session=False))
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise Conflict()
            text = note  # the reason itself is the new status (status_after)
            return _append(session, who, finding, action, status, text, client, request_id,
                           version + 1)
    except IntegrityError:
        # The same request_id recorded concurrently: the first one counts.
        raise Conflict() from None


def _append(session: Session, who: Account, finding: Finding, action: str, status: str,
            text: str, client: str | None, request_id: str | None, version: int) -> Outcome:
    audit.decision(session, who, finding.finding_id, action, status, text, client, request_id)
    return Outcome(finding.finding_id, action, status, version,
                   household_id=finding.household_id)
