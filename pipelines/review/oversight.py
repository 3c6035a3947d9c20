"""Oversight (督办): how the office is doing with its leads, for supervisors and auditors.

Counted from the review database, optionally for one district and for the leads first found
(or received) in one month:
- leads found, confirmed, dismissed and still open (open, escalated, waiting for approval) per
  finding code, per district and per month;
- each code's confirmation rate: the share of its decided leads (confirmed or dismissed) that
  were confirmed; a code with at least `min_decided` decided leads and a rate under
  `confirmation_floor` is flagged for a review of its rule (UK NFI reports outcomes per match
  type the same way);
- the median working days from a lead's start (the audit that found it, the complaint's day) to
  its decision, per street and per caseworker;
- leads overdue today, and complaints (群众举报) per month and channel;
- the disparity check: leads and confirmations per district, age band, sex and category against
  the roll's make-up (review/roll_profile.parquet of the latest audit; for one district, that
  district's make-up). Age band and sex are counted over person-level leads only (a
  household-level lead has no age or sex of its own). A group whose share of the leads is more
  than `disparity_multiple` times its share of the roll while its leads are confirmed less
  often than the other groups' is named (the SyRI lesson: flags must not fall on a group
  because of who they are).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipelines import labels
from pipelines.config import AccountabilityConfig
from pipelines.review import accountability
from pipelines.review.auth import Account
from pipelines.review.models import Complaint, Finding, Member, RollProfile
from pipelines.rules import codes

CONFIRMED = ("confirmed",)
DISMISSED = ("dismissed_wrong_person", "dismissed_legitimate", "dismissed_handled")
DIMENSIONS = {"district": "区", "age_band": "年龄段", "sex": "性别", "category": "保障类别"}
PERSONAL = ("age_band", "sex")  # counted over person-level leads only


@dataclass
class Tally:
    """Leads of one group: found, confirmed, dismissed, open, overdue."""

    found: int = 0
    confirmed: int = 0
    dismissed: int = 0
    overdue: int = 0

    @property
    def open(self) -> int:
        return self.found - self.confirmed - self.dismissed

    @property
    def decided(self) -> int:
        return self.confirmed + self.dismissed

    @property
    def rate(self) -> float | None:
        """The share of decided leads confirmed (None: none decided)."""
        return self.confirmed / self.decided if self.decided else None


@dataclass(frozen=True)
class Disparity:
    dimension: str
    group: str
    roll_share: float
    lead_share: float
    leads: int
    rate: float | None
    rest_rate: float | None
    flagged: bool


@dataclass
class Oversight:
    district: str
    month: str
    today: dt.date
    by_code: dict[str, Tally] = field(default_factory=dict)
    by_district: dict[str, Tally] = field(default_factory=dict)
    by_month: dict[str, Tally] = field(default_factory=dict)
    flagged_codes: list[str] = field(default_factory=list)
    days_by_street: list[tuple[str, int, float]] = field(default_factory=list)
    days_by_caseworker: list[tuple[str, int, float]] = field(default_factory=list)
    complaints: dict[str, Counter[str]] = field(default_factory=dict)
    overdue: list[Finding] = field(default_factory=list)
    disparity: list[Disparity] = field(default_factory=list)
    total: Tally = field(default_factory=Tally)

    @property
    def flagged_groups(self) -> list[Disparity]:
        return [d for d in self.disparity if d.flagged]


def _median(values: list[int]) -> float:
    return float(statistics.median(values))


def _decided_on(finding: Finding) -> dt.date | None:
    at = finding.approved_at if finding.status in CONFIRMED else finding.decided_at
    at = at or finding.decided_at
    if at is None:
        return None
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(accountability.SHANGHAI).date()


def _person_groups(finding: Finding, members: dict[str, Member], on: dt.date) -> dict[str, str]:
    member = members.get(finding.id_number or "")
    return {"district": finding.district or labels.UNKNOWN,
            "age_band": labels.age_band(finding.id_number, on),
            "sex": labels.sex_of(finding.id_number),
            "category": (member.category if member and member.category else labels.UNKNOWN)}


def compute(session: Session, who: Account, config: AccountabilityConfig, *,
            district: str = "", month: str = "", today: dt.date | None = None) -> Oversight:
    """The oversight figures of the leads `who` may see (see the module docstring)."""
    today = today or accountability.today()
    calendar = config.calendar()
    where = [who.scope()]
    if district:
        where.append(Finding.district == district)
    if month:
        where.append(Finding.first_as_of.like(f"{month}-%"))
    findings = list(session.scalars(select(Finding).where(*where)
                                    .order_by(Finding.finding_id)))
    result = Oversight(district, month, today)
    days_street: dict[str, list[int]] = defaultdict(list)
    days_worker: dict[str, list[int]] = defaultdict(list)
    for f in findings:
        groups = (result.by_code.setdefault(f.finding_code, Tally()),
                  result.by_district.setdefault(f.district or labels.UNKNOWN, Tally()),
                  result.by_month.setdefault(f.first_as_of[:7], Tally()), result.total)
        deadline = accountability.deadline(f, calendar, today)
        late = deadline is not None and deadline.overdue
        for tally in groups:
            tally.found += 1
            tally.confirmed += f.status in CONFIRMED
            tally.dismissed += f.status in DISMISSED
            tally.overdue += late
        if late:
            result.overdue.append(f)
        decided = _decided_on(f) if f.status in CONFIRMED + DISMISSED else None
        if decided is not None:
            start = dt.date.fromisoformat(f.objection_on or f.first_as_of)
            days = max(0, calendar.between(start, decided))
            days_street[f"{f.district or ''} {f.street or ''}".strip()].append(days)
            if f.decided_by:
                days_worker[f.decided_by].append(days)
    result.flagged_codes = sorted(
        code for code, t in result.by_code.items()
        if t.decided >= config.min_decided and (t.rate or 0) < config.confirmation_floor)
    result.days_by_street = sorted((k, len(v), _median(v)) for k, v in days_street.items())
    result.days_by_caseworker = sorted((k, len(v), _median(v)) for k, v in days_worker.items())
    result.overdue.sort(key=lambda f: (f.due_on or "", f.finding_id))
    place = [who.scope()] + ([Finding.district == district] if district else [])
    complaints = select(Complaint.received_on, Complaint.channel).join(
        Finding, Finding.finding_id == Complaint.finding_id).where(*place)
    if month:
        complaints = complaints.where(Complaint.received_on.like(f"{month}-%"))
    for received, channel in session.execute(complaints):
        result.complaints.setdefault(received[:7], Counter())[channel] += 1
    result.disparity = _disparity(session, findings, config, today, district)
    return result


def _disparity(session: Session, findings: list[Finding], config: AccountabilityConfig,
               today: dt.date, district: str) -> list[Disparity]:
    latest = session.scalar(select(func.max(RollProfile.as_of)))
    if latest is None:
        return []
    profile: dict[str, Counter[str]] = defaultdict(Counter)
    rows = select(RollProfile.dimension, RollProfile.grp, RollProfile.members).where(
        RollProfile.as_of == latest)
    if district:  # the district's own make-up
        rows = rows.where(RollProfile.district == district)
    for dimension, group, count in session.execute(rows):
        profile[dimension][group] += count
    leads = [f for f in findings if f.source == "audit" and f.finding_code != "ADD_CANDIDATE"]
    # a household-level lead names the household, not a person: it has a district and a
    # category, but no age or sex of its own to set against the roll's members
    household_level = codes.household_codes()
    ids = sorted({f.id_number for f in leads if f.id_number})
    members: dict[str, Member] = {}
    for start in range(0, len(ids), 500):
        for m in session.scalars(select(Member).where(Member.id_number.in_(ids[start:start + 500]))):
            members.setdefault(m.id_number or "", m)
    on = dt.date.fromisoformat(latest)
    tallies: dict[str, dict[str, Tally]] = {d: defaultdict(Tally) for d in DIMENSIONS}
    for f in leads:
        for dimension, group in _person_groups(f, members, on).items():
            if dimension in PERSONAL and f.finding_code in household_level:
                continue
            t = tallies[dimension][group]
            t.found += 1
            t.confirmed += f.status in CONFIRMED
            t.dismissed += f.status in DISMISSED
    out = []
    for dimension in DIMENSIONS:
        if dimension == "district" and district:
            continue  # one district: its share is all of it
        roll = {g: n for g, n in profile.get(dimension, {}).items() if g != labels.UNKNOWN}
        groups = {g: t for g, t in tallies[dimension].items() if g != labels.UNKNOWN}
        roll_total, lead_total = sum(roll.values()), sum(t.found for t in groups.values())
        if not roll_total or not lead_total:
            continue
        for group in sorted(set(roll) | set(groups)):
            t = groups.get(group, Tally())
            rest = Tally(sum(o.found for g, o in groups.items() if g != group),
                         sum(o.confirmed for g, o in groups.items() if g != group),
                         sum(o.dismissed for g, o in groups.items() if g != group))
            roll_share = roll.get(group, 0) / roll_total
            lead_share = t.found / lead_total
            flagged = (roll_share > 0 and lead_share > config.disparity_multiple * roll_share
                       and t.rate is not None and rest.rate is not None and t.rate < rest.rate)
            out.append(Disparity(dimension, group, roll_share, lead_share, t.found, t.rate,
                                 rest.rate, flagged))
    return out


def code_rows(result: Oversight, code_labels: dict[str, str]) -> list[dict[str, Any]]:
    """The per-code table as rows (also for the report's workbook)."""
    return [{"code": code, "label": code_labels.get(code, code), "found": t.found,
             "confirmed": t.confirmed, "dismissed": t.dismissed, "open": t.open,
             "overdue": t.overdue, "rate": t.rate, "flagged": code in result.flagged_codes}
            for code, t in sorted(result.by_code.items())]
