"""incremental_state, incremental_contents, incremental_bands: the cache incremental detection
updates instead of rerunning on every post

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incremental_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("params_hash", sa.String(64), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("posts", sa.BigInteger(), nullable=False),
        sa.Column("last_time", sa.DateTime(timezone=True)),
        sa.Column("last_platform", sa.String(32), nullable=False),
        sa.Column("last_post_id", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blob", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "incremental_contents",
        sa.Column("key_hash", sa.BigInteger(), primary_key=True),
        sa.Column("position", sa.BigInteger(), primary_key=True),
        sa.Column("signal", sa.String(16), primary_key=True),
        sa.Column("post_ref", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_incremental_contents_position", "incremental_contents", ["position"])
    op.create_table(
        "incremental_bands",
        sa.Column("band", sa.Integer(), primary_key=True),
        sa.Column("band_key", sa.BigInteger(), primary_key=True),
        sa.Column("first_position", sa.BigInteger(), nullable=False),
        sa.Column("last_position", sa.BigInteger(), nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("incremental_bands")
    op.drop_index("ix_incremental_contents_position", table_name="incremental_contents")
    op.drop_table("incremental_contents")
    op.drop_table("incremental_state")
