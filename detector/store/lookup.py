"""The text-lookup index in the database: keep it up to date, forget deleted posts, answer lookups.

The only module with SQL for ``lookup_bands`` and ``lookup_state``. The index holds one row per
(band key, post) for every post with ``posts.id <= lookup_state.last_post_ref`` (the watermark)
that has text of its own; band keys come from :mod:`detector.lookup`. The watermark assumes
posts become visible in id order: true on SQLite (one writer at a time) and on PostgreSQL as
long as two ingests do not commit batches at the same moment (a post committed late with a
smaller id than one already indexed would be skipped until the index is rebuilt).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Engine, Table, select, update
from sqlalchemy.engine import Connection

from detector.lookup import (
    DEFAULT_PARAMS,
    LookupParams,
    LookupResult,
    accounts_of,
    band_keys,
    band_rows,
    best_matches,
    query_signature,
    same_index,
    verified,
)
from detector.store.reader import _as_time
from detector.store.schema import LookupBandRow, LookupStateRow

__all__ = ["find_similar", "forget_dataset_posts", "update_lookup_index"]

BANDS: Table = LookupBandRow.__table__  # type: ignore[assignment]
STATE: Table = LookupStateRow.__table__  # type: ignore[assignment]
_STATE_ID = 1
_MAX_PAGES = 4          # pages of candidates read when filters (dataset, time) drop many
_FETCH_CHUNK = 10_000   # post ids per query: under SQLite's and PostgreSQL's parameter limits
Progress = Callable[[int], None]


def _mark(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


# --- keeping the index up to date ---------------------------------------------------------------

def update_lookup_index(engine: Engine, params: LookupParams = DEFAULT_PARAMS, *, batch: int = 20_000,
                        progress: Progress | None = None) -> int:
    """Index every post stored since the last update; returns how many posts got band rows.

    Posts are read in id order, ``batch`` at a time, and each batch's rows and the advanced
    watermark are committed together: a rerun after a crash redoes at most one batch, harmlessly.
    An index built with other settings (fingerprint, bands) is wiped and rebuilt. Posts without
    text of their own (empty, a link alone) are skipped. ``progress`` gets the posts read.
    """
    if batch < 1:
        raise ValueError(f"batch must be a positive number of posts (20000 is usual), got {batch!r}")
    _ensure_state(engine, params)
    indexed = 0
    while (step := _index_batch(engine, params, batch)) is not None:
        read, kept = step
        indexed += kept
        if progress is not None:
            progress(read)
    return indexed


def _ensure_state(engine: Engine, params: LookupParams) -> None:
    """Create the state row, or wipe the index if it was built with other settings."""
    with engine.begin() as connection:
        stored = connection.execute(select(STATE.c.params).where(STATE.c.id == _STATE_ID)
                                    .with_for_update()).scalar_one_or_none()
        if stored is None:
            connection.execute(STATE.insert().values(id=_STATE_ID, last_post_ref=0, params=params.to_json()))
        elif not same_index(stored, params):
            # TRUNCATE is PostgreSQL's instant form; SQLite's DELETE without WHERE is its own
            wipe = "TRUNCATE lookup_bands" if connection.dialect.name == "postgresql" else \
                "DELETE FROM lookup_bands"
            connection.exec_driver_sql(wipe)
            connection.execute(update(STATE).where(STATE.c.id == _STATE_ID)
                               .values(last_post_ref=0, params=params.to_json()))


def _index_batch(engine: Engine, params: LookupParams, batch: int) -> tuple[int, int] | None:
    """Index the next ``batch`` posts past the watermark: ``(posts read, posts indexed)``, or
    None when there are none."""
    with engine.begin() as connection:
        # FOR UPDATE (PostgreSQL): a second updater waits here instead of redoing this batch
        last = connection.execute(select(STATE.c.last_post_ref).where(STATE.c.id == _STATE_ID)
                                  .with_for_update()).scalar_one()
        mark = _mark(connection)
        posts = connection.exec_driver_sql(
            f"SELECT id, text FROM posts WHERE id > {mark} ORDER BY id LIMIT {mark}", (last, batch)).all()
        if not posts:
            return None
        refs = [post.id for post in posts]
        rows = band_rows(refs, [post.text or "" for post in posts], params)
        _insert_bands(connection, rows.tolist())
        # never backwards: a concurrent updater on SQLite may have gone further meanwhile
        connection.execute(update(STATE).where(STATE.c.id == _STATE_ID, STATE.c.last_post_ref < refs[-1])
                           .values(last_post_ref=refs[-1]))
    return len(posts), len(rows) // params.bands


def _insert_bands(connection: Connection, rows: list[list[int]]) -> None:
    """Insert ``(band_key, post_ref)`` rows (sorted: sequential b-tree inserts are much faster)."""
    if not rows:
        return
    mark = _mark(connection)
    connection.exec_driver_sql(
        f"INSERT INTO lookup_bands (band_key, post_ref) VALUES ({mark}, {mark}) ON CONFLICT DO NOTHING",
        list(map(tuple, rows)))


def forget_dataset_posts(target: Connection | Engine, dataset_id: int) -> int:
    """Delete the index rows of a dataset's posts; returns how many. Call it in the transaction
    that deletes the dataset, before its posts are deleted (an Engine gets its own transaction).

    Also moves the watermark back below the dataset's posts if they were the newest: SQLite
    hands their ids to the next posts stored, which must then be indexed.
    """
    if isinstance(target, Engine):
        with target.begin() as connection:
            return forget_dataset_posts(connection, dataset_id)
    mark = _mark(target)
    low, high = target.exec_driver_sql(
        f"SELECT MIN(id), MAX(id) FROM posts WHERE dataset_id = {mark}", (dataset_id,)).one()
    if low is None:
        return 0
    # post_ref is not the index's first column: this scans the index once (the range test is cheap)
    deleted = target.exec_driver_sql(
        f"DELETE FROM lookup_bands WHERE post_ref BETWEEN {mark} AND {mark} "
        f"AND post_ref IN (SELECT id FROM posts WHERE dataset_id = {mark})", (low, high, dataset_id))
    others = target.exec_driver_sql(
        f"SELECT id FROM posts WHERE dataset_id <> {mark} ORDER BY id DESC LIMIT 1", (dataset_id,)).scalar()
    newest_kept = int(others or 0)
    target.execute(update(STATE).where(STATE.c.last_post_ref > newest_kept).values(last_post_ref=newest_kept))
    return int(deleted.rowcount or 0)


# --- answering lookups ---------------------------------------------------------------------------

class _Post(NamedTuple):
    """A candidate post as read (satisfies :class:`detector.lookup.Candidate`)."""

    id: int
    dataset_id: int
    platform: str
    post_id: str
    account_id: str
    handle: str | None
    created_at: datetime
    text: str
    repost_of: str | None


@dataclass(frozen=True)
class _Filters:
    complete: frozenset[int]        # ids of complete datasets
    since: datetime | None
    until: datetime | None

    def keep(self, post: _Post) -> bool:
        return (post.dataset_id in self.complete
                and (self.since is None or post.created_at >= self.since)
                and (self.until is None or post.created_at < self.until))


def find_similar(engine: Engine, text: str, params: LookupParams = DEFAULT_PARAMS, *,
                 since: datetime | None = None, until: datetime | None = None,
                 limit: int = 50) -> LookupResult:
    """Stored posts of complete datasets, created in ``[since, until)``, whose text is a
    near-duplicate of ``text`` (estimated Jaccard >= ``params.threshold``).

    Raises :class:`detector.errors.LookupTextTooShort` for a text without words of its own.
    At most ``params.max_candidates`` candidates (the first by post id) are verified; more set
    ``truncated``. An index built with other settings answers nothing (all posts unindexed).
    """
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit!r}")
    query = query_signature(text, params)
    keys: list[int] = band_keys(query[None, :], params)[0].tolist()
    with engine.connect() as connection:
        last = _usable_watermark(connection, params)
        unindexed = _count_posts_after(connection, last)
        if last == 0:
            return LookupResult([], 0, [], 0, False, 0, unindexed)
        filters = _Filters(_complete_datasets(connection), since, until)
        candidates, truncated = _candidates(connection, keys, filters, params.max_candidates)
    matched, similarity = verified(query, candidates, params)
    return LookupResult(best_matches(matched, similarity, limit), len(matched), accounts_of(matched),
                        len(candidates), truncated, last, unindexed)


def _usable_watermark(connection: Connection, params: LookupParams) -> int:
    """The watermark of an index built with ``params``' settings; 0 if none is."""
    row = connection.execute(select(STATE.c.last_post_ref, STATE.c.params)
                             .where(STATE.c.id == _STATE_ID)).first()
    if row is None or not same_index(row.params, params):
        return 0
    return int(row.last_post_ref)


def _count_posts_after(connection: Connection, last: int) -> int:
    count = connection.exec_driver_sql(f"SELECT COUNT(*) FROM posts WHERE id > {_mark(connection)}", (last,))
    return int(count.scalar_one())


def _complete_datasets(connection: Connection) -> frozenset[int]:
    return frozenset(connection.exec_driver_sql(
        "SELECT id FROM datasets WHERE status = 'complete'").scalars())


def _fetch(connection: Connection, sql: str, values: Sequence[Any]) -> list[Any]:
    """Rows as the driver gives them: SQLAlchemy's Row costs a microsecond each, and a
    relayed text has thousands of candidates."""
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(values))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _candidates(connection: Connection, keys: Sequence[int], filters: _Filters,
                cap: int) -> tuple[list[_Post], bool]:
    """The first ``cap`` candidates by post id that pass ``filters``, and whether there are more.

    Reads a page of post ids at a time; after ``_MAX_PAGES`` pages (filters dropping most of a
    huge bucket) the search stops and says it was truncated.
    """
    found: list[_Post] = []
    after = 0
    for _ in range(_MAX_PAGES):
        refs = _candidate_refs(connection, keys, after, cap + 1)
        found.extend(post for post in _read_posts(connection, refs) if filters.keep(post))
        if len(found) > cap:
            return found[:cap], True
        if len(refs) <= cap:
            return found, False
        after = refs[-1]
    return found, True


def _candidate_refs(connection: Connection, keys: Sequence[int], after: int, count: int) -> list[int]:
    """The first ``count`` post ids above ``after`` that share a band key with the query.

    One UNION of the keys' ranges, each already in post order in the primary key: SQLite
    merges them without sorting and stops at the LIMIT, so a text relayed 100,000 times
    costs ``count`` rows per key, not 100,000 (see ``EXPLAIN QUERY PLAN``: MERGE (UNION)).
    """
    mark = _mark(connection)
    sql = " UNION ".join([f"SELECT post_ref FROM lookup_bands WHERE band_key = {mark} AND post_ref > {mark}"]
                         * len(keys)) + f" ORDER BY 1 LIMIT {mark}"
    values = [value for key in keys for value in (key, after)] + [count]
    return [ref for (ref,) in _fetch(connection, sql, values)]


def _read_posts(connection: Connection, refs: list[int]) -> list[_Post]:
    """The posts with these ids (those still stored), in id order."""
    found: list[_Post] = []
    for start in range(0, len(refs), _FETCH_CHUNK):
        chunk = refs[start:start + _FETCH_CHUNK]
        marks = ", ".join([_mark(connection)] * len(chunk))
        rows = _fetch(connection, f"SELECT {_POST_COLUMNS} FROM posts WHERE id IN ({marks})", chunk)
        # columns in _Post's order; the time and a missing text made what _Post says
        found.extend(_Post._make((*row[:6], _as_time(row[6]), row[7] or "", row[8])) for row in rows)
    return sorted(found, key=lambda post: post.id)


_POST_COLUMNS = ", ".join(_Post._fields)
