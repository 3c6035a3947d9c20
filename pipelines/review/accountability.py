"""Accountability (问责) in the review app: deadlines, notices before a stop, objections,
complaints as leads.

**Deadlines** are counted in Chinese working days (pipelines.workdays) with the accountability
settings of the latest audit imported (config/audit.yaml `accountability`, recorded by the
importer): a lead's decision is due `due_days` after the audit that first found it (or the
complaint was received, or the objection reopened it); a confirmation or a wrong-person
dismissal waits at most `approval_days` for a supervisor. A lead is overdue once a working day
has passed after its due date.

**Notice before any stop or reduction.** A confirmed and approved lead of a household on the
roll is not acted on until the household was told in writing: a caseworker or supervisor serves
the notice (告知书, pipelines.review.notice), which gives the household `response_days` working
days to object. The decided remove list (publish) takes the lead only after that period has
passed without an objection, or once the objection was decided: an objection reopens the lead
with a new due date, and its next approval decides it.

**Complaints** (群众举报: phone, online, letter) recorded by office staff against a household or
a person become leads with source `complaint`, the same deadline, decisions and audit log.

"Today" is the date in Asia/Shanghai; `DIBAO_TODAY` (YYYY-MM-DD) sets another, for demos and
tests that walk a lead through weeks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from pipelines.config import AccountabilityConfig
from pipelines.logs import mask_ids
from pipelines.review import audit
from pipelines.review.auth import Account
from pipelines.review.db import retry_busy
from pipelines.review.models import Complaint, Finding, Member, Run
from pipelines.workdays import WorkCalendar

log = logging.getLogger(__name__)
T = TypeVar("T")
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY_ENV = "DIBAO_TODAY"
COMPLAINT_CODE = "COMPLAINT"
CHANNELS = {"phone": "电话", "online": "网络", "letter": "来信"}
SOURCE_LABELS = {"audit": "数据比对", "complaint": "群众举报"}
#: statuses waiting for a caseworker's decision, and for a supervisor's approval
AWAITING_DECISION = ("open", "escalated")
AWAITING_APPROVAL = ("pending_approval", "pending_dismissal")


class AccountabilityError(Exception):
    """Not allowed (403) or malformed (400); the message is shown to the user."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def today() -> dt.date:
    """The office's date (Asia/Shanghai), or DIBAO_TODAY when set."""
    fixed = os.environ.get(TODAY_ENV, "").strip()
    if fixed:
        try:
            return dt.date.fromisoformat(fixed)
        except ValueError:
            raise AccountabilityError(f"{TODAY_ENV}={fixed!r} is not a date (YYYY-MM-DD)",
                                      500) from None
    return dt.datetime.now(SHANGHAI).date()


def settings(session: Session) -> AccountabilityConfig:
    """The accountability settings of the latest audit imported (the defaults before any)."""
    stored = session.scalar(select(Run.accountability).where(Run.accountability.is_not(None))
                            .order_by(Run.as_of.desc(), Run.id.desc()).limit(1))
    return AccountabilityConfig.model_validate(json.loads(stored)) if stored \
        else AccountabilityConfig()


def deadline_note(config: AccountabilityConfig) -> str:
    """The deadlines in words, with the periods configured."""
    special = "、".join([f"{k} {v} 个" for k, v in config.due_days_by_code.items()]
                       + [f"{k} {v} 个" for k, v in config.due_days_by_district.items()])
    return (f"期限按工作日计算（法定节假日不计，调休上班日计入）：线索自首次发现起 "
            f"{config.due_days} 个工作日内作出决定" + (f"（{special}）" if special else "")
            + f"；确认或排除后主管 {config.approval_days} 个工作日内审批；告知书送达后当事人 "
            f"{config.response_days} 个工作日内可提出异议。逾期线索列入主管的督办视图。")


def due_for(config: AccountabilityConfig, code: str, district: str | None,
            start: dt.date) -> str:
    """The due date (ISO) of a decision on a lead of `code` in `district` counted from `start`."""
    return _due(tuple(config.extra_holidays), tuple(config.extra_workdays), start,
                config.due_days_for(code, district))


@lru_cache(maxsize=4096)
def _due(holidays: tuple[dt.date, ...], workdays: tuple[dt.date, ...], start: dt.date,
         days: int) -> str:
    # an import dates tens of thousands of leads from one audit date and a few periods
    return WorkCalendar(holidays, workdays).add(start, days).isoformat()


def _last_workday(calendar: WorkCalendar, day: dt.date) -> dt.date:
    while not calendar.is_workday(day):
        day -= dt.timedelta(days=1)
    return day


def overdue_condition(calendar: WorkCalendar, on: dt.date) -> ColumnElement[bool]:
    """Leads overdue on `on`: a working day or more past the due date of their decision, or of
    their approval. (Due dates are ISO text, so they compare as dates.)"""
    cutoff = _last_workday(calendar, on).isoformat()  # overdue: due before the last working day
    return or_(and_(Finding.status.in_(AWAITING_DECISION), Finding.due_on < cutoff),
               and_(Finding.status.in_(AWAITING_APPROVAL), Finding.approval_due_on < cutoff))


@dataclass(frozen=True)
class Deadline:
    """What a lead waits for, until when, and how many working days are left (negative:
    overdue by that many)."""

    waiting_for: str  # 决定 | 审批 | 答复
    due: dt.date
    remaining: int

    @property
    def overdue(self) -> bool:
        return self.remaining < 0 and self.waiting_for != "答复"

    @property
    def words(self) -> str:
        if self.waiting_for == "答复":
            return (f"告知答复期至 {self.due.isoformat()}" if self.remaining >= 0
                    else f"答复期已过（{self.due.isoformat()}）")
        if self.remaining < 0:
            return f"{self.waiting_for}逾期 {-self.remaining} 个工作日"
        return f"{self.waiting_for}剩余 {self.remaining} 个工作日"


def deadline(finding: Finding, calendar: WorkCalendar, on: dt.date) -> Deadline | None:
    """The deadline a lead is under on `on` (None: decided, nothing due)."""
    if finding.status in AWAITING_DECISION and finding.due_on:
        due, kind = dt.date.fromisoformat(finding.due_on), "决定"
    elif finding.status in AWAITING_APPROVAL and finding.approval_due_on:
        due, kind = dt.date.fromisoformat(finding.approval_due_on), "审批"
    elif finding.status == "confirmed" and finding.respond_by and not finding.objection_on:
        due, kind = dt.date.fromisoformat(finding.respond_by), "答复"
    else:
        return None
    return Deadline(kind, due, calendar.remaining(due, on))


def needs_notice(finding: Finding) -> bool:
    """A confirmed lead that stops or reduces a household's allowance: every lead on a roll
    household except a proposal to add someone."""
    return bool(finding.household_id) and finding.finding_code != "ADD_CANDIDATE"


def effective_from(finding: Finding, calendar: WorkCalendar) -> str | None:
    """The first day (ISO) a confirmed lead may be acted on (the decided remove list): the
    first working day after the response period ended without an objection, or the day its
    objection was decided; the approval day for a lead that needs no notice; None while it may
    not be acted on."""
    if finding.status != "confirmed":
        return None
    if not needs_notice(finding):
        approved = finding.approved_at
        if approved is None:
            return None
        if approved.tzinfo is None:  # SQLite hands back naive UTC
            approved = approved.replace(tzinfo=dt.UTC)
        return approved.astimezone(SHANGHAI).date().isoformat()
    if finding.objection_on:
        return finding.objection_decided_on
    if finding.respond_by:
        return calendar.add(dt.date.fromisoformat(finding.respond_by), 1).isoformat()
    return None


def _household_findings(session: Session, who: Account, household_id: str) -> list[Finding]:
    """The household's leads `who` may act on: in their scope and not naming them (recusal:
    an account may not serve a notice or record an objection on its own relatives' leads)."""
    from pipelines.review.decisions import recused

    found = list(session.scalars(select(Finding).where(Finding.household_id == household_id)
                                 .order_by(Finding.finding_id)))
    visible = [f for f in found if who.sees(f)]
    if not visible:
        raise AccountabilityError("未找到该家庭的线索", 404)
    if any(recused(who, f) for f in visible):
        raise AccountabilityError("该家庭的线索涉及您本人（工作人员编号相同），您须回避", 403)
    return visible


def noticeable(findings: list[Finding]) -> list[Finding]:
    """Confirmed leads of a household still waiting for their notice."""
    return [f for f in findings if f.status == "confirmed" and needs_notice(f)
            and not f.notice_on and not f.objection_on]


def objectable(findings: list[Finding]) -> list[Finding]:
    """Confirmed leads of a household whose notice was served and not yet objected to."""
    return [f for f in findings if f.status == "confirmed" and f.notice_on
            and not f.objection_on]


def _changed(session: Session, finding: Finding, **values: object) -> None:
    """Update the lead only as it was read (its version), else a Conflict: someone else acted
    on it meanwhile."""
    result = session.execute(
        update(Finding).where(Finding.finding_id == finding.finding_id,
                              Finding.version == finding.version)
        .values(version=finding.version + 1, **values)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AccountabilityError("该家庭的线索刚刚已被其他人员处理，本次操作未保存，请刷新页面后重试。",
                                  409)


def _retrying(factory: sessionmaker[Session], action: Callable[[Session], T]) -> T:
    """`action` in one transaction, retried as `db.retry_busy` says."""
    def once() -> T:
        with factory.begin() as session:
            return action(session)

    return retry_busy(factory, once)


def serve_notice(factory: sessionmaker[Session], who: Account, household_id: str,
                 client: str | None = None) -> list[str]:
    """Record that the notice (告知书) was served today on the household for every confirmed
    lead still waiting for one; the finding_ids it covers."""
    if not who.can_decide:
        raise AccountabilityError("您的角色为只读，不能出具告知书", 403)

    def serve(session: Session) -> list[str]:
        config = settings(session)
        findings = noticeable(_household_findings(session, who, household_id))
        if not findings:
            raise AccountabilityError("该家庭没有待告知的已确认线索（须先确认并经主管审批）")
        served = today()
        respond_by = config.calendar().add(served, config.response_days).isoformat()
        for finding in findings:
            _changed(session, finding, notice_on=served.isoformat(), respond_by=respond_by)
            audit.decision(session, who, finding.finding_id, "notice", finding.status,
                 f"告知书送达，答复期至 {respond_by}", client)
        return [f.finding_id for f in findings]

    return _retrying(factory, serve)


def record_objection(factory: sessionmaker[Session], who: Account, household_id: str,
                     text: str, client: str | None = None) -> list[str]:
    """The household objected to its notice within its response period: every noticed lead is
    reopened with a new due date; the finding_ids reopened."""
    text = text.strip()[:2000]
    if not who.can_decide:
        raise AccountabilityError("您的角色为只读，不能记录异议", 403)
    if not text:
        raise AccountabilityError("请填写异议内容（当事人提出的理由）")

    def record(session: Session) -> list[str]:
        config = settings(session)
        findings = objectable(_household_findings(session, who, household_id))
        if not findings:
            raise AccountabilityError("该家庭没有已送达告知书、可提出异议的线索")
        on = today()
        late = [f for f in findings if (f.respond_by or "") < on.isoformat()]
        if late:
            raise AccountabilityError(
                f"答复期已于 {late[0].respond_by} 届满，不能再作为对告知书的异议记录；"
                "当事人的意见请作为群众举报登记，或按复核程序处理。")
        for finding in findings:
            _changed(session, finding, status="open", objection_on=on.isoformat(),
                     due_on=due_for(config, finding.finding_code, finding.district, on),
                     decided_by=None, decided_at=None, approved_by=None, approved_at=None,
                     approval_due_on=None)
            audit.decision(session, who, finding.finding_id, "object", "open",
                           f"当事人异议：{text}", client)
        return [f.finding_id for f in findings]

    return _retrying(factory, record)


def _complaint_id(request_id: str, recorded_by: str) -> str:
    """The lead's id: one per form sent (a form sent twice records one complaint)."""
    return "C" + hashlib.sha256(f"{recorded_by}\x1f{request_id}".encode()).hexdigest()[:16]


NOT_IN_SCOPE = ("在您负责的区域内未找到该户或该人；区域外或不在低保名册的人员，请由主管登记。")


def record_complaint(factory: sessionmaker[Session], who: Account, *, channel: str,
                     received_on: str, household_id: str = "", id_number: str = "",
                     name: str = "", content: str = "", during_publicity: bool = False,
                     request_id: str = "", client: str | None = None) -> str:
    """A complaint or tip against a household (household_id) or a person (name and ID number,
    a roll member or, recorded by a supervisor, not) as a lead; its finding_id.

    A caseworker records complaints about their own area only, and gets the same answer for a
    household elsewhere as for one that does not exist (the refusal is logged): the form does
    not tell them who is on the roll in other districts.
    """
    content, household_id = content.strip()[:2000], household_id.strip()[:64]
    id_number, name = id_number.strip().upper()[:32], name.strip()[:64]
    request_id = request_id.strip()[:64] or os.urandom(16).hex()
    if not who.can_decide:
        raise AccountabilityError("您的角色为只读，不能登记举报", 403)
    if channel not in CHANNELS:
        raise AccountabilityError("请选择举报渠道（电话、网络或来信）")
    try:
        received = dt.date.fromisoformat(received_on.strip())
    except ValueError:
        raise AccountabilityError("收到日期应写作 YYYY-MM-DD") from None
    if received > today():
        raise AccountabilityError("收到日期不能晚于今天")
    if not content:
        raise AccountabilityError("请填写举报内容")
    if not household_id and not (name and id_number):
        raise AccountabilityError("请填写被举报的户编号，或被举报人的姓名和身份证号")
    fid = _complaint_id(request_id, who.username)

    def record(session: Session) -> str:
        if session.get(Finding, fid) is not None:  # the same form again: recorded once
            return fid
        config = settings(session)
        members = list(session.scalars(select(Member).where(
            Member.household_id == household_id) if household_id else select(Member).where(
            Member.id_number == id_number)))
        head = next((m for m in members if m.relation in ("户主", "本人")),
                    members[0] if members else None)
        household = household_id or (head.household_id if head else None)
        known = session.scalars(select(Finding).where(Finding.household_id == household)
                                .order_by(Finding.finding_id)).first() if household else None
        if household_id and head is None and known is None:
            raise AccountabilityError(NOT_IN_SCOPE if who.role == "caseworker" else
                                      f"户编号 {household_id} 不在已导入的低保名册中；"
                                      "不在册人员请填写姓名和身份证号")
        place = ((head.district, head.street, head.community) if head else
                 (known.district, known.street, known.community) if known else (None, None, None))
        person = next((m for m in members if m.id_number == id_number), None) if id_number \
            else head
        amount = float(head.monthly_amount or 0) if head and household else 0.0
        finding = Finding(
            finding_id=fid, household_id=household,
            id_number=id_number or (person.id_number if person else None),
            name=name or (person.name if person else None), finding_code=COMPLAINT_CODE,
            severity="medium", score=1.0, dataset="complaints", record_id=fid,
            evidence=f"群众举报（{CHANNELS[channel]}，{received.isoformat()}"
            + ("，公示期内" if during_publicity else "") + f"）：{content}",
            amount_at_stake=amount, priority=round(2 * amount, 2), tier=None,
            evidence_record=None, district=place[0], street=place[1], community=place[2],
            first_as_of=received.isoformat(), last_as_of=received.isoformat(), status="open",
            version=1, source="complaint",
            due_on=due_for(config, COMPLAINT_CODE, place[0], received))
        if who.role == "caseworker" and (place[0] is None or not who.sees(finding)):
            raise _Refused((household or mask_ids(id_number)) if place[0] is not None else None)
        session.add(finding)
        session.flush()
        session.add(Complaint(finding_id=fid, channel=channel, received_on=received.isoformat(),
                              during_publicity=int(during_publicity), content=content,
                              recorded_by=who.username))
        audit.decision(session, who, finding.finding_id, "complaint", "open",
                       f"登记{CHANNELS[channel]}举报", client)
        return fid

    try:
        return _retrying(factory, record)
    except _Refused as refused:  # a household elsewhere: the refusal is logged
        if refused.target is not None:
            with factory.begin() as session:
                audit.record(session, who, "access_refused", refused.target[:64],
                             "complaint about a household outside the user's scope", client)
        raise AccountabilityError(NOT_IN_SCOPE) from None


class _Refused(Exception):
    def __init__(self, target: str | None):
        super().__init__(target)
        self.target = target
