"""campaigns.evidence_digest and ties.component: what a run's rows hold, so that the next run
copies the rows it would write the same inside the database instead of sending them again

Both stay empty (NULL) in the runs stored before: nothing is copied from those.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("evidence_digest", sa.String(32), nullable=True))
    with op.batch_alter_table("ties") as batch:
        batch.add_column(sa.Column("component", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ties") as batch:
        batch.drop_column("component")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("evidence_digest")
