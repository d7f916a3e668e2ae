"""The text-lookup index in the database: keep it up to date, forget deleted posts, answer lookups.

The only module with SQL for ``lookup_texts``, ``lookup_bands`` and ``lookup_state``. The index
holds a ``lookup_texts`` row (text key, post) for every post with ``posts.id <=
lookup_state.last_post_ref`` (the watermark) that has text of its own, and ``lookup_bands`` rows
(band key, text key) for every distinct normalized text those rows name: reposts and relays
repeat texts, so a text posted a thousand times is banded once. Band rows live exactly as long
as a text row names their text: forgetting posts deletes the bands of texts nobody else posted
(their keys recomputed from the posts' texts, so ``lookup_bands`` needs no index on text key).
Keys come from :mod:`detector.lookup`. The watermark assumes
posts become visible in id order: true on SQLite (one writer at a time) and on PostgreSQL as
long as two ingests do not commit batches at the same moment (a post committed late with a
smaller id than one already indexed would be skipped until the index is rebuilt).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, Table, select, update
from sqlalchemy.engine import Connection

from detector.fingerprint import FingerprintParams, Signatures
from detector.lookup import (
    DEFAULT_PARAMS,
    KeyBuffer,
    Keys,
    LookupAccount,
    LookupMatch,
    LookupParams,
    LookupResult,
    Tally,
    TextRows,
    band_keys,
    band_rows,
    best,
    fingerprinted_keys,
    query_signature,
    same_index,
    text_rows,
    top_accounts,
    verify,
)
from detector.normalize import normalize_text
from detector.records import PostText
from detector.store.bulk import insert_many
from detector.store.reader import _as_time
from detector.store.rows import time_param
from detector.store.schema import LookupStateRow

__all__ = ["find_similar", "forget_dataset_posts", "forget_posts_before", "index_fingerprinted",
           "unindexed_posts", "update_lookup_index"]

STATE: Table = LookupStateRow.__table__  # type: ignore[assignment]
_STATE_ID = 1
_MAX_PAGES = 4          # pages of candidates read when filters (dataset, time) drop many
_MAX_TEXTS = 10_000     # candidate texts per query; each has a post, so more are past any cap
_UNION_TEXTS = 64       # up to this many candidate texts, their post ranges are merged in SQL
_CHUNK = 10_000         # keys bound per statement (SQLite takes 32,766 values)
_INSERT_ROWS = 100_000  # index rows made Python objects at a time
DETECTION_BATCH = 500_000
"""Posts indexed per commit after a detection: every commit rewrites pages all over the band
table, so a month of posts (311k) goes in one; more go in several, to bound what one holds."""
Progress = Callable[[int], None]


def _mark(connection: Connection) -> str:
    return "?" if connection.dialect.paramstyle == "qmark" else "%s"


# --- keeping the index up to date ---------------------------------------------------------------

def update_lookup_index(engine: Engine, params: LookupParams = DEFAULT_PARAMS, *, batch: int = 20_000,
                        progress: Progress | None = None, keys: KeyBuffer | None = None) -> int:
    """Index every post stored since the last update; returns how many posts got a text row.

    Posts are read in id order, ``batch`` at a time, and each batch's rows and the advanced
    watermark are committed together: a rerun after a crash redoes at most one batch, harmlessly.
    Only texts not indexed yet are sketched and banded. An index built with other settings
    (fingerprint, bands, key version) is wiped and rebuilt. Posts without text of their own
    (empty, a link alone) are skipped. ``progress`` gets the posts read.

    ``keys``: keys already computed for some of these posts (detection computes them from its
    fingerprints: ``index_fingerprinted``); they are taken instead of normalizing and sketching
    those texts again, and emptied once taken. Posts without keys there are keyed here.
    """
    if batch < 1:
        raise ValueError(f"batch must be a positive number of posts (20000 is usual), got {batch!r}")
    _ensure_state(engine, params)
    indexed = 0
    usable = keys if keys is not None and keys.index is not None and same_index(keys.index, params) else None
    while (step := _index_batch(engine, params, batch, usable)) is not None:
        read, kept = step
        indexed += kept
        if progress is not None:
            progress(read)
    if keys is not None:
        keys.clear()                 # taken, or made for another index: of no use
    return indexed


def index_fingerprinted(engine: Engine, posts: Sequence[PostText], normal_of: Mapping[str, str],
                        sigs: Signatures | None, sig_rows: Mapping[str, int],
                        params: LookupParams = DEFAULT_PARAMS, *,
                        made_with: FingerprintParams | None = None) -> int:
    """``update_lookup_index`` after detection read ``posts``, normalized their texts and
    sketched some (see ``fingerprinted_keys``): what it made is taken, in commits of
    ``DETECTION_BATCH`` posts. A few new posts among many are keyed from their stored texts
    instead (keying every post would cost more). Returns how many posts got a text row.
    ``made_with``: the fingerprint settings ``sigs`` were made with; other than the index's,
    the texts are sketched anew."""
    if made_with is not None and made_with != params.fingerprint:
        sigs = None
    waiting = unindexed_posts(engine, params)
    if waiting == 0:
        return 0
    keys = fingerprinted_keys(posts, normal_of, sigs, sig_rows, params) if waiting * 4 >= len(posts) else None
    return update_lookup_index(engine, params, batch=DETECTION_BATCH, keys=keys)


def unindexed_posts(engine: Engine, params: LookupParams = DEFAULT_PARAMS) -> int:
    """How many stored posts the index does not cover yet (all of them when it was built with
    other settings than ``params``')."""
    with engine.connect() as connection:
        return _count_posts_after(connection, _usable_watermark(connection, params))


def _ensure_state(engine: Engine, params: LookupParams) -> None:
    """Create the state row, or wipe the index if it was built with other settings."""
    with engine.begin() as connection:
        stored = connection.execute(select(STATE.c.params).where(STATE.c.id == _STATE_ID)
                                    .with_for_update()).scalar_one_or_none()
        if stored is None:
            connection.execute(STATE.insert().values(id=_STATE_ID, last_post_ref=0, params=params.to_json()))
        elif not same_index(stored, params):
            _wipe(connection)
            connection.execute(update(STATE).where(STATE.c.id == _STATE_ID).values(params=params.to_json()))


def _wipe(connection: Connection) -> int:
    """Empty the index and move the watermark to 0; returns the rows deleted."""
    count = connection.exec_driver_sql(
        "SELECT (SELECT COUNT(*) FROM lookup_texts) + (SELECT COUNT(*) FROM lookup_bands)").scalar()
    for table in ("lookup_texts", "lookup_bands"):
        # TRUNCATE is PostgreSQL's instant form; SQLite's DELETE without WHERE is its own
        connection.exec_driver_sql(f"TRUNCATE {table}" if connection.dialect.name == "postgresql"
                                   else f"DELETE FROM {table}")
    connection.execute(update(STATE).where(STATE.c.id == _STATE_ID).values(last_post_ref=0))
    return int(count or 0)


def _index_batch(engine: Engine, params: LookupParams, batch: int,
                 keys: KeyBuffer | None = None) -> tuple[int, int] | None:
    """Index the next ``batch`` posts past the watermark: ``(posts read, posts indexed)``, or
    None when there are none; ``keys``: precomputed keys to take where they cover a post."""
    with engine.begin() as connection:
        # FOR UPDATE (PostgreSQL): a second updater waits here instead of redoing this batch
        last = connection.execute(select(STATE.c.last_post_ref).where(STATE.c.id == _STATE_ID)
                                  .with_for_update()).scalar_one()
        mark = _mark(connection)
        columns = "id" if keys else "id, text"
        posts = _fetch(connection, f"SELECT {columns} FROM posts WHERE id > {mark} ORDER BY id LIMIT {mark}",
                       (last, batch))
        if not posts:
            return None
        texts = _keyed(connection, posts, params, keys)
        # texts already indexed (an earlier repost) have their bands: neither sketched nor written
        known = _indexed_texts(connection, list(texts.normals)) if _any_text(connection) else set()
        new = [key for key in texts.normals if key not in known]
        bands = band_rows(new, [texts.normals[key] for key in new], params, keys.sketched if keys else None)
        _insert(connection, "lookup_texts (text_key, post_ref)", texts.rows)
        _insert(connection, "lookup_bands (band_key, text_key)", bands)
        # never backwards: a concurrent updater on SQLite may have gone further meanwhile
        connection.execute(update(STATE).where(STATE.c.id == _STATE_ID, STATE.c.last_post_ref < posts[-1][0])
                           .values(last_post_ref=posts[-1][0]))
    return len(posts), len(texts.rows)


def _keyed(connection: Connection, posts: Sequence[Any], params: LookupParams,
           keys: KeyBuffer | None) -> TextRows:
    """Index rows of ``posts``: ``(id, text)`` rows, keyed from their text, or, with ``keys``,
    ``(id,)`` rows that take its keys; the texts of posts it lacks (not among the detection's,
    or stored meanwhile) are read and keyed here."""
    if not keys:
        refs, raw = zip(*posts, strict=True) if posts else ((), ())
        return text_rows(refs, [text or "" for text in raw], params)
    pairs: list[tuple[int, int]] = []
    normals: dict[int, str] = {}
    unkeyed: list[int] = []
    by_ref = keys.by_ref
    for (ref,) in posts:
        if ref not in by_ref:
            unkeyed.append(ref)
        elif (key := by_ref[ref]) is not None:
            pairs.append((key, ref))
            normals[key] = keys.normals[key]
    rows = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    for start in range(0, len(unkeyed), _CHUNK):
        which, values = _one_of(connection, "id", unkeyed[start:start + _CHUNK])
        rest = _keyed(connection, _fetch(connection, f"SELECT id, text FROM posts WHERE {which}", values),
                      params, None)
        rows = np.concatenate([rows, rest.rows])
        normals = rest.normals | normals
    return TextRows(rows[np.lexsort((rows[:, 1], rows[:, 0]))], normals)


def _any_text(connection: Connection) -> bool:
    """Whether the index has a text row (when it has none, no text has its bands yet)."""
    return connection.exec_driver_sql("SELECT 1 FROM lookup_texts LIMIT 1").first() is not None


def _indexed_texts(connection: Connection, keys: Sequence[int]) -> set[int]:
    """Which of ``keys`` have a text row (and so their band rows)."""
    found: set[int] = set()
    for start in range(0, len(keys), _CHUNK):
        which, values = _one_of(connection, "text_key", keys[start:start + _CHUNK])
        found.update(row for (row,) in _fetch(connection, f"SELECT DISTINCT text_key FROM lookup_texts "
                                                          f"WHERE {which}", values))
    return found


def _insert(connection: Connection, into: str, rows: Keys) -> None:
    """Insert ``rows`` (two int64 columns, sorted: sequential b-tree inserts are much faster)
    ``into`` a table, e.g. ``"lookup_texts (text_key, post_ref)"``.

    PostgreSQL gets them as two arrays in one statement: with executemany, which sends a
    statement per row, indexing was three times slower (2,100 posts/s; bench/bench_lookup.py).
    """
    for start in range(0, len(rows), _INSERT_ROWS):     # a month's 2M band rows as Python
        chunk = rows[start:start + _INSERT_ROWS]          # objects would take 400 MB at once
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                f"INSERT INTO {into} SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
                (chunk[:, 0].tolist(), chunk[:, 1].tolist()))
            continue
        # columns to lists first: a 2-d tolist() and a tuple() per row cost four times as much
        pairs = list(zip(chunk[:, 0].tolist(), chunk[:, 1].tolist(), strict=True))
        insert_many(connection, f"INSERT INTO {into}", pairs, row="(?, ?)", tail="ON CONFLICT DO NOTHING")


def forget_dataset_posts(target: Connection | Engine, dataset_id: int) -> int:
    """Delete the index rows of a dataset's posts, and the band rows of texts no other post
    has; returns how many rows. Call it in the transaction that deletes the dataset, before its
    posts are deleted (an Engine gets its own transaction): their texts give the band keys.

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
    deleted = _forget(target, f"post_ref BETWEEN {mark} AND {mark} AND post_ref IN "
                      f"(SELECT id FROM posts WHERE dataset_id = {mark})", (low, high, dataset_id))
    others = target.exec_driver_sql(
        f"SELECT id FROM posts WHERE dataset_id <> {mark} ORDER BY id DESC LIMIT 1", (dataset_id,)).scalar()
    newest_kept = int(others or 0)
    target.execute(update(STATE).where(STATE.c.last_post_ref > newest_kept).values(last_post_ref=newest_kept))
    return deleted


def forget_posts_before(connection: Connection, cutoff: datetime) -> int:
    """Delete the index rows of posts made before ``cutoff`` (in the transaction that deletes
    those posts, before it does); moves the watermark back as ``forget_dataset_posts`` does."""
    mark = _mark(connection)
    cutoff_param = time_param(connection.dialect.name)(cutoff)
    deleted = _forget(connection, f"post_ref IN (SELECT id FROM posts WHERE created_at < {mark})",
                      (cutoff_param,))
    newest_kept = connection.exec_driver_sql(
        f"SELECT MAX(id) FROM posts WHERE created_at >= {mark}", (cutoff_param,)).scalar()
    connection.execute(update(STATE).where(STATE.c.last_post_ref > int(newest_kept or 0))
                       .values(last_post_ref=int(newest_kept or 0)))
    return deleted


def _forget(connection: Connection, which: str, values: tuple[Any, ...]) -> int:
    """Delete the text rows ``which`` picks (a test of ``post_ref``), then the band rows of their
    texts that no text row names any more; returns the rows deleted."""
    # FOR UPDATE (PostgreSQL): an updater about to add a repost of a text whose bands go here
    # waits, then sees the text gone and bands it again (else its post would be unfindable)
    connection.execute(select(STATE.c.id).where(STATE.c.id == _STATE_ID).with_for_update())
    owners = dict(_fetch(connection, f"SELECT text_key, MIN(post_ref) FROM lookup_texts WHERE {which} "
                                     "GROUP BY text_key", values))
    if not owners:
        return 0
    deleted = int(connection.exec_driver_sql(f"DELETE FROM lookup_texts WHERE {which}", values).rowcount or 0)
    still = _indexed_texts(connection, list(owners))
    return deleted + _forget_bands(connection, {key: ref for key, ref in owners.items() if key not in still})


def _forget_bands(connection: Connection, owners: dict[int, int]) -> int:
    """Delete the band rows of the texts ``owners`` (text key -> a stored post that has it)."""
    if not owners:
        return 0
    stored = connection.execute(select(STATE.c.params).where(STATE.c.id == _STATE_ID)).scalar_one_or_none()
    if stored is None or not same_index(stored, params := LookupParams.from_json(stored)):
        return _wipe(connection)     # built by other code: its band keys cannot be recomputed here
    texts = _post_texts(connection, list(owners.values()))
    keys = [key for key, ref in owners.items() if ref in texts]
    rows = band_rows(keys, [normalize_text(texts[owners[key]]) for key in keys], params)
    if not len(rows):
        return 0
    if connection.dialect.name == "postgresql":
        gone = connection.exec_driver_sql(
            "DELETE FROM lookup_bands USING unnest(%s::bigint[], %s::bigint[]) AS gone(band_key, text_key) "
            "WHERE lookup_bands.band_key = gone.band_key AND lookup_bands.text_key = gone.text_key",
            (rows[:, 0].tolist(), rows[:, 1].tolist()))
    else:
        gone = connection.exec_driver_sql("DELETE FROM lookup_bands WHERE band_key = ? AND text_key = ?",
                                          list(zip(rows[:, 0].tolist(), rows[:, 1].tolist(), strict=True)))
    return int(gone.rowcount or 0)


def _post_texts(connection: Connection, refs: Sequence[int]) -> dict[int, str]:
    """The texts of the stored posts ``refs``, by id."""
    texts: dict[int, str] = {}
    for start in range(0, len(refs), _CHUNK):
        which, values = _one_of(connection, "id", refs[start:start + _CHUNK])
        texts.update(_fetch(connection, f"SELECT id, text FROM posts WHERE {which}", values))
    return texts


# --- answering lookups ---------------------------------------------------------------------------
# A text relayed thousands of times has thousands of candidates: each is read once with what
# verification and the account counts need, into columns; texts are verified once per text key
# (one post's text standing for its reposts), and only what is shown becomes objects. Rows come
# from the driver's own cursor: SQLAlchemy's Row costs a microsecond each.

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
    text_keys: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, positions: Sequence[int]) -> _Candidates:
        return _Candidates(*([column[i] for i in positions] for column in self._columns()))

    def head(self, count: int) -> _Candidates:
        return _Candidates(*(column[:count] for column in self._columns()))

    def _columns(self) -> list[list[Any]]:
        return [self.ids, self.times, self.texts, self.platforms, self.account_ids, self.handles,
                self.text_keys]


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
            # without statistics (a fresh index) the band lookup looks costly enough for
            # PostgreSQL to compile it to machine code first (30 ms) or to start parallel
            # workers (8 ms), for a query of a few rows
            connection.exec_driver_sql("SET LOCAL jit = off")
            connection.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        scope = _scope(connection, since, until)
        last = _usable_watermark(connection, params)
        unindexed = _count_posts_after(connection, last)
        if last == 0 or not scope.complete:
            return LookupResult(matches=[], total_matches=0, accounts=[], total_accounts=0,
                                candidates_checked=0, truncated=False, indexed_through=last,
                                unindexed_posts=unindexed)
        candidates, truncated = _candidates(connection, keys, scope, params.max_candidates)
        positions, similarity = verify(query, candidates.texts, params, candidates.text_keys)
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

    Candidates are the posts of the texts that share a band key with the query. Reads a page of
    post ids at a time; after ``_MAX_PAGES`` pages (the scope dropping most of a huge bucket) the
    search stops and says it was truncated.
    """
    texts = _candidate_texts(connection, keys)
    found = _Candidates()
    if not texts:
        return found, False
    after = 0
    for _ in range(_MAX_PAGES):
        refs = _candidate_refs(connection, texts[:_MAX_TEXTS], after, cap + 1)
        _read_candidates(connection, refs, scope, found)
        if len(found) > cap:
            return found.head(cap), True
        if len(refs) <= cap:
            return found, len(texts) > _MAX_TEXTS
        after = refs[-1][0]
    return found, True


def _candidate_texts(connection: Connection, keys: Sequence[int]) -> list[int]:
    """The text keys (at most ``_MAX_TEXTS + 1``) that share a band key with the query.

    Each text has a post: past ``_MAX_TEXTS`` the lookup is truncated anyway, though then its
    candidates are the first posts of some of the texts rather than the first of all.
    """
    which, values = _one_of(connection, "band_key", keys)
    return [key for (key,) in _fetch(connection, f"SELECT DISTINCT text_key FROM lookup_bands WHERE {which} "
                                                 f"LIMIT {_MAX_TEXTS + 1}", values)]


def _candidate_refs(connection: Connection, texts: Sequence[int], after: int,
                    count: int) -> list[tuple[int, int]]:
    """The first ``count`` posts above id ``after`` with one of the ``texts``, as ``(post id,
    text key)``.

    Each text's posts are already in post order in the primary key: for a few texts SQLite
    merges them without sorting and stops at the LIMIT (``EXPLAIN QUERY PLAN``: MERGE (UNION)),
    so a text relayed 100,000 times costs ``count`` rows, not 100,000. Past ``_UNION_TEXTS``
    texts (a statement that long costs more to prepare than it saves) their posts are read whole
    and sorted.
    """
    mark = _mark(connection)
    if len(texts) <= _UNION_TEXTS:
        sql = " UNION ".join(
            [f"SELECT post_ref, text_key FROM lookup_texts WHERE text_key = {mark} AND post_ref > {mark}"]
            * len(texts)) + f" ORDER BY 1 LIMIT {mark}"
        values = [value for key in texts for value in (key, after)] + [count]
    else:
        which, values = _one_of(connection, "text_key", texts)
        sql = (f"SELECT post_ref, text_key FROM lookup_texts WHERE {which} AND post_ref > {mark} "
               f"ORDER BY 1 LIMIT {mark}")
        values = [*values, after, count]
    return [(ref, key) for ref, key in _fetch(connection, sql, values)]


def _read_candidates(connection: Connection, refs: list[tuple[int, int]], scope: _Scope,
                     into: _Candidates) -> None:
    """Append the posts ``refs`` (post id, text key; those still stored) in ``scope`` to
    ``into``, in id order."""
    if not refs:
        return
    text_of = dict(refs)
    ids, values = _one_of(connection, "id", list(text_of))
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
                    into.text_keys.append(text_of[ref])
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
