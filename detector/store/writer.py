"""Write ingested records: datasets, batches of posts and accounts, rejections. Idempotent."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Insert, Table, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from detector.records import Account, Post, Rejected
from detector.store.schema import AccountRow, DatasetRow, PostRow, RejectionRow

POSTS: Table = PostRow.__table__  # type: ignore[assignment]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[assignment]
DATASETS: Table = DatasetRow.__table__  # type: ignore[assignment]
REJECTIONS: Table = RejectionRow.__table__  # type: ignore[assignment]
KEPT_REJECTIONS = 1000
ACCOUNT_FIELDS = ("handle", "name", "created_at", "followers", "following", "posts_count")


@dataclass(frozen=True)
class BatchResult:
    stored: int
    duplicates: int


def _insert(connection: Connection, table: Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _now() -> datetime:
    return datetime.now(UTC)


def resumable_dataset(engine: Engine, sha256: str) -> DatasetRow | None:
    """The newest dataset with this content: complete (nothing to do) or unfinished (to redo)."""
    with engine.connect() as connection:
        row = connection.execute(
            select(DATASETS).where(DATASETS.c.sha256 == sha256,
                                   DATASETS.c.status.in_(("complete", "running", "interrupted")))
            .order_by(DATASETS.c.id.desc()).limit(1)).first()
    return DatasetRow(**row._mapping) if row else None


def start_dataset(engine: Engine, *, name: str, sha256: str, size_bytes: int, fmt: str,
                  reuse: int | None = None) -> int:
    """Create a ``running`` dataset row, or reset the unfinished row ``reuse`` to redo it."""
    values = dict(name=name, sha256=sha256, size_bytes=size_bytes, format=fmt, status="running",
                  read=0, stored=0, duplicates=0, rejected=0, error=None, started_at=_now(),
                  finished_at=None)
    with engine.begin() as connection:
        if reuse is not None:
            connection.execute(update(DATASETS).where(DATASETS.c.id == reuse).values(**values))
            connection.execute(delete(REJECTIONS).where(REJECTIONS.c.dataset_id == reuse))
            return reuse
        return int(connection.execute(DATASETS.insert().values(**values)).inserted_primary_key[0])


def _post_row(post: Post, dataset_id: int) -> dict[str, Any]:
    return {
        "platform": post.platform, "post_id": post.post_id, "account_id": post.account_id,
        "handle": post.handle, "created_at": post.created_at, "text": post.text,
        "repost_of": post.repost_of, "reply_to": post.reply_to, "quote_of": post.quote_of,
        "urls": list(post.urls), "hashtags": list(post.hashtags), "mentions": list(post.mentions),
        "lang": post.lang, "client": post.client, "dataset_id": dataset_id,
    }


def _merged_accounts(posts: Iterable[Post], accounts: Iterable[Account]) -> list[dict[str, Any]]:
    """One row per account: what the dump said about it, or at least its id and handle."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for account in accounts:
        row = merged.setdefault((account.platform, account.account_id), {
            "platform": account.platform, "account_id": account.account_id,
            **{f: None for f in ACCOUNT_FIELDS}})
        for name in ACCOUNT_FIELDS:
            value = getattr(account, name)
            if value is not None:
                row[name] = value
    for post in posts:
        key = (post.platform, post.account_id)
        if key not in merged:
            merged[key] = {"platform": post.platform, "account_id": post.account_id,
                           **{f: None for f in ACCOUNT_FIELDS}, "handle": post.handle}
    return list(merged.values())


def _upsert_accounts(connection: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    statement = _insert(connection, ACCOUNTS)
    statement = statement.on_conflict_do_update(
        index_elements=["platform", "account_id"],
        set_={f: func.coalesce(statement.excluded[f], ACCOUNTS.c[f]) for f in ACCOUNT_FIELDS})
    connection.execute(statement, rows)


def _insert_posts(connection: Connection, posts: Sequence[Post], dataset_id: int) -> int:
    unique: dict[tuple[str, str], Post] = {}
    for post in posts:
        unique.setdefault((post.platform, post.post_id), post)  # the first occurrence wins
    if not unique:
        return 0
    statement: Insert = _insert(connection, POSTS).on_conflict_do_nothing(
        index_elements=["platform", "post_id"]).returning(POSTS.c.id)
    rows = [_post_row(p, dataset_id) for p in unique.values()]
    return len(connection.execute(statement, rows).all())


def _add_rejections(connection: Connection, dataset_id: int, already: int,
                    rejected: Sequence[Rejected]) -> None:
    room = KEPT_REJECTIONS - already
    if room <= 0 or not rejected:
        return
    connection.execute(REJECTIONS.insert(), [
        {"dataset_id": dataset_id, "source": r.source[:512], "line": r.line,
         "field": r.field[:255], "message": r.message[:2000]} for r in rejected[:room]])


def write_batch(engine: Engine, dataset_id: int, *, posts: Sequence[Post],
                accounts: Sequence[Account], rejected: Sequence[Rejected],
                rejected_before: int) -> BatchResult:
    """Store one batch and the dataset's new counts in one transaction."""
    with engine.begin() as connection:
        _upsert_accounts(connection, _merged_accounts(posts, accounts))
        stored = _insert_posts(connection, posts, dataset_id)
        _add_rejections(connection, dataset_id, rejected_before, rejected)
        result = BatchResult(stored=stored, duplicates=len(posts) - stored)
        connection.execute(update(DATASETS).where(DATASETS.c.id == dataset_id).values(
            read=DATASETS.c.read + len(posts) + len(rejected),
            stored=DATASETS.c.stored + result.stored,
            duplicates=DATASETS.c.duplicates + result.duplicates,
            rejected=DATASETS.c.rejected + len(rejected)))
    return result


def finish_dataset(engine: Engine, dataset_id: int, status: str,
                   error: str | None = None) -> DatasetRow:
    """Close a dataset. ``complete`` recounts ``stored`` from the posts it owns, so a redone
    (resumed) ingest reports what it stored in all its attempts, not only in the last."""
    with engine.begin() as connection:
        values: dict[str, Any] = {"status": status, "error": error, "finished_at": _now()}
        if status == "complete":
            owned = connection.execute(select(func.count()).select_from(POSTS).where(
                POSTS.c.dataset_id == dataset_id)).scalar_one()
            values["stored"] = owned
            values["duplicates"] = DATASETS.c.read - DATASETS.c.rejected - owned
        connection.execute(update(DATASETS).where(DATASETS.c.id == dataset_id).values(**values))
        row = connection.execute(select(DATASETS).where(DATASETS.c.id == dataset_id)).one()
    return DatasetRow(**row._mapping)


def discard_dataset_posts(engine: Engine, dataset_id: int) -> int:
    """Delete the posts this dataset added (a failed ingest leaves the database as it was)."""
    with engine.begin() as connection:
        result = connection.execute(delete(POSTS).where(POSTS.c.dataset_id == dataset_id))
        return int(result.rowcount or 0)
