"""Initial schema: users, runs, findings, members, decisions, audit log (append-only).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APPEND_ONLY = ("decisions", "audit_log")


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("district", sa.String(64)),
        sa.Column("street", sa.String(64)),
        sa.Column("active", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", _ts(), nullable=False),
        sa.CheckConstraint("role IN ('caseworker', 'supervisor', 'auditor')", name="ck_users_role"),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", _ts(), nullable=False),
        sa.Column("imported_by", sa.String(64), nullable=False),
        sa.Column("findings_total", sa.Integer, nullable=False),
        sa.Column("findings_new", sa.Integer, nullable=False),
    )
    op.create_table(
        "findings",
        sa.Column("finding_id", sa.String(32), primary_key=True),
        sa.Column("household_id", sa.String(64)),
        sa.Column("id_number", sa.String(32)),
        sa.Column("name", sa.String(64)),
        sa.Column("finding_code", sa.String(32), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("dataset", sa.String(32), nullable=False),
        sa.Column("record_id", sa.String(64), nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("amount_at_stake", sa.Float, nullable=False),
        sa.Column("priority", sa.Float, nullable=False),
        sa.Column("evidence_record", sa.Text),
        sa.Column("district", sa.String(64)),
        sa.Column("street", sa.String(64)),
        sa.Column("community", sa.String(64)),
        sa.Column("first_as_of", sa.String(10), nullable=False),
        sa.Column("last_as_of", sa.String(10), nullable=False),
        sa.Column("status", sa.String(32), nullable=False, server_default="open"),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("decided_by", sa.String(64)),
        sa.Column("decided_at", _ts()),
        sa.Column("reason", sa.Text),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("approved_at", _ts()),
        sa.CheckConstraint("approved_by IS NULL OR approved_by <> decided_by",
                           name="ck_findings_four_eyes"),
    )
    op.create_index("ix_findings_household_id", "findings", ["household_id"])
    op.create_index("ix_findings_priority", "findings", ["priority"])
    op.create_index("ix_findings_district", "findings", ["district"])
    op.create_index("ix_findings_status", "findings", ["status"])
    op.create_table(
        "run_findings",
        sa.Column("as_of", sa.String(10), primary_key=True),
        sa.Column("finding_id", sa.String(32), sa.ForeignKey("findings.finding_id"),
                  primary_key=True),
    )
    op.create_table(
        "members",
        sa.Column("household_id", sa.String(64), primary_key=True),
        sa.Column("member_key", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("name", sa.String(64)),
        sa.Column("id_number", sa.String(32)),
        sa.Column("relation", sa.String(32)),
        sa.Column("district", sa.String(64)),
        sa.Column("street", sa.String(64)),
        sa.Column("community", sa.String(64)),
        sa.Column("address", sa.Text),
        sa.Column("phone", sa.String(32)),
        sa.Column("category", sa.String(32)),
        sa.Column("household_size", sa.Integer),
        sa.Column("monthly_amount", sa.Float),
        sa.Column("start_date", sa.String(10)),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("bank_account", sa.String(64)),
    )
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("finding_id", sa.String(32), sa.ForeignKey("findings.finding_id"),
                  nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("status_after", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("client_addr", sa.String(64)),
        sa.Column("request_id", sa.String(64)),
        sa.UniqueConstraint("request_id", name="uq_decisions_request_id"),
    )
    op.create_index("ix_decisions_finding_id", "decisions", ["finding_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(128)),
        sa.Column("detail", sa.Text),
        sa.Column("client_addr", sa.String(64)),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_username", "audit_log", ["username"])
    _append_only_guards()


def _append_only_guards() -> None:
    """Reject UPDATE and DELETE (and TRUNCATE on PostgreSQL) on the append-only tables."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION review_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '% is append-only: % rejected', TG_TABLE_NAME, TG_OP;
            END $$""")
        for table in APPEND_ONLY:
            op.execute(f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                       "FOR EACH ROW EXECUTE FUNCTION review_append_only()")
            op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION review_append_only()")
    else:
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                           f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} rejected'); "
                           "END")


def downgrade() -> None:
    for table in ("audit_log", "decisions", "members", "run_findings", "findings", "runs",
                  "users", "settings"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS review_append_only()")
