"""The tables (and the views over them: ``VIEWS``), as SQLAlchemy 2 typed ORM classes. Migrations
in ``migrations/`` must match them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = String(128)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on SQLite (naive storage) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; times must be UTC-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class DatasetRow(Base):
    """One ingested file; ``status`` is ``complete`` only after its last batch was committed."""

    __tablename__ = "datasets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    format: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    read: Mapped[int] = mapped_column(BigInteger, default=0)
    stored: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the id of the pseudonymization key its accounts were hashed with (detector.privacy), or None
    pseudonym_key: Mapped[str | None] = mapped_column(String(32), nullable=True)


class PostRow(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("platform", "post_id", name="uq_posts_platform_post_id"),
        Index("ix_posts_created_at", "created_at"),
        Index("ix_posts_account", "platform", "account_id"),
        Index("ix_posts_dataset_id", "dataset_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[str] = mapped_column(ID)
    account_id: Mapped[str] = mapped_column(ID)
    handle: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text)
    repost_of: Mapped[str | None] = mapped_column(ID)
    reply_to: Mapped[str | None] = mapped_column(ID)
    quote_of: Mapped[str | None] = mapped_column(ID)
    urls: Mapped[list[str]] = mapped_column(JSON)
    hashtags: Mapped[list[str]] = mapped_column(JSON)
    mentions: Mapped[list[str]] = mapped_column(JSON)
    lang: Mapped[str | None] = mapped_column(String(32))
    client: Mapped[str | None] = mapped_column(String(255))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))


class AccountFields:
    """What a dump says about an account (the accounts table, and its undo copy)."""

    handle: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followers: Mapped[int | None] = mapped_column(BigInteger)
    following: Mapped[int | None] = mapped_column(BigInteger)
    posts_count: Mapped[int | None] = mapped_column(BigInteger)


class AccountRow(AccountFields, Base):
    __tablename__ = "accounts"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ID, primary_key=True)


class AccountUndoRow(AccountFields, Base):
    """What an account was before a dataset still being ingested changed it (``existed`` False:
    the dataset created it). A failed ingest puts accounts back from here; a complete one
    forgets its rows."""

    __tablename__ = "account_undo"

    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"),
                                            primary_key=True)
    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ID, primary_key=True)
    existed: Mapped[bool] = mapped_column(Boolean)


class RejectionRow(Base):
    """The first rejected records of a dataset, kept so users can fix them by line."""

    __tablename__ = "rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(512))
    line: Mapped[int] = mapped_column(BigInteger)
    field: Mapped[str] = mapped_column(String(255))
    message: Mapped[str] = mapped_column(Text)


class DetectionRow(Base):
    """One detection run: its parameters, seeds, library versions, inputs and counts."""

    __tablename__ = "detections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    versions: Mapped[dict[str, Any]] = mapped_column(JSON)
    datasets: Mapped[list[int]] = mapped_column(JSON)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CampaignRow(Base):
    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_detection_rank", "detection_id", "rank"),
        Index("ix_campaigns_detection_campaign", "detection_id", "campaign_id"),
        Index("ix_campaigns_evidence_set", "evidence_set"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detection_id: Mapped[int] = mapped_column(ForeignKey("detections.id", ondelete="CASCADE"))
    campaign_id: Mapped[str] = mapped_column(String(32))
    rank: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    score: Mapped[float] = mapped_column(Float)
    size: Mapped[int] = mapped_column(Integer)
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    signals: Mapped[list[str]] = mapped_column(JSON)
    events: Mapped[int] = mapped_column(Integer)
    representative_text: Mapped[str] = mapped_column(Text)
    features: Mapped[dict[str, float]] = mapped_column(JSON)
    evidence_digest: Mapped[str | None] = mapped_column(String(32))   # see store.detections
    evidence_set: Mapped[int | None] = mapped_column(Integer)   # its evidence rows' set (evidence_rows)


class CampaignMemberRow(Base):
    __tablename__ = "campaign_members"
    __table_args__ = (
        Index("ix_campaign_members_by_account", "detection_id", "platform", "account_id", "campaign_id"),
        Index("ix_campaign_members_campaign", "detection_id", "campaign_id", "platform", "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detection_id: Mapped[int] = mapped_column(ForeignKey("detections.id", ondelete="CASCADE"))
    campaign_id: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(ID)


class AccountScoreRow(Base):
    __tablename__ = "account_scores"
    __table_args__ = (
        UniqueConstraint("detection_id", "platform", "account_id", name="uq_account_scores"),
        Index("ix_account_scores_rank", "detection_id", "score", "platform", "account_id", "flagged"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detection_id: Mapped[int] = mapped_column(ForeignKey("detections.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(ID)
    score: Mapped[float] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    flagged: Mapped[bool] = mapped_column(Boolean)
    campaign_id: Mapped[str | None] = mapped_column(String(32))
    subscores: Mapped[dict[str, float]] = mapped_column(JSON)
    features: Mapped[dict[str, float]] = mapped_column(JSON)
    # a trained scorer's reasons: [{"feature": ..., "contribution": ...}], largest first (0005)
    explanation: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)


class EvidenceFields:
    """An evidence post's columns (the stored rows, and the view that shows them by run)."""

    event: Mapped[int] = mapped_column(Integer)
    signal: Mapped[str] = mapped_column(String(16))
    content_key: Mapped[str] = mapped_column(Text)
    platform: Mapped[str] = mapped_column(String(32))
    account_id: Mapped[str] = mapped_column(ID)
    post_id: Mapped[str] = mapped_column(ID)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delay_s: Mapped[float] = mapped_column(Float)
    event_size: Mapped[int] = mapped_column(Integer)
    similarity: Mapped[float | None] = mapped_column(Float)  # text events: to the first post


class StoredEvidenceRow(EvidenceFields, Base):
    """A post that ties an account to others, in one *evidence set*: the rows of one campaign's
    evidence, which later runs whose campaign has the same rows share
    (``campaigns.evidence_set``) instead of storing them again. Read through the view
    ``evidence`` (:class:`EvidenceRow`). A set's id is the ``campaigns.id`` of the first
    campaign that held it; a set no campaign holds any more is deleted with its runs
    (``retention.delete_runs``)."""

    __tablename__ = "evidence_rows"
    __table_args__ = (
        Index("ix_evidence_rows_event", "set_id", "event", "posted_at"),
        Index("ix_evidence_rows_account", "set_id", "platform", "account_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(Integer)


class RunComponentRow(Base):
    """A connected component of a run's ties: which *tie set* (``tie_rows``) holds its ties.
    Later runs with the same component share the set. A set's id is the ``id`` of the first
    row that held it; ``component`` is the digest of its rows (``store.detections``; None in
    runs stored before migration 0009, one row per such run)."""

    __tablename__ = "run_components"
    __table_args__ = (
        Index("ix_run_components_run", "detection_id", "component"),
        Index("ix_run_components_set", "tie_set", "detection_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detection_id: Mapped[int] = mapped_column(ForeignKey("detections.id", ondelete="CASCADE"))
    component: Mapped[int | None] = mapped_column(BigInteger)
    tie_set: Mapped[int | None] = mapped_column(Integer)


class TieFields:
    """A tie's columns (the stored rows, and the view that shows them by run)."""

    platform_a: Mapped[str] = mapped_column(String(32))
    account_a: Mapped[str] = mapped_column(ID)
    platform_b: Mapped[str] = mapped_column(String(32))
    account_b: Mapped[str] = mapped_column(ID)
    weight: Mapped[float] = mapped_column(Float)
    contents: Mapped[int] = mapped_column(Integer)
    signals: Mapped[str] = mapped_column(String(64))


class StoredTieRow(TieFields, Base):
    """A significant tie of the account graph, in one tie set (see :class:`RunComponentRow`).
    Read through the view ``ties`` (:class:`TieRow`)."""

    __tablename__ = "tie_rows"
    __table_args__ = (
        Index("ix_tie_rows_set", "tie_set"),
        Index("ix_tie_rows_account", "platform_a", "account_a", "tie_set"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tie_set: Mapped[int] = mapped_column(Integer)


_EVIDENCE_COLUMNS = tuple(EvidenceFields.__annotations__)      # in the order declared
_TIE_COLUMNS = tuple(TieFields.__annotations__)
VIEWS = {
    # each run's evidence rows: its campaigns' evidence sets
    "evidence": "SELECT r.id AS id, c.detection_id AS detection_id, c.campaign_id AS campaign_id, "
                + ", ".join(f"r.{name} AS {name}" for name in _EVIDENCE_COLUMNS)
                + " FROM campaigns c JOIN evidence_rows r ON r.set_id = c.evidence_set",
    # each run's ties: its components' tie sets
    "ties": "SELECT t.id AS id, rc.detection_id AS detection_id, rc.component AS component, "
            + ", ".join(f"t.{name} AS {name}" for name in _TIE_COLUMNS)
            + " FROM run_components rc JOIN tie_rows t ON t.tie_set = rc.tie_set",
}
# made and dropped with the tables (create_all). A later migration that rebuilds a table they
# read (SQLite's batch mode) drops them first and makes them again after.
for _name, _body in VIEWS.items():
    event.listen(Base.metadata, "after_create", DDL(f"CREATE VIEW {_name} AS {_body}"))  # type: ignore[no-untyped-call]
    event.listen(Base.metadata, "before_drop", DDL(f"DROP VIEW IF EXISTS {_name}"))  # type: ignore[no-untyped-call]


class Views(DeclarativeBase):
    """Views: read only, never created as tables (their SQL is ``VIEWS``)."""


class EvidenceRow(EvidenceFields, Views):
    """A run's evidence post (the view ``evidence``): which event, when, how long after the
    first. The same stored row appears once in each run whose campaign shares its set, with
    that run's ids."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detection_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class TieRow(TieFields, Views):
    """A significant tie of a run's account graph (the view ``ties``, for exports): two
    accounts, weight, signals."""

    __tablename__ = "ties"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    detection_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    component: Mapped[int | None] = mapped_column(BigInteger)


class JobRow(Base):
    """Background work asked for over the API (ingest an upload, delete a dataset), with progress.

    ``state`` is ``queued``, ``running``, ``done`` or ``failed``; a ``running`` job whose
    ``heartbeat_at`` is older than the lease was cut off (its worker died) and is run again.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str | None] = mapped_column(String(512))
    path: Mapped[str | None] = mapped_column(Text)
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    format: Mapped[str | None] = mapped_column(String(32))
    dataset_id: Mapped[int | None] = mapped_column(Integer)
    detection_id: Mapped[int | None] = mapped_column(Integer)
    read: Mapped[int] = mapped_column(BigInteger, default=0)
    stored: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    percent: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(128))
    worker: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKeyRow(Base):
    """An API key: only a SHA-256 of its secret is kept; ``prefix`` finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReportRow(Base):
    """A report ``cib report`` wrote: which run it showed, against which baseline run, where."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # plain ids, no foreign keys: a report stays on record even if its runs are removed
    detection_id: Mapped[int] = mapped_column(Integer)
    baseline_detection_id: Mapped[int | None] = mapped_column(Integer)
    since: Mapped[str] = mapped_column(String(32))       # "last", or a duration such as "24h"
    out_dir: Mapped[str] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)


class LookupTextRow(Base):
    """The text-lookup index, part 1: one row per indexed post, naming its normalized text by a
    64-bit hash. No foreign key on purpose: a row whose post is gone is dropped by the join, and
    deleting posts stays cheap (the index on ``post_ref`` finds a deleted post's row) (0008)."""

    __tablename__ = "lookup_texts"
    __table_args__ = (Index("ix_lookup_texts_post_ref", "post_ref"),
                      {"sqlite_with_rowid": False})

    text_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    post_ref: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class LookupBandRow(Base):
    """The text-lookup index, part 2: one row per (MinHash band key, distinct normalized text),
    however many posts carry that text (0008)."""

    __tablename__ = "lookup_bands"
    __table_args__ = ({"sqlite_with_rowid": False},)

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    text_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class LookupStateRow(Base):
    """How far the lookup index got: every post with ``posts.id <= last_post_ref`` is in it."""

    __tablename__ = "lookup_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_post_ref: Mapped[int] = mapped_column(BigInteger, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)


class IncrementalStateRow(Base):
    """The cache an incremental detection starts from: which posts it covers, with which
    parameters, and its events, pair totals and account tallies. Row 1 holds the whole state as a
    blob; each later row, one update's changes to it (replayed in order on load), until the log
    outgrows a share of row 1 and the state is written whole again. The last row's watermark
    columns are the cache's (0007)."""

    __tablename__ = "incremental_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    params_hash: Mapped[str] = mapped_column(String(64))
    datasets: Mapped[list[int]] = mapped_column(JSON)
    posts: Mapped[int] = mapped_column(BigInteger)
    last_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_platform: Mapped[str] = mapped_column(String(32))
    last_post_id: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blob: Mapped[bytes] = mapped_column(LargeBinary)


class IncrementalContentRow(Base):
    """Which posts carry a content (signal, key): a post by its position in detection order and
    its ``posts.id``. ``key_hash`` finds a content's posts without indexing long URLs (0007)."""

    __tablename__ = "incremental_contents"
    __table_args__ = (Index("ix_incremental_contents_position", "position"),
                      {"sqlite_with_rowid": False})

    key_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    signal: Mapped[str] = mapped_column(String(16), primary_key=True)
    post_ref: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(Text)


class IncrementalBandRow(Base):
    """Detection's LSH buckets: per (band, bucket key) the first and last text post in it, by
    position: all a new post is compared with (``near_duplicate_pairs``' bucket rule) (0007)."""

    __tablename__ = "incremental_bands"
    __table_args__ = ({"sqlite_with_rowid": False},)

    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    first_position: Mapped[int] = mapped_column(BigInteger)
    last_position: Mapped[int] = mapped_column(BigInteger)
