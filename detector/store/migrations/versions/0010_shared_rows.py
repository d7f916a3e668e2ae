"""Evidence and ties stored once and shared by the runs that have the same rows

A run's campaign points at its evidence set (``campaigns.evidence_set``: rows in
``evidence_rows``) and a run's connected components at their tie sets (``run_components``: rows
in ``tie_rows``); the next run's campaigns and components with the same rows point at the same
sets instead of copying them. ``evidence`` and ``ties`` become views that show each run its
rows, as the tables did. Every stored campaign here holds its own set, and every component
of a run (all of a run's ties, for runs stored before 0009) its own.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

ID = sa.String(128)
TIME = sa.DateTime(timezone=True)
EVIDENCE = ("event", "signal", "content_key", "platform", "account_id", "post_id", "posted_at",
            "delay_s", "event_size", "similarity")
TIE = ("platform_a", "account_a", "platform_b", "account_b", "weight", "contents", "signals")
# as detector.store.schema.VIEWS had them at this revision (a test compares the two)
VIEWS = {
    "evidence": "SELECT r.id AS id, c.detection_id AS detection_id, c.campaign_id AS campaign_id, "
                + ", ".join(f"r.{name} AS {name}" for name in EVIDENCE)
                + " FROM campaigns c JOIN evidence_rows r ON r.set_id = c.evidence_set",
    "ties": "SELECT t.id AS id, rc.detection_id AS detection_id, rc.component AS component, "
            + ", ".join(f"t.{name} AS {name}" for name in TIE)
            + " FROM run_components rc JOIN tie_rows t ON t.tie_set = rc.tie_set",
}


def _evidence_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("event", sa.Integer(), nullable=False),
            sa.Column("signal", sa.String(16), nullable=False),
            sa.Column("content_key", sa.Text(), nullable=False),
            sa.Column("platform", sa.String(32), nullable=False),
            sa.Column("account_id", ID, nullable=False),
            sa.Column("post_id", ID, nullable=False),
            sa.Column("posted_at", TIME, nullable=False),
            sa.Column("delay_s", sa.Float(), nullable=False),
            sa.Column("event_size", sa.Integer(), nullable=False),
            sa.Column("similarity", sa.Float(), nullable=True)]


def _tie_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column("platform_a", sa.String(32), nullable=False),
            sa.Column("account_a", ID, nullable=False),
            sa.Column("platform_b", sa.String(32), nullable=False),
            sa.Column("account_b", ID, nullable=False),
            sa.Column("weight", sa.Float(), nullable=False),
            sa.Column("contents", sa.Integer(), nullable=False),
            sa.Column("signals", sa.String(64), nullable=False)]


def _detection_fk() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("detection_id", sa.Integer(),
                     sa.ForeignKey("detections.id", ondelete="CASCADE"), nullable=False)


def _ids_follow(table: str) -> None:
    """On PostgreSQL, the id sequence past the ids copied in."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                   f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)")


def _one_transaction() -> None:
    """On SQLite, open the transaction now: the driver begins one only before a data change,
    so the tables made before the first would stay made if the migration stopped half-way
    (it moves every evidence row and tie: 29 s at 3M posts), and the next start would fail on
    them. SQLite's DDL is transactional once a transaction is open; PostgreSQL's always is."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("UPDATE alembic_version SET version_num = version_num")


def upgrade() -> None:
    _one_transaction()
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("evidence_set", sa.Integer(), nullable=True))
    op.create_table("evidence_rows", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("set_id", sa.Integer(), nullable=False), *_evidence_columns())
    op.create_table("run_components", sa.Column("id", sa.Integer(), primary_key=True),
                    _detection_fk(), sa.Column("component", sa.BigInteger(), nullable=True),
                    sa.Column("tie_set", sa.Integer(), nullable=True))
    op.create_table("tie_rows", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("tie_set", sa.Integer(), nullable=False), *_tie_columns())
    evidence, tie = ", ".join(EVIDENCE), ", ".join(TIE)
    op.execute("UPDATE campaigns SET evidence_set = id")
    op.execute(f"INSERT INTO evidence_rows (id, set_id, {evidence}) "
               f"SELECT e.id, c.id, {', '.join(f'e.{n}' for n in EVIDENCE)} FROM evidence e "
               "JOIN campaigns c ON c.detection_id = e.detection_id AND c.campaign_id = e.campaign_id")
    op.execute("INSERT INTO run_components (detection_id, component) "
               "SELECT DISTINCT detection_id, component FROM ties")
    op.execute("UPDATE run_components SET tie_set = id")
    op.execute(f"INSERT INTO tie_rows (id, tie_set, {tie}) "
               f"SELECT t.id, rc.id, {', '.join(f't.{n}' for n in TIE)} FROM ties t "
               "JOIN run_components rc ON rc.detection_id = t.detection_id AND (rc.component = "
               "t.component OR (rc.component IS NULL AND t.component IS NULL))")
    op.drop_table("evidence")
    op.drop_table("ties")
    _ids_follow("evidence_rows")
    _ids_follow("tie_rows")
    op.create_index("ix_campaigns_evidence_set", "campaigns", ["evidence_set"])
    op.create_index("ix_evidence_rows_event", "evidence_rows", ["set_id", "event", "posted_at"])
    op.create_index("ix_evidence_rows_account", "evidence_rows", ["set_id", "platform", "account_id"])
    op.create_index("ix_run_components_run", "run_components", ["detection_id", "component"])
    op.create_index("ix_run_components_set", "run_components", ["tie_set", "detection_id"])
    op.create_index("ix_tie_rows_set", "tie_rows", ["tie_set"])
    op.create_index("ix_tie_rows_account", "tie_rows", ["platform_a", "account_a", "tie_set"])
    for name, body in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {body}")


def downgrade() -> None:
    _one_transaction()
    for name in VIEWS:
        op.execute(f"DROP VIEW {name}")
    op.create_table("evidence", sa.Column("id", sa.Integer(), primary_key=True), _detection_fk(),
                    sa.Column("campaign_id", sa.String(32), nullable=False), *_evidence_columns())
    op.create_table("ties", sa.Column("id", sa.Integer(), primary_key=True), _detection_fk(),
                    *_tie_columns(), sa.Column("component", sa.BigInteger(), nullable=True))
    evidence, tie = ", ".join(EVIDENCE), ", ".join(TIE)
    op.execute(f"INSERT INTO evidence (detection_id, campaign_id, {evidence}) "
               f"SELECT c.detection_id, c.campaign_id, {', '.join(f'r.{n}' for n in EVIDENCE)} "
               "FROM campaigns c JOIN evidence_rows r ON r.set_id = c.evidence_set "
               "ORDER BY c.detection_id, c.campaign_id, r.id")
    op.execute(f"INSERT INTO ties (detection_id, component, {tie}) "
               f"SELECT rc.detection_id, rc.component, {', '.join(f't.{n}' for n in TIE)} "
               "FROM run_components rc JOIN tie_rows t ON t.tie_set = rc.tie_set "
               "ORDER BY rc.detection_id, t.id")
    op.create_index("ix_evidence_account", "evidence", ["detection_id", "platform", "account_id"])
    op.create_index("ix_evidence_event", "evidence", ["detection_id", "campaign_id", "event", "posted_at"])
    op.create_index("ix_ties_account", "ties", ["detection_id", "platform_a", "account_a"])
    op.drop_table("tie_rows")
    op.drop_table("run_components")
    op.drop_table("evidence_rows")
    op.drop_index("ix_campaigns_evidence_set", "campaigns")
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("evidence_set")
