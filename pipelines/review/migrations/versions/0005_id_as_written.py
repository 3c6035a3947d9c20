"""Roll members carry their ID number as the roll wrote it (members.parquet `id_as_written`)
beside the repaired one, so that a 15-digit or damaged number can be checked against the
paper file.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("id_as_written", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.drop_column("id_as_written")
