"""Findings carry the match tier of their evidence (findings.csv `tier`), to filter and sort
the queue by it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.add_column(sa.Column("tier", sa.String(16)))
        batch.create_index("ix_findings_tier", ["tier"])


def downgrade() -> None:
    with op.batch_alter_table("findings") as batch:
        batch.drop_index("ix_findings_tier")
        batch.drop_column("tier")
