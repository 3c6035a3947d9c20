"""Decisions for the pipeline, in the contract's decisions.csv shape (pipeline hook).

`export_decisions(url)` returns the decisions that count, one per finding (its current, latest
effective state): a confirmation only once a supervisor other than the confirmer approved it;
dismissals and escalations as decided. "Already handled" dismissals are exported as
`dismissed_legitimate` with the reason prefixed `already handled`, since the contract's
vocabulary has no separate value and the finding needs no further action. Findings that are
open, or confirmed but not yet approved, are left out.

Columns: finding_id, decision, decided_by, decided_at (ISO 8601, UTC; for a confirmation the
confirmer's time), reason, approved_by, approved_at (the supervisor's approval), dataset,
record_id (the evidence record a dismissed_wrong_person match must not be linked to again;
finding_id already encodes code, subject, dataset and record_id), and for the decided lists:
effective_from (the first day a confirmation may be acted on: after the notice's response
period without objection, or once the objection was decided; empty while it may not:
pipelines.review.accountability), household_id, finding_code, lead_source (audit | complaint).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipelines.review.accountability import effective_from, settings
from pipelines.review.db import make_engine, migrate
from pipelines.review.models import Finding

DECISION_COLUMNS = ("finding_id", "decision", "decided_by", "decided_at", "reason",
                    "approved_by", "approved_at", "dataset", "record_id", "effective_from",
                    "household_id", "finding_code", "lead_source")
_EXPORTED = {"confirmed": "confirmed", "dismissed_wrong_person": "dismissed_wrong_person",
             "dismissed_legitimate": "dismissed_legitimate",
             "dismissed_handled": "dismissed_legitimate", "escalated": "escalated"}


def iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


def export_decisions(database_url: str) -> list[dict[str, str]]:
    """The effective decision per finding, sorted by finding_id (see the module docstring)."""
    engine = make_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as connection, Session(connection) as session:
            rows = list(session.scalars(select(Finding)
                                        .where(Finding.status.in_(list(_EXPORTED)))
                                        .order_by(Finding.finding_id)))
            calendar = settings(session).calendar()
            session.expunge_all()
    finally:
        engine.dispose()
    out = []
    for row in rows:
        reason = row.reason or ""
        if row.status == "dismissed_handled":
            reason = "already handled" + (f": {reason}" if reason else "")
        out.append({
            "finding_id": row.finding_id, "decision": _EXPORTED[row.status],
            "decided_by": row.decided_by or "", "decided_at": iso(row.decided_at),
            "reason": reason, "approved_by": row.approved_by or "",
            "approved_at": iso(row.approved_at),
            "dataset": row.dataset, "record_id": row.record_id,
            "effective_from": effective_from(row, calendar) or "", "household_id": row.household_id or "",
            "finding_code": row.finding_code, "lead_source": row.source or "audit",
        })
    return out
