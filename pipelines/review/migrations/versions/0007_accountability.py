"""Accountability: due dates, notices (告知书) and objections on findings, complaints as leads,
the roll's make-up for the disparity check, the accountability settings of each import.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

DATES = ("due_on", "approval_due_on", "notice_on", "respond_by", "objection_on",
         "objection_decided_on")


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False,
                                   server_default="audit"))
        for name in DATES:
            batch.add_column(sa.Column(name, sa.String(10)))
        batch.create_index("ix_findings_source", ["source"])
        batch.create_index("ix_findings_due_on", ["due_on"])
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("accountability", sa.Text))
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("finding_id", sa.String(32), sa.ForeignKey("findings.finding_id"),
                  nullable=False, unique=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("received_on", sa.String(10), nullable=False),
        sa.Column("during_publicity", sa.Integer, nullable=False, server_default="0"),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("recorded_by", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "roll_profile",
        sa.Column("as_of", sa.String(10), primary_key=True),
        sa.Column("district", sa.String(64), primary_key=True),
        sa.Column("dimension", sa.String(16), primary_key=True),
        sa.Column("grp", sa.String(64), primary_key=True),
        sa.Column("members", sa.Integer, nullable=False),
    )
    # leads found before this migration get their due date at the next import


def downgrade() -> None:
    op.drop_table("roll_profile")
    op.drop_table("complaints")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("accountability")
    with op.batch_alter_table("findings") as batch:
        batch.drop_index("ix_findings_due_on")
        batch.drop_index("ix_findings_source")
        for name in reversed(DATES):
            batch.drop_column(name)
        batch.drop_column("source")
