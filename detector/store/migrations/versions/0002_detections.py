"""detections, campaigns, members, account scores and evidence

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(128)
TIME = sa.DateTime(timezone=True)


def _detection_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("detection_id", sa.Integer(),
                     sa.ForeignKey("detections.id", ondelete="CASCADE"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "detections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("versions", sa.JSON(), nullable=False),
        sa.Column("datasets", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("since", TIME, nullable=True),
        sa.Column("until", TIME, nullable=True),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), primary_key=True),
        _detection_fk(),
        sa.Column("campaign_id", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("start", TIME, nullable=False),
        sa.Column("end", TIME, nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("representative_text", sa.Text(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
    )
    op.create_index("ix_campaigns_detection_rank", "campaigns", ["detection_id", "rank"])
    op.create_table(
        "campaign_members",
        sa.Column("id", sa.Integer(), primary_key=True),
        _detection_fk(),
        sa.Column("campaign_id", sa.String(32), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("account_id", ID, nullable=False),
    )
    op.create_index("ix_campaign_members_account", "campaign_members",
                    ["detection_id", "platform", "account_id"])
    op.create_table(
        "account_scores",
        sa.Column("id", sa.Integer(), primary_key=True),
        _detection_fk(),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("flagged", sa.Boolean(), nullable=False),
        sa.Column("campaign_id", sa.String(32), nullable=True),
        sa.Column("subscores", sa.JSON(), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.UniqueConstraint("detection_id", "platform", "account_id", name="uq_account_scores"),
    )
    op.create_index("ix_account_scores_score", "account_scores", ["detection_id", "score"])
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), primary_key=True),
        _detection_fk(),
        sa.Column("campaign_id", sa.String(32), nullable=False),
        sa.Column("event", sa.Integer(), nullable=False),
        sa.Column("signal", sa.String(16), nullable=False),
        sa.Column("content_key", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("post_id", ID, nullable=False),
        sa.Column("posted_at", TIME, nullable=False),
        sa.Column("delay_s", sa.Float(), nullable=False),
        sa.Column("event_size", sa.Integer(), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=True),
    )
    op.create_index("ix_evidence_account", "evidence", ["detection_id", "platform", "account_id"])
    op.create_index("ix_evidence_campaign", "evidence", ["detection_id", "campaign_id"])
    op.create_table(
        "ties",
        sa.Column("id", sa.Integer(), primary_key=True),
        _detection_fk(),
        sa.Column("platform_a", sa.String(32), nullable=False),
        sa.Column("account_a", ID, nullable=False),
        sa.Column("platform_b", sa.String(32), nullable=False),
        sa.Column("account_b", ID, nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("contents", sa.Integer(), nullable=False),
        sa.Column("signals", sa.String(64), nullable=False),
    )
    op.create_index("ix_ties_detection", "ties", ["detection_id"])


def downgrade() -> None:
    for table in ("ties", "evidence", "account_scores", "campaign_members", "campaigns",
                  "detections"):
        op.drop_table(table)
