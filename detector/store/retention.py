"""Retention: remove posts older than a cutoff, and what was derived from them, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, delete, exists, func, insert, select
from sqlalchemy.engine import Connection

from detector.store.bulk import MAX_VARIABLES
from detector.store.database import flush_deleted
from detector.store.lookup import forget_posts_before
from detector.store.schema import (
    AccountRow,
    CampaignRow,
    DatasetRow,
    DetectionRow,
    IncrementalBandRow,
    IncrementalContentRow,
    IncrementalStateRow,
    PostRow,
    RejectionRow,
    RunComponentRow,
    StoredEvidenceRow,
    StoredTieRow,
)


@dataclass(frozen=True)
class PurgeReport:
    """What a purge removed (or, with ``dry_run``, would remove)."""

    cutoff: datetime
    posts: int
    accounts: int
    detections: int
    lookup_rows: int
    dry_run: bool = False


def _orphan_accounts() -> ColumnElement[bool]:
    return ~exists().where(PostRow.platform == AccountRow.platform,
                           PostRow.account_id == AccountRow.account_id)


def replace_runs(connection: Connection, runs: Select[Any], removed: int) -> None:
    """Delete ``runs``, standing an empty run in for them (``removed``: the posts that went):
    the API's answers are cached by run id and by the newest run id, and SQLite would hand a
    deleted newest id to the next run."""
    latest = connection.execute(select(DetectionRow).order_by(DetectionRow.id.desc()).limit(1)).first()
    if latest is not None:
        counts = {name: 0 for name in latest.counts} | {"removed_posts": removed}
        connection.execute(insert(DetectionRow).values(
            created_at=datetime.now(UTC), params=latest.params, versions=latest.versions,
            datasets=[], counts=counts, since=None, until=None))
    newest = connection.execute(select(func.max(DetectionRow.id))).scalar()
    delete_runs(connection, select(DetectionRow.id).where(DetectionRow.id.in_(runs),
                                                          DetectionRow.id != newest))


def delete_runs(connection: Connection, runs: Select[Any]) -> None:
    """Delete ``runs`` (a select of their ids) with their rows, and the evidence and tie sets
    that no run left points at (``schema.StoredEvidenceRow``, ``schema.StoredTieRow``): the
    runs left read as before, and nothing of the deleted ones stays behind.

    The runs go first, the sets after: a run being stored that shares the newest run's sets
    holds that run's row (``FOR SHARE`` on PostgreSQL, see ``save_detection``), so deleting it
    waits until that run is stored, and its campaigns then keep the sets they point at."""
    evidence_sets = set(connection.execute(select(CampaignRow.evidence_set)
                                           .where(CampaignRow.detection_id.in_(runs))).scalars())
    tie_sets = set(connection.execute(select(RunComponentRow.tie_set)
                                      .where(RunComponentRow.detection_id.in_(runs))).scalars())
    connection.execute(delete(DetectionRow).where(DetectionRow.id.in_(runs)))
    for held, stored, column, holder in (
            (evidence_sets, StoredEvidenceRow, StoredEvidenceRow.set_id, CampaignRow.evidence_set),
            (tie_sets, StoredTieRow, StoredTieRow.tie_set, RunComponentRow.tie_set)):
        ordered = sorted(one for one in held if one is not None)
        for start in range(0, len(ordered), _SETS_AT_ONCE):
            chunk = ordered[start:start + _SETS_AT_ONCE]
            connection.execute(delete(stored).where(column.in_(chunk), ~exists().where(holder == column)))


_SETS_AT_ONCE = MAX_VARIABLES     # set ids per statement: one bound value each


def forget_cache(connection: Connection) -> None:
    """Drop the incremental-detection cache (its events name posts, accounts and contents):
    deleted or purged posts must leave no trace there either. The next run is a full one."""
    for row_type in (IncrementalStateRow, IncrementalContentRow, IncrementalBandRow):
        connection.execute(delete(row_type))


def purge_before(engine: Engine, cutoff: datetime, *, dry_run: bool = False) -> PurgeReport:
    """Delete posts made before ``cutoff`` with their lookup-index rows, accounts left with no
    post, and the rejected-record notes of datasets left with no post.

    Detection runs are derived from the posts they saw: when any post goes, every stored run
    goes with it, and so does the incremental-detection cache; an empty run (no campaigns,
    ``counts.removed_posts``) stands in until the caller detects again on what is left; when
    none does, runs made before ``cutoff`` go, except the latest.

    One transaction: a crash leaves everything or nothing purged. Dataset rows stay (file
    name, SHA-256 and counts, no personal data), so a re-upload of a purged file is recognized.
    """
    with engine.begin() as c:
        posts = int(c.execute(select(func.count()).select_from(PostRow)
                              .where(PostRow.created_at < cutoff)).scalar() or 0)
        runs = select(DetectionRow.id)
        if not posts:  # old runs go, never the latest (it holds nothing older than what is kept)
            newest = select(func.max(DetectionRow.id)).scalar_subquery()
            runs = runs.where(DetectionRow.created_at < cutoff, DetectionRow.id != newest)
        detections = int(c.execute(select(func.count()).select_from(runs.subquery())).scalar() or 0)
        if dry_run:
            accounts = int(c.execute(
                select(func.count()).select_from(AccountRow).where(~exists().where(
                    PostRow.platform == AccountRow.platform, PostRow.account_id == AccountRow.account_id,
                    PostRow.created_at >= cutoff))).scalar() or 0)
            return PurgeReport(cutoff, posts, accounts, detections, 0, dry_run=True)
        lookup_rows = forget_posts_before(c, cutoff) if posts else 0
        if posts:
            forget_cache(c)
        c.execute(delete(PostRow).where(PostRow.created_at < cutoff))
        accounts = int(c.execute(delete(AccountRow).where(_orphan_accounts())).rowcount or 0)
        if posts:
            replace_runs(c, runs, posts)
        elif detections:
            delete_runs(c, runs)
        emptied = select(DatasetRow.id).where(~exists().where(PostRow.dataset_id == DatasetRow.id))
        c.execute(delete(RejectionRow).where(RejectionRow.dataset_id.in_(emptied)))
    if posts:
        flush_deleted(engine)
    return PurgeReport(cutoff, posts, accounts, detections, lookup_rows)
