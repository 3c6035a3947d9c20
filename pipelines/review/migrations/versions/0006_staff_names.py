"""Staff members named by an audit (review/staff.parquet), so the app shows a staff code by name
with the code on hover; and the severity weights each import's priorities were made with.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_members",
        sa.Column("staff_id", sa.String(64), primary_key=True),
        sa.Column("as_of", sa.String(10), nullable=False),
        sa.Column("name", sa.String(64)),
        sa.Column("role", sa.String(64)),
        sa.Column("org", sa.String(128)),
        sa.Column("district", sa.String(64)),
        sa.Column("street", sa.String(64)),
    )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("severity_weights", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("severity_weights")
    op.drop_table("staff_members")
