"""lookup_texts, and lookup_bands keyed by text: band rows once per distinct normalized text

The index is a cache: both tables start empty and the watermark goes back to 0, so the next
``update_lookup_index`` rebuilds it (a few seconds per 100,000 posts).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("lookup_bands")
    op.create_table(
        "lookup_texts",
        sa.Column("text_key", sa.BigInteger(), nullable=False),
        sa.Column("post_ref", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("text_key", "post_ref"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_lookup_texts_post_ref", "lookup_texts", ["post_ref"])
    op.create_table(
        "lookup_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("text_key", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "text_key"),
        sqlite_with_rowid=False,
    )
    op.execute("UPDATE lookup_state SET last_post_ref = 0")


def downgrade() -> None:
    op.drop_table("lookup_bands")
    op.drop_index("ix_lookup_texts_post_ref", table_name="lookup_texts")
    op.drop_table("lookup_texts")
    op.create_table(
        "lookup_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("post_ref", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "post_ref"),
        sqlite_with_rowid=False,
    )
    # the state row still names this key version: older code rebuilds the index from scratch
    op.execute("UPDATE lookup_state SET last_post_ref = 0")
