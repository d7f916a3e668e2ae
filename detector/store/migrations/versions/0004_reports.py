"""reports: what each ``cib report`` showed, so ``--since-last`` can give the delta

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detection_id", sa.Integer(), nullable=False),
        sa.Column("baseline_detection_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.String(32), nullable=False),
        sa.Column("out_dir", sa.Text(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("reports")
