"""`overdue.csv`: the leads still undecided after their period, as of the audit date.

A lead's period starts at the first audit that reported it (the warehouse's history; this audit
for a new lead) and lasts `accountability.due_days` Chinese working days, or the period its code
or district is given (the shorter where both are). A lead is decided once the decisions the
audit read hold a confirmation or a dismissal for it; an escalated lead still waits for its
decision. It is overdue when at least one working day has passed after its due date.

Columns: finding_id, household_id, finding_code, district, street, community, first_found,
due_date, working_days_overdue, status (open | escalated). Sorted by lateness, then finding_id.
No names or ID numbers: the finding_id leads to them in findings.csv and the review app.

This is the audit's view, from what the audit can see: a confirmation still waiting for a
supervisor's approval is exported by the app only once approved, so it counts here as
undecided; objections (which give a lead a new period) and complaints live in the review app,
whose queue and oversight page are the finer view.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import duckdb

from pipelines.config import AccountabilityConfig
from pipelines.io.csvfiles import write_csv
from pipelines.io.warehouse import Warehouse

log = logging.getLogger(__name__)

FILENAME = "overdue.csv"
COLUMNS = ("finding_id", "household_id", "finding_code", "district", "street", "community",
           "first_found", "due_date", "working_days_overdue", "status")
DECIDED = ("confirmed", "dismissed_wrong_person", "dismissed_legitimate")

_LEADS = """
    WITH place AS (
        SELECT household_id, min(district) AS district, min(street) AS street,
               min(community) AS community
        FROM findings_review_members GROUP BY household_id),
    added AS (SELECT finding_id, district, street, community FROM findings_add_list)
    SELECT f.finding_id, f.household_id, f.finding_code,
           coalesce(p.district, a.district) AS district, coalesce(p.street, a.street) AS street,
           coalesce(p.community, a.community) AS community,
           coalesce(d.decision, 'open') AS status
    FROM findings AS f
    LEFT JOIN place AS p ON p.household_id = f.household_id
    LEFT JOIN added AS a ON a.finding_id = f.finding_id
    LEFT JOIN rules_decisions AS d ON d.finding_id = f.finding_id
    ORDER BY f.finding_id"""


def write_overdue(con: duckdb.DuckDBPyConnection, warehouse: Warehouse, as_of: dt.date,
                  out_dir: Path, config: AccountabilityConfig) -> int:
    """Write `overdue.csv` into `out_dir`; the number of overdue leads.

    Needs findings, findings_review_members, findings_add_list and rules_decisions in `con`.
    """
    first_seen = warehouse.first_seen(as_of)
    calendar = config.calendar()
    due_dates: dict[tuple[dt.date, int], dt.date] = {}
    rows = []
    for fid, household, code, district, street, community, status in con.execute(
            _LEADS).fetchall():
        if status in DECIDED:
            continue
        first = first_seen.get(fid, as_of)
        days = config.due_days_for(code, district)
        due = due_dates.get((first, days))
        if due is None:
            due = due_dates[(first, days)] = calendar.add(first, days)
        late = -calendar.remaining(due, as_of)
        if late > 0:
            rows.append((fid, household, code, district, street, community, first.isoformat(),
                         due.isoformat(), late, status))
    rows.sort(key=lambda r: (-int(r[8]), r[0]))
    count = write_csv(out_dir / FILENAME, COLUMNS, rows)
    log.info("%d leads overdue as of %s (past their %s-working-day period)", count, as_of,
             config.due_days)
    return count
