"""datasets.pseudonym_key: which pseudonymization key (by its id, never the key) a dataset used;
account_undo: what accounts were before a dataset being ingested changed them

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datasets") as batch:
        batch.add_column(sa.Column("pseudonym_key", sa.String(32), nullable=True))
    op.create_table(
        "account_undo",
        sa.Column("dataset_id", sa.Integer(), sa.ForeignKey("datasets.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("account_id", sa.String(128), primary_key=True),
        sa.Column("existed", sa.Boolean(), nullable=False),
        sa.Column("handle", sa.String(255)),
        sa.Column("name", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("followers", sa.BigInteger()),
        sa.Column("following", sa.BigInteger()),
        sa.Column("posts_count", sa.BigInteger()),
    )


def downgrade() -> None:
    op.drop_table("account_undo")
    with op.batch_alter_table("datasets") as batch:
        batch.drop_column("pseudonym_key")
