"""Accounts may name the staff member (staff roster staff_id) they are, so that the app can
make them recuse themselves from leads that name them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("staff_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("staff_id")
