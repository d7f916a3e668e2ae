"""posts, accounts, datasets and rejections

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(128)
TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("format", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("read", sa.BigInteger(), nullable=False),
        sa.Column("stored", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("rejected", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("finished_at", TIME, nullable=True),
    )
    op.create_index("ix_datasets_sha256", "datasets", ["sha256"])
    op.create_table(
        "posts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("post_id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("handle", sa.String(255), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("repost_of", ID, nullable=True),
        sa.Column("reply_to", ID, nullable=True),
        sa.Column("quote_of", ID, nullable=True),
        sa.Column("urls", sa.JSON(), nullable=False),
        sa.Column("hashtags", sa.JSON(), nullable=False),
        sa.Column("mentions", sa.JSON(), nullable=False),
        sa.Column("lang", sa.String(32), nullable=True),
        sa.Column("client", sa.String(255), nullable=True),
        sa.Column("dataset_id", sa.Integer(),
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.UniqueConstraint("platform", "post_id", name="uq_posts_platform_post_id"),
    )
    op.create_index("ix_posts_created_at", "posts", ["created_at"])
    op.create_index("ix_posts_account", "posts", ["platform", "account_id"])
    op.create_index("ix_posts_dataset_id", "posts", ["dataset_id"])
    op.create_table(
        "accounts",
        sa.Column("platform", sa.String(32), primary_key=True),
        sa.Column("account_id", ID, primary_key=True),
        sa.Column("handle", sa.String(255), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("created_at", TIME, nullable=True),
        sa.Column("followers", sa.BigInteger(), nullable=True),
        sa.Column("following", sa.BigInteger(), nullable=True),
        sa.Column("posts_count", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "rejections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dataset_id", sa.Integer(),
                  sa.ForeignKey("datasets.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(512), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("field", sa.String(255), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
    )
    op.create_index("ix_rejections_dataset_id", "rejections", ["dataset_id"])


def downgrade() -> None:
    op.drop_table("rejections")
    op.drop_table("accounts")
    op.drop_table("posts")
    op.drop_table("datasets")
