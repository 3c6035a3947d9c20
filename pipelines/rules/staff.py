"""Staff-side inputs of the rules: declared relatives on the roll, and who approved each case.

`approved_by` holds a staff_id, or in some districts the staff member's name. Names are
normalised here with the same function ingest uses for every name column (traditional
characters, spaces, middle dots), then matched in SQL to staff of the household's district.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from pipelines.ingest.names import normalise_name
from pipelines.rules.tables import create_table, load_arrow

DECLARED_SCHEMA = pa.schema([
    ("member_key", pa.int64()), ("household_id", pa.string()), ("staff_id", pa.string()),
    ("record_id", pa.string()), ("relation", pa.string()), ("near_relative", pa.bool_()),
    ("score", pa.float64()), ("tier", pa.int8()), ("evidence", pa.string()),
])
NAMES_SCHEMA = pa.schema([("approved_by", pa.string()), ("name_norm", pa.string())])


def create_declared(con: duckdb.DuckDBPyConnection, have_declarations: bool) -> int:
    """`rules_declared`: roll members declared by staff; empty without staff_relatives."""
    if have_declarations:
        return create_table(con, "rules_declared")
    load_arrow(con, "rules_declared", DECLARED_SCHEMA.empty_table())
    return 0


def create_approvers(con: duckdb.DuckDBPyConnection) -> list[str]:
    """`rules_approver`: approved_by resolved to staff; return notes on what did not match."""
    values = con.table("rules_households").filter("approved_by IS NOT NULL") \
        .select("approved_by").distinct().fetchall()
    rows = [{"approved_by": v, "name_norm": normalise_name(v)} for (v,) in sorted(values)]
    load_arrow(con, "rules_approver_names", pa.Table.from_pylist(rows, schema=NAMES_SCHEMA))
    create_table(con, "rules_approver")
    counts = dict(con.table("rules_approver").aggregate("matched_by, count(*)").fetchall())
    notes = []
    if counts.get("ambiguous name"):
        notes.append(f"{counts['ambiguous name']} household(s) approved by a name shared by "
                     "several staff members of the district: approver not resolved")
    if counts.get("not found"):
        notes.append(f"{counts['not found']} household(s) whose approved_by matches no staff "
                     "member's staff_id or name in the district")
    return notes
