"""Write ingested records: datasets, batches of posts and accounts, rejections. Idempotent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Table, delete, func, select, update
from sqlalchemy.engine import Connection

from detector.records import Rejected
from detector.store.bulk import copy_rows, insert_many
from detector.store.rows import ACCOUNT_COLUMNS, ACCOUNT_FIELDS, POST_COLUMNS, PreparedBatch, Row
from detector.store.schema import AccountRow, AccountUndoRow, DatasetRow, PostRow, RejectionRow

POSTS: Table = PostRow.__table__  # type: ignore[assignment]
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[assignment]
DATASETS: Table = DatasetRow.__table__  # type: ignore[assignment]
REJECTIONS: Table = RejectionRow.__table__  # type: ignore[assignment]
UNDO: Table = AccountUndoRow.__table__  # type: ignore[assignment]
KEPT_REJECTIONS = 1000
COPY_ON_POSTGRES = True
"""On PostgreSQL, store posts through COPY into a staging table, then one INSERT ... SELECT;
False: one INSERT per row (executemany), as on SQLite. ``bench/bench_ingest.py --postgres``
measures both."""
STAGING = "cib_posts_in"


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


def pseudonym_keys(engine: Engine) -> set[str | None]:
    """The pseudonymization key ids (None: none) of the datasets whose posts are in the database."""
    with engine.connect() as connection:
        rows = connection.execute(select(DATASETS.c.pseudonym_key).distinct()
                                  .where(DATASETS.c.status != "failed"))
        return {row[0] for row in rows}


def start_dataset(engine: Engine, *, name: str, sha256: str, size_bytes: int, fmt: str,
                  reuse: int | None = None, pseudonym_key: str | None = None) -> int:
    """Create a ``running`` dataset row, or reset the unfinished row ``reuse`` to redo it."""
    values = dict(name=name, sha256=sha256, size_bytes=size_bytes, format=fmt, status="running",
                  read=0, stored=0, duplicates=0, rejected=0, error=None, started_at=_now(),
                  finished_at=None, pseudonym_key=pseudonym_key)
    with engine.begin() as connection:
        if reuse is not None:
            connection.execute(update(DATASETS).where(DATASETS.c.id == reuse).values(**values))
            connection.execute(delete(REJECTIONS).where(REJECTIONS.c.dataset_id == reuse))
            return reuse
        created = connection.execute(DATASETS.insert().values(**values)).inserted_primary_key
        assert created is not None
        return int(created[0])


def _placeholders(connection: Connection, count: int) -> str:
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def _remember_accounts(connection: Connection, dataset_id: int, rows: list[Row]) -> None:
    """Before a batch changes accounts: keep what they were (or that they did not exist), once
    per dataset, so a failed ingest can put them back (``restore_accounts``)."""
    if not rows:
        return
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    fields = ", ".join(ACCOUNT_FIELDS)
    keys = [(dataset_id, row[0], row[1]) for row in rows]
    connection.exec_driver_sql(
        f"INSERT INTO account_undo (dataset_id, platform, account_id, existed, {fields}) "
        f"SELECT {mark}, platform, account_id, TRUE, {fields} FROM accounts "
        f"WHERE platform = {mark} AND account_id = {mark} ON CONFLICT DO NOTHING", keys)
    connection.exec_driver_sql(
        f"INSERT INTO account_undo (dataset_id, platform, account_id, existed) "
        f"VALUES ({mark}, {mark}, {mark}, FALSE) ON CONFLICT DO NOTHING", keys)


def restore_accounts(connection: Connection, dataset_id: int) -> None:
    """Put back the accounts a failed dataset changed, drop those it created (unless another
    dataset's posts name them), and forget its undo rows."""
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sets = ", ".join(f"{f} = u.{f}" for f in ACCOUNT_FIELDS)
    connection.exec_driver_sql(
        f"UPDATE accounts SET {sets} FROM account_undo u WHERE u.dataset_id = {mark} AND u.existed "
        "AND accounts.platform = u.platform AND accounts.account_id = u.account_id", (dataset_id,))
    connection.exec_driver_sql(
        f"DELETE FROM accounts WHERE EXISTS (SELECT 1 FROM account_undo u WHERE u.dataset_id = {mark} "
        "AND NOT u.existed AND u.platform = accounts.platform AND u.account_id = accounts.account_id) "
        "AND NOT EXISTS (SELECT 1 FROM posts p WHERE p.platform = accounts.platform "
        "AND p.account_id = accounts.account_id)", (dataset_id,))
    connection.execute(delete(UNDO).where(UNDO.c.dataset_id == dataset_id))


def _upsert_accounts(connection: Connection, rows: list[Row]) -> None:
    if not rows:
        return
    updates = ", ".join(f"{f} = COALESCE(excluded.{f}, accounts.{f})" for f in ACCOUNT_FIELDS)
    connection.exec_driver_sql(
        f"INSERT INTO accounts ({', '.join(ACCOUNT_COLUMNS)}) "
        f"VALUES ({_placeholders(connection, len(ACCOUNT_COLUMNS))}) "
        f"ON CONFLICT (platform, account_id) DO UPDATE SET {updates}", rows)


def _insert_posts(connection: Connection, rows: list[Row], dataset_id: int) -> int:
    """Insert posts not already stored; returns how many were new. Bypasses the ORM on purpose:
    its per-value processing cost more than parsing the dump (measured with bench/)."""
    if not rows:
        return 0
    if COPY_ON_POSTGRES and connection.dialect.name == "postgresql":
        return _copy_posts(connection, rows, dataset_id)
    return insert_many(connection, f"INSERT INTO posts ({', '.join(POST_COLUMNS)}, dataset_id)", rows,
                       row=f"({', '.join('?' * len(POST_COLUMNS))}, {int(dataset_id)})",
                       tail="ON CONFLICT (platform, post_id) DO NOTHING")


def _copy_posts(connection: Connection, rows: list[Row], dataset_id: int) -> int:
    """``_insert_posts`` on PostgreSQL: COPY the rows into a temporary staging table with the
    posts' own column types (so each value goes through the same input function as with
    executemany), then insert those not already stored, in the caller's transaction.

    The staging table is created once per session; ``ON COMMIT DELETE ROWS`` empties it at each
    commit and a rollback takes back what a failed batch copied into it (and the table itself
    if that batch created it, hence the check on every batch). Rows are inserted in the order
    copied (a sequential scan of a table filled in this transaction), so ids follow the batch
    and, within the batch, the first of two rows with the same post id wins, as with executemany.
    """
    columns = ", ".join(POST_COLUMNS)
    connection.exec_driver_sql(
        f"DO $$ BEGIN IF to_regclass('pg_temp.{STAGING}') IS NULL THEN "
        f"CREATE TEMP TABLE {STAGING} ON COMMIT DELETE ROWS AS SELECT {columns} FROM posts "
        "WITH NO DATA; END IF; END $$")
    copy_rows(connection, f"COPY {STAGING} ({columns}) FROM STDIN", rows)
    result = connection.exec_driver_sql(
        f"INSERT INTO posts ({columns}, dataset_id) SELECT {columns}, {int(dataset_id)} "
        f"FROM {STAGING} ON CONFLICT (platform, post_id) DO NOTHING")
    return int(result.rowcount)


def _add_rejections(connection: Connection, dataset_id: int, already: int,
                    rejected: Sequence[Rejected]) -> None:
    room = KEPT_REJECTIONS - already
    if room <= 0 or not rejected:
        return
    connection.execute(REJECTIONS.insert(), [
        {"dataset_id": dataset_id, "source": r.source[:512], "line": r.line,
         "field": r.field[:255], "message": r.message[:2000]} for r in rejected[:room]])


def write_batch(engine: Engine, dataset_id: int, batch: PreparedBatch,
                rejected_before: int) -> BatchResult:
    """Store one prepared batch and the dataset's new counts in one transaction."""
    with engine.begin() as connection:
        _remember_accounts(connection, dataset_id, batch.accounts)
        _upsert_accounts(connection, batch.accounts)
        stored = _insert_posts(connection, batch.posts, dataset_id)
        _add_rejections(connection, dataset_id, rejected_before, batch.rejected)
        result = BatchResult(stored=stored, duplicates=batch.read_posts - stored)
        connection.execute(update(DATASETS).where(DATASETS.c.id == dataset_id).values(
            read=DATASETS.c.read + batch.read,
            stored=DATASETS.c.stored + result.stored,
            duplicates=DATASETS.c.duplicates + result.duplicates,
            rejected=DATASETS.c.rejected + len(batch.rejected)))
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
            connection.execute(delete(UNDO).where(UNDO.c.dataset_id == dataset_id))
        connection.execute(update(DATASETS).where(DATASETS.c.id == dataset_id).values(**values))
        row = connection.execute(select(DATASETS).where(DATASETS.c.id == dataset_id)).one()
    return DatasetRow(**row._mapping)


def discard_dataset_posts(engine: Engine, dataset_id: int) -> int:
    """Delete the posts this dataset added and put back the accounts it changed (a failed
    ingest leaves the database as it was)."""
    from detector.store.lookup import forget_dataset_posts  # the index imports the fingerprints

    with engine.begin() as connection:
        forget_dataset_posts(connection, dataset_id)
        result = connection.execute(delete(POSTS).where(POSTS.c.dataset_id == dataset_id))
        restore_accounts(connection, dataset_id)
        return int(result.rowcount or 0)
