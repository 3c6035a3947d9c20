"""Tables of the review app (SQLAlchemy 2 declarative models).

The schema itself is created by the Alembic migrations in `migrations/versions/`; these models
mirror them. `decisions` and `audit_log` are append-only: the app has no update or delete path
for them, and the migration installs triggers that reject UPDATE and DELETE on both SQLite and
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class Setting(Base):
    """Key/value settings the app keeps for itself (the session signing key)."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))  # caseworker | supervisor | auditor
    district: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[int] = mapped_column(Integer, default=1)
    # the staff roster's staff_id of this person, if they are on it: leads naming it are theirs
    # to recuse from
    staff_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LoginSession(Base):
    """A signed-in browser session. The cookie carries a random token; only its SHA-256 is
    stored. Deleting the row ends the session at once (logout, deactivation, new password)."""

    __tablename__ = "sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    client_addr: Mapped[str | None] = mapped_column(String(64))


class Run(Base):
    """One import of an audit output folder (a re-import records another row)."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    imported_by: Mapped[str] = mapped_column(String(64))
    findings_total: Mapped[int] = mapped_column(Integer)
    findings_new: Mapped[int] = mapped_column(Integer)
    # the audit's rules.yaml severity_weights (JSON) the priorities of this import were made with
    severity_weights: Mapped[str | None] = mapped_column(Text)
    # the audit's accountability configuration (JSON): periods, calendar days, thresholds
    accountability: Mapped[str | None] = mapped_column(Text)


class Finding(Base):
    """A lead, keyed by the audit's stable finding_id; its review state lives here too."""

    __tablename__ = "findings"
    finding_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    household_id: Mapped[str | None] = mapped_column(String(64), index=True)
    id_number: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(64))
    finding_code: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    dataset: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))
    evidence: Mapped[str] = mapped_column(Text)
    amount_at_stake: Mapped[float] = mapped_column(Float)
    priority: Mapped[float] = mapped_column(Float, index=True)
    # match tier of the evidence (confirmed / probable / possible); NULL: imported from an
    # audit older than tiers
    tier: Mapped[str | None] = mapped_column(String(16), index=True)
    evidence_record: Mapped[str | None] = mapped_column(Text)  # JSON object
    district: Mapped[str | None] = mapped_column(String(64), index=True)
    street: Mapped[str | None] = mapped_column(String(64))
    community: Mapped[str | None] = mapped_column(String(64))
    first_as_of: Mapped[str] = mapped_column(String(10))
    last_as_of: Mapped[str] = mapped_column(String(10))
    # open | pending_approval | pending_dismissal | confirmed | escalated | dismissed_wrong_person |
    # dismissed_legitimate | dismissed_handled
    status: Mapped[str] = mapped_column(String(32), default="open", index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(64))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # accountability (pipelines.review.accountability): where the lead came from (audit |
    # complaint, 群众举报), when its decision is due and its approval, the notice (告知书) served
    # before a stop or reduction and the household's objection (dates YYYY-MM-DD, Shanghai)
    source: Mapped[str] = mapped_column(String(16), default="audit", server_default="audit",
                                        index=True)
    due_on: Mapped[str | None] = mapped_column(String(10), index=True)
    approval_due_on: Mapped[str | None] = mapped_column(String(10))
    notice_on: Mapped[str | None] = mapped_column(String(10))
    respond_by: Mapped[str | None] = mapped_column(String(10))
    objection_on: Mapped[str | None] = mapped_column(String(10))
    objection_decided_on: Mapped[str | None] = mapped_column(String(10))


class Complaint(Base):
    """A complaint or tip (群众举报) recorded by office staff; it is a lead (Finding with source
    complaint, finding_id C...)."""

    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.finding_id"), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # phone | online | letter
    received_on: Mapped[str] = mapped_column(String(10))
    during_publicity: Mapped[int] = mapped_column(Integer, default=0)
    content: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RollProfile(Base):
    """The roll's make-up by group (review/roll_profile.parquet): members per district and,
    within it, per age band, sex and category, for the disparity check. Counts only."""

    __tablename__ = "roll_profile"
    as_of: Mapped[str] = mapped_column(String(10), primary_key=True)
    district: Mapped[str] = mapped_column(String(64), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    grp: Mapped[str] = mapped_column(String(64), primary_key=True)
    members: Mapped[int] = mapped_column(Integer)


class RunFinding(Base):
    """Which audit (by as-of date) reported which finding: the household's history."""

    __tablename__ = "run_findings"
    as_of: Mapped[str] = mapped_column(String(10), primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.finding_id"), primary_key=True)


class Member(Base):
    """Roll members of households with findings, as of the latest import that listed them."""

    __tablename__ = "members"
    household_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_key: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(64))
    id_number: Mapped[str | None] = mapped_column(String(32))
    # the ID as the roll wrote it, when it differs from id_number (repaired): 15 digits ...
    id_as_written: Mapped[str | None] = mapped_column(String(64))
    relation: Mapped[str | None] = mapped_column(String(32))
    district: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(64))
    community: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(Text)
    phone: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str | None] = mapped_column(String(32))
    household_size: Mapped[int | None] = mapped_column(Integer)
    monthly_amount: Mapped[float | None] = mapped_column(Float)
    start_date: Mapped[str | None] = mapped_column(String(10))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    bank_account: Mapped[str | None] = mapped_column(String(64))


class StaffMember(Base):
    """A staff member named by an imported audit (review/staff.parquet): how the app shows a
    staff code (the roll's 经办人, a record's 人员编号) by name. The latest import wins."""

    __tablename__ = "staff_members"
    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    as_of: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(64))
    org: Mapped[str | None] = mapped_column(String(128))
    district: Mapped[str | None] = mapped_column(String(64))
    street: Mapped[str | None] = mapped_column(String(64))


class Decision(Base):
    """Append-only: every action taken on a finding (confirm, approve, dismiss, note, ...)."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.finding_id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    status_after: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    client_addr: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("request_id", name="uq_decisions_request_id"),)


class AuditEntry(Base):
    """Append-only: who did or saw what, when, from where."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    username: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str | None] = mapped_column(Text)
    client_addr: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_username", "username"),
                      Index("ix_audit_log_client_at", "client_addr", "at"))
