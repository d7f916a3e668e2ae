"""Write ingested records: datasets, batches of posts and accounts, rejections. Idempotent."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine, Table, delete, func, select, update
from sqlalchemy.engine import Connection

from detector.records import Account, Post, Rejected
from detector.store.schema import AccountRow, DatasetRow, PostRow, RejectionRow

POSTS: Table = PostRow.__table__  # type: ignore[assignment]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[assignment]
DATASETS: Table = DatasetRow.__table__  # type: ignore[assignment]
REJECTIONS: Table = RejectionRow.__table__  # type: ignore[assignment]
KEPT_REJECTIONS = 1000
ACCOUNT_FIELDS = ("handle", "name", "created_at", "followers", "following", "posts_count")


class KnownAccounts(set[tuple[str, str]]):
    """Accounts one ingest has written already, so later batches skip rows that add nothing.

    Bounded: past ``limit`` it forgets, and an account may be written twice (harmlessly).
    """

    def __init__(self, limit: int = 500_000) -> None:
        super().__init__()
        self.limit = limit

    def update(self, *keys: Iterable[tuple[str, str]]) -> None:
        if len(self) > self.limit:
            self.clear()
        super().update(*keys)


@dataclass(frozen=True)
class BatchResult:
    stored: int
    duplicates: int


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


POST_COLUMNS = ("platform", "post_id", "account_id", "handle", "created_at", "text", "repost_of",
                "reply_to", "quote_of", "urls", "hashtags", "mentions", "lang", "client",
                "dataset_id")
ACCOUNT_COLUMNS = ("platform", "account_id") + ACCOUNT_FIELDS
TimeParam = Callable[[datetime | None], object]


def _time_param(dialect: str) -> TimeParam:
    """How a UTC datetime is bound: what ``UTCDateTime`` does, without its per-value overhead.

    SQLite stores SQLAlchemy's text form (``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC), so these
    rows sort and compare exactly like rows written through the ORM.
    """
    if dialect == "sqlite":
        return lambda t: None if t is None else t.astimezone(UTC).replace(tzinfo=None).isoformat(
            sep=" ", timespec="microseconds")
    return lambda t: t


def _placeholders(connection: Connection, count: int) -> str:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def _json_list(values: tuple[str, ...]) -> str:
    return orjson.dumps(values).decode() if values else "[]"


def _post_params(post: Post, dataset_id: int, time: TimeParam) -> tuple[object, ...]:
    return (post.platform, post.post_id, post.account_id, post.handle, time(post.created_at),
            post.text, post.repost_of, post.reply_to, post.quote_of, _json_list(post.urls),
            _json_list(post.hashtags), _json_list(post.mentions), post.lang, post.client,
            dataset_id)


def _merged_accounts(posts: Iterable[Post], accounts: Iterable[Account],
                     known: KnownAccounts) -> dict[tuple[str, str], list[Any]]:
    """One row per account: what the dump said about it, or at least its id and handle
    (unless this ingest already wrote that account)."""
    merged: dict[tuple[str, str], list[Any]] = {}
    for account in accounts:
        key = (account.platform, account.account_id)
        row = merged.get(key)
        fresh = [account.platform, account.account_id] + [getattr(account, f) for f in ACCOUNT_FIELDS]
        if row is None:
            merged[key] = fresh
        else:  # a later mention of the same account fills in what an earlier one lacked
            merged[key] = [new if new is not None else old for old, new in zip(row, fresh)]
    for post in posts:
        key = (post.platform, post.account_id)
        if key not in merged and key not in known:
            merged[key] = [post.platform, post.account_id, post.handle] + [None] * 5
    known.update(merged)
    return merged


def _upsert_accounts(connection: Connection, rows: Iterable[list[Any]]) -> None:
    time = _time_param(connection.dialect.name)
    created = ACCOUNT_COLUMNS.index("created_at")
    params = [tuple(time(v) if i == created else v for i, v in enumerate(row)) for row in rows]
    if not params:
        return
    updates = ", ".join(f"{f} = COALESCE(excluded.{f}, accounts.{f})" for f in ACCOUNT_FIELDS)
    connection.exec_driver_sql(
        f"INSERT INTO accounts ({', '.join(ACCOUNT_COLUMNS)}) "
        f"VALUES ({_placeholders(connection, len(ACCOUNT_COLUMNS))}) "
        f"ON CONFLICT (platform, account_id) DO UPDATE SET {updates}", params)


def _insert_posts(connection: Connection, posts: Sequence[Post], dataset_id: int) -> int:
    """Insert posts not already stored; returns how many were new. Bypasses the ORM on purpose:
    its per-value processing cost more than parsing the dump (measured with bench/)."""
    unique: dict[tuple[str, str], Post] = {}
    for post in posts:
        unique.setdefault((post.platform, post.post_id), post)  # the first occurrence wins
    if not unique:
        return 0
    time = _time_param(connection.dialect.name)
    result = connection.exec_driver_sql(
        f"INSERT INTO posts ({', '.join(POST_COLUMNS)}) "
        f"VALUES ({_placeholders(connection, len(POST_COLUMNS))}) "
        "ON CONFLICT (platform, post_id) DO NOTHING",
        [_post_params(p, dataset_id, time) for p in unique.values()])
    return int(result.rowcount)


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
                rejected_before: int, known: KnownAccounts | None = None) -> BatchResult:
    """Store one batch and the dataset's new counts in one transaction."""
    with engine.begin() as connection:
        merged = _merged_accounts(posts, accounts, KnownAccounts() if known is None else known)
        _upsert_accounts(connection, merged.values())
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
