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
        sa.Column("worker", sa.String(128), nullable=True),
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
    _add_query_indexes()


def downgrade() -> None:
    _drop_query_indexes()
    for table in ("lookup_state", "lookup_bands", "api_keys", "jobs"):
        op.drop_table(table)


# The API's reads (detector/store/queries.py): accounts by score (whole order, flagged for
# counts), a campaign's members and an account's campaigns (both covering: SQLite prefers a
# covering index), evidence by event, ties by account. _REPLACED are the 0002 indexes that
# these extend.
_QUERY_INDEXES = (
    ("ix_account_scores_rank", "account_scores",
     ["detection_id", "score", "platform", "account_id", "flagged"]),
    ("ix_campaigns_detection_campaign", "campaigns", ["detection_id", "campaign_id"]),
    ("ix_campaign_members_campaign", "campaign_members",
     ["detection_id", "campaign_id", "platform", "account_id"]),
    ("ix_campaign_members_by_account", "campaign_members",
     ["detection_id", "platform", "account_id", "campaign_id"]),
    ("ix_evidence_event", "evidence", ["detection_id", "campaign_id", "event", "posted_at"]),
    ("ix_ties_account", "ties", ["detection_id", "platform_a", "account_a"]),
)
_REPLACED = (
    ("ix_account_scores_score", "account_scores", ["detection_id", "score"]),
    ("ix_campaign_members_account", "campaign_members", ["detection_id", "platform", "account_id"]),
    ("ix_evidence_campaign", "evidence", ["detection_id", "campaign_id"]),
    ("ix_ties_detection", "ties", ["detection_id"]),
)


def _add_query_indexes() -> None:
    for name, table, columns in _QUERY_INDEXES:
        op.create_index(name, table, columns)
    for name, table, _ in _REPLACED:
        op.drop_index(name, table_name=table)


def _drop_query_indexes() -> None:
    for name, table, columns in _REPLACED:
        op.create_index(name, table, columns)
    for name, table, _ in _QUERY_INDEXES:
        op.drop_index(name, table_name=table)
