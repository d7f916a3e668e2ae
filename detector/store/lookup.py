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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Table, select, update
from sqlalchemy.engine import Connection

from detector.lookup import (
    DEFAULT_PARAMS,
    LookupAccount,
    LookupMatch,
    LookupParams,
    LookupResult,
    Tally,
    band_keys,
    band_rows,
    best,
    query_signature,
    same_index,
    top_accounts,
    verify,
)
from detector.store.reader import _as_time
from detector.store.rows import time_param
from detector.store.schema import LookupStateRow

__all__ = ["find_similar", "forget_dataset_posts", "update_lookup_index"]

STATE: Table = LookupStateRow.__table__  # type: ignore[assignment]
_STATE_ID = 1
_MAX_PAGES = 4          # pages of candidates read when filters (dataset, time) drop many
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
        _insert_bands(connection, rows[:, 0].tolist(), rows[:, 1].tolist())
        # never backwards: a concurrent updater on SQLite may have gone further meanwhile
        connection.execute(update(STATE).where(STATE.c.id == _STATE_ID, STATE.c.last_post_ref < refs[-1])
                           .values(last_post_ref=refs[-1]))
    return len(posts), len(rows) // params.bands


def _insert_bands(connection: Connection, keys: list[int], refs: list[int]) -> None:
    """Insert rows ``(keys[i], refs[i])``, sorted (sequential b-tree inserts are much faster).

    PostgreSQL gets them as two arrays in one statement: with executemany, which sends a
    statement per row, indexing was three times slower (2,100 posts/s; bench/bench_lookup.py).
    """
    if not keys:
        return
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(
            "INSERT INTO lookup_bands (band_key, post_ref) SELECT * FROM unnest(%s::bigint[], %s::bigint[]) "
            "ON CONFLICT DO NOTHING", (keys, refs))
        return
    connection.exec_driver_sql(
        "INSERT INTO lookup_bands (band_key, post_ref) VALUES (?, ?) ON CONFLICT DO NOTHING",
        list(zip(keys, refs, strict=True)))


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


def forget_posts_before(connection: Connection, cutoff: datetime) -> int:
    """Delete the index rows of posts made before ``cutoff`` (in the transaction that deletes
    those posts, before it does); moves the watermark back as ``forget_dataset_posts`` does."""
    mark = _mark(connection)
    cutoff_param = time_param(connection.dialect.name)(cutoff)
    deleted = connection.exec_driver_sql(
        f"DELETE FROM lookup_bands WHERE post_ref IN (SELECT id FROM posts WHERE created_at < {mark})",
        (cutoff_param,))
    newest_kept = connection.exec_driver_sql(
        f"SELECT MAX(id) FROM posts WHERE created_at >= {mark}", (cutoff_param,)).scalar()
    connection.execute(update(STATE).where(STATE.c.last_post_ref > int(newest_kept or 0))
                       .values(last_post_ref=int(newest_kept or 0)))
    return int(deleted.rowcount or 0)


# --- answering lookups ---------------------------------------------------------------------------
# A text relayed thousands of times has thousands of candidates: each is read once with what
# verification and the account counts need, into columns; texts are verified once per distinct
# text, and only what is shown becomes objects. Rows come from the driver's own cursor:
# SQLAlchemy's Row costs a microsecond each.

@dataclass
class _Candidates:
    """Candidate posts in id order, as columns: thousands of rows leave no objects behind for
    the garbage collector (see :func:`detector.lookup.top_accounts`)."""

    ids: list[int] = field(default_factory=list)
    times: list[Any] = field(default_factory=list)      # as stored: they sort in time order
    texts: list[str] = field(default_factory=list)
    platforms: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)
    handles: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, positions: Sequence[int]) -> _Candidates:
        return _Candidates(*([column[i] for i in positions] for column in self._columns()))

    def head(self, count: int) -> _Candidates:
        return _Candidates(*(column[:count] for column in self._columns()))

    def _columns(self) -> list[list[Any]]:
        return [self.ids, self.times, self.texts, self.platforms, self.account_ids, self.handles]


@dataclass(frozen=True)
class _Scope:
    """What a match must be: a post of a complete dataset, created in ``[since, until)``.

    Tested here rather than in SQL: without table statistics (a freshly loaded PostgreSQL)
    the planner would start from the dataset or time index and read every post they hold.
    """

    complete: frozenset[int]
    since: Any              # as the database stores times, so that they compare with its values
    until: Any

    def keep(self, dataset_id: int, created_at: Any) -> bool:
        return (dataset_id in self.complete
                and (self.since is None or created_at >= self.since)
                and (self.until is None or created_at < self.until))


def find_similar(engine: Engine, text: str, params: LookupParams = DEFAULT_PARAMS, *,
                 since: datetime | None = None, until: datetime | None = None,
                 limit: int = 50) -> LookupResult:
    """Stored posts of complete datasets, created in ``[since, until)``, whose text is a
    near-duplicate of ``text`` (estimated Jaccard >= ``params.threshold``), and their accounts.

    Raises :class:`detector.errors.LookupTextTooShort` for a text without words of its own.
    At most ``params.max_candidates`` candidates (the first by post id) are verified; more set
    ``truncated``. An index built with other settings answers nothing (all posts unindexed).
    """
    if limit < 0:
        raise ValueError(f"limit must be 0 or more, got {limit!r}")
    query = query_signature(text, params)
    keys: list[int] = band_keys(query[None, :], params)[0].tolist()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # without statistics (a fresh index) the band union looks costly enough for
            # PostgreSQL to compile it to machine code first: 30 ms, for a query of one
            connection.exec_driver_sql("SET LOCAL jit = off")
        scope = _scope(connection, since, until)
        last = _usable_watermark(connection, params)
        unindexed = _count_posts_after(connection, last)
        if last == 0 or not scope.complete:
            return LookupResult(matches=[], total_matches=0, accounts=[], total_accounts=0,
                                candidates_checked=0, truncated=False, indexed_through=last,
                                unindexed_posts=unindexed)
        candidates, truncated = _candidates(connection, keys, scope, params.max_candidates)
        positions, similarity = verify(query, candidates.texts, params)
        matched = candidates.take(positions)
        shown = best(similarity, matched.times, limit)
        matches = _matches(connection, [matched.ids[i] for i in shown], [similarity[i] for i in shown])
    accounts, total_accounts = top_accounts(matched.platforms, matched.account_ids, matched.handles,
                                            matched.times, limit)
    return LookupResult(matches=matches, total_matches=len(matched), accounts=[_account(t) for t in accounts],
                        total_accounts=total_accounts, candidates_checked=len(candidates),
                        truncated=truncated, indexed_through=last, unindexed_posts=unindexed)


def _account(tally: Tally) -> LookupAccount:
    return LookupAccount(tally.platform, tally.account_id, tally.handle, tally.posts,
                         _as_time(tally.first_at), _as_time(tally.last_at))


def _scope(connection: Connection, since: datetime | None, until: datetime | None) -> _Scope:
    for moment in (since, until):
        if moment is not None and moment.tzinfo is None:
            raise ValueError(f"since and until must be timezone-aware (UTC), got {moment.isoformat()}")
    bind = time_param(connection.dialect.name)
    complete = connection.exec_driver_sql("SELECT id FROM datasets WHERE status = 'complete'")
    return _Scope(frozenset(complete.scalars()), bind(since), bind(until))


def _usable_watermark(connection: Connection, params: LookupParams) -> int:
    """The watermark of an index built with ``params``' settings; 0 if none is."""
    row = connection.execute(select(STATE.c.last_post_ref, STATE.c.params)
                             .where(STATE.c.id == _STATE_ID)).first()
    if row is None or not same_index(row.params, params):
        return 0
    return int(row.last_post_ref)


def _count_posts_after(connection: Connection, last: int) -> int:
    """Posts with an id above ``last``; the newest id first, as the index is usually up to date
    (and a count with no table statistics may read every post)."""
    newest = connection.exec_driver_sql("SELECT MAX(id) FROM posts").scalar()
    if newest is None or newest <= last:
        return 0
    count = connection.exec_driver_sql(f"SELECT COUNT(*) FROM posts WHERE id > {_mark(connection)}", (last,))
    return int(count.scalar_one())


def _fetch(connection: Connection, sql: str, values: Sequence[Any]) -> list[Any]:
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql, tuple(values))
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _candidates(connection: Connection, keys: Sequence[int], scope: _Scope,
                cap: int) -> tuple[_Candidates, bool]:
    """The first ``cap`` candidates by post id in ``scope``, and whether there are more.

    Reads a page of post ids at a time; after ``_MAX_PAGES`` pages (the scope dropping most of
    a huge bucket) the search stops and says it was truncated.
    """
    found = _Candidates()
    after = 0
    for _ in range(_MAX_PAGES):
        refs = _candidate_refs(connection, keys, after, cap + 1)
        _read_candidates(connection, refs, scope, found)
        if len(found) > cap:
            return found.head(cap), True
        if len(refs) <= cap:
            return found, False
        after = refs[-1]
    return found, True


def _candidate_refs(connection: Connection, keys: Sequence[int], after: int, count: int) -> list[int]:
    """The first ``count`` post ids above ``after`` that share a band key with the query.

    The keys' ranges are already in post order in the primary key: SQLite merges them without
    sorting and stops at the LIMIT (``EXPLAIN QUERY PLAN``: MERGE (UNION)), so a text relayed
    100,000 times costs at most ``count`` rows per key.
    """
    mark = _mark(connection)
    sql = " UNION ".join([f"SELECT post_ref FROM lookup_bands WHERE band_key = {mark} AND post_ref > {mark}"]
                         * len(keys)) + f" ORDER BY 1 LIMIT {mark}"
    values = [value for key in keys for value in (key, after)] + [count]
    return [ref for (ref,) in _fetch(connection, sql, values)]


def _read_candidates(connection: Connection, refs: list[int], scope: _Scope, into: _Candidates) -> None:
    """Append the posts ``refs`` (those still stored) in ``scope`` to ``into``, in id order."""
    if not refs:
        return
    ids, values = _one_of(connection, "id", refs)
    cursor = connection.connection.cursor()
    try:
        cursor.execute("SELECT id, dataset_id, created_at, text, platform, account_id, handle "
                       f"FROM posts WHERE {ids} ORDER BY id", tuple(values))
        while rows := cursor.fetchmany(256):     # a few rows alive at a time
            for ref, dataset_id, created_at, text, platform, account_id, handle in rows:
                if scope.keep(dataset_id, created_at):
                    into.ids.append(ref)
                    into.times.append(created_at)
                    into.texts.append(text or "")
                    into.platforms.append(platform)
                    into.account_ids.append(account_id)
                    into.handles.append(handle)
    finally:
        cursor.close()


def _one_of(connection: Connection, column: str, values: Sequence[int]) -> tuple[str, list[Any]]:
    """``column`` is one of ``values``: one array on PostgreSQL, a list of values on SQLite."""
    if connection.dialect.name == "postgresql":
        return f"{column} = ANY({_mark(connection)})", [list(values)]
    return f"{column} IN ({', '.join([_mark(connection)] * len(values))})", list(values)


def _matches(connection: Connection, refs: list[int], similarity: list[float]) -> list[LookupMatch]:
    """The posts ``refs`` as matches, in that order."""
    if not refs:
        return []
    ids, values = _one_of(connection, "id", refs)
    rows = connection.exec_driver_sql(
        "SELECT id, platform, post_id, account_id, handle, created_at, text, repost_of "
        f"FROM posts WHERE {ids}", tuple(values))
    by_ref = {row.id: row for row in rows}
    return [LookupMatch(platform=row.platform, post_id=row.post_id, account_id=row.account_id,
                        handle=row.handle, created_at=_as_time(row.created_at), text=row.text or "",
                        similarity=value, repost_of=row.repost_of)
            for row, value in ((by_ref[ref], value) for ref, value in zip(refs, similarity, strict=True))]
