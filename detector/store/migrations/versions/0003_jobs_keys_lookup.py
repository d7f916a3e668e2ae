"""jobs, API keys and the text-lookup index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def _counter(name: str) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("filename", sa.String(512), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        _counter("size_bytes"),
        sa.Column("format", sa.String(32), nullable=True),
        sa.Column("dataset_id", sa.Integer(), nullable=True),
        sa.Column("detection_id", sa.Integer(), nullable=True),
        _counter("read"), _counter("stored"), _counter("duplicates"), _counter("rejected"),
        _counter("bytes_done"),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("started_at", TIME, nullable=True),
        sa.Column("heartbeat_at", TIME, nullable=True),
        sa.Column("finished_at", TIME, nullable=True),
    )
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("revoked_at", TIME, nullable=True),
    )
    op.create_table(
        "lookup_bands",
        sa.Column("band_key", sa.BigInteger(), nullable=False),
        sa.Column("post_ref", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("band_key", "post_ref"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "lookup_state",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("last_post_ref", sa.BigInteger(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    for table in ("lookup_state", "lookup_bands", "api_keys", "jobs"):
        op.drop_table(table)
