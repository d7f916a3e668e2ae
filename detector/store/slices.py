"""The incremental-detection cache's SQL: its state (a row and a log of changes), which posts
carry each content, and the LSH buckets' ends (tables of migration 0007); and the few posts an
incremental run reads."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    Connection,
    Engine,
    Table,
    bindparam,
    case,
    delete,
    func,
    select,
    tuple_,
    update,
)

from detector.errors import CacheOutdated, DamagedCache
from detector.incremental import (
    Bucket,
    Changes,
    Content,
    State,
    pack,
    pack_changes,
    restore,
)
from detector.records import Post
from detector.store.bulk import insert_many
from detector.store.reader import link_post_columns, linked_post_from_row, post_from_row, raw_post_columns
from detector.store.retention import forget_cache
from detector.store.schema import (
    IncrementalBandRow,
    IncrementalContentRow,
    IncrementalStateRow,
    PostRow,
)

T = TypeVar("T")
_CHUNK = 500                    # values bound per IN (...): far below SQLite's 32,766
_BULK = 100_000
_CONTENTS = "incremental_contents (key_hash, position, signal, post_ref, key)"
_CONTENT_TYPES = ("bigint", "bigint", "text", "bigint", "text")
_BANDS = "incremental_bands (band, band_key, first_position, last_position)"
_BAND_TYPES = ("integer", "bigint", "bigint", "bigint")
_MOVED = ("ON CONFLICT (band, band_key) DO UPDATE SET first_position = excluded.first_position, "
          "last_position = excluded.last_position")   # one statement: an UPDATE each took 0.3 s
LOG_SHARE = 0.25                # the log's rows may reach this share of the state row's size ...
LOG_ROWS = 4                    # ... and this many rows: at 3M posts each costs a load about 1 s
                                # to replay, and writing the state whole about 7 s


@dataclass(frozen=True)
class Watermark:
    """Which posts a cache covers: the datasets, their post count, and the last post in
    detection order (time, platform, post id)."""

    params_hash: str
    datasets: tuple[int, ...]
    posts: int
    last: tuple[datetime, str, str] | None
    read_from: Stamp | None = field(default=None, compare=False)   # which rows it was loaded from


Stamp = tuple[int, datetime]    # the cache's last row: its id and when it was written


def key_hash(signal: str, key: str) -> int:
    """A signed 64-bit digest of a content: indexable where a long URL is not."""
    digest = hashlib.blake2b(f"{signal}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    size = _CHUNK
    for start in range(0, len(values), size):
        yield values[start:start + size]


def load_state(engine: Engine) -> tuple[Watermark, State] | None:
    """The cache, or ``None`` when no full run made one yet (or an older version made it): the
    state row's blob with the log rows' changes replayed on it, and the last row's watermark.

    Raises :class:`DamagedCache` when a blob cannot be decoded."""
    with engine.connect() as c:
        rows = c.execute(select(_table(IncrementalStateRow)).order_by(IncrementalStateRow.id)).all()
    if not rows:
        return None
    row = rows[-1]
    last = (row.last_time, row.last_platform, row.last_post_id) if row.last_time else None
    mark = Watermark(row.params_hash, tuple(row.datasets), row.posts, last, (row.id, row.created_at))
    try:
        state = restore(rows[0].blob, [row.blob for row in rows[1:]])
        if state is None:
            return None
    except Exception as error:  # whatever a damaged blob raises, the cache is unusable
        raise DamagedCache(f"the incremental cache could not be read ({type(error).__name__}: "
                           f"{error})") from error
    return mark, state


def _state_values(mark: Watermark, blob: bytes) -> dict[str, Any]:
    last_time, platform, post_id = mark.last or (None, "", "")
    return {"id": 1, "params_hash": mark.params_hash, "datasets": list(mark.datasets),
            "posts": mark.posts, "last_time": last_time, "last_platform": platform,
            "last_post_id": post_id, "created_at": datetime.now(UTC),
            "blob": blob}


def _table(row_type: type) -> Table:
    table: Table = row_type.__table__  # type: ignore[attr-defined]
    return table



def _bulk(c: Connection, into: str, types: Sequence[str], columns: Sequence[list[Any]],
          tail: str = "") -> None:
    """Insert rows given as columns: PostgreSQL as arrays in one statement, SQLite as rows of
    multi-row ``VALUES`` (SQLAlchemy's per-row processing cost more than the full run itself);
    ``tail`` follows the rows (an ``ON CONFLICT`` clause)."""
    count = len(columns[0]) if columns else 0
    for start in range(0, count, _BULK):
        part = [column[start:start + _BULK] for column in columns]
        if c.dialect.name == "postgresql":
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            c.exec_driver_sql(f"INSERT INTO {into} SELECT * FROM unnest({arrays}) {tail}", tuple(part))
        else:
            insert_many(c, f"INSERT INTO {into}", list(zip(*part, strict=True)),
                        row=f"({', '.join('?' * len(types))})", tail=tail)


def save_full(engine: Engine, mark: Watermark, state: State, contents: Sequence[tuple[str, str, int]],
              refs: Sequence[int], buckets: npt.NDArray[np.int64]) -> Stamp:
    """Replace the cache with a full run's: ``refs[position]`` is the post at each position,
    ``buckets`` rows ``(band, band key, first position, last position)``. Returns the stamp
    of the row written."""
    rows = sorted((key_hash(signal, key), position, signal, refs[position], key)
                  for signal, key, position in contents)    # in key order: sequential b-tree inserts
    with engine.begin() as c:
        forget_cache(c)
        _bulk(c, _CONTENTS, _CONTENT_TYPES, [list(column) for column in zip(*rows, strict=True)])
        ordered = buckets[np.lexsort((buckets[:, 1], buckets[:, 0]))]
        _bulk(c, _BANDS, _BAND_TYPES, [ordered[:, i].tolist() for i in range(4)])
        c.execute(_table(IncrementalStateRow).insert(), _state_values(mark, pack(state)))
        return _written(c)


_OUTDATED = ("posts were removed during this run (a dataset deleted or posts purged at the same "
             "time), and its result may cite them: nothing was stored; run detection again")


def _stamp(c: Connection) -> Stamp | None:
    row = c.execute(select(IncrementalStateRow.id, IncrementalStateRow.created_at)
                    .order_by(IncrementalStateRow.id.desc()).limit(1)).first()
    return (row.id, row.created_at) if row else None


def _written(c: Connection) -> Stamp:
    stamp = _stamp(c)
    assert stamp is not None, "the row was written in this transaction"
    return stamp


def cache_stamp(engine: Engine) -> Stamp | None:
    """The stamp of the cache's last row (``None``: no cache): another one than a state's
    ``read_from`` means the cache was written since that state was loaded or saved."""
    with engine.connect() as c:
        return _stamp(c)


def _lock(c: Connection) -> None:
    """Take the cache's lock: SQLite's write lock (any write statement takes it, even one that
    changes no row) or PostgreSQL's lock on row 1. Updating row 1 took both, but SQLite wrote
    the row's 280 MB blob again (1.1 s of each update at 3M posts, and the write-ahead log's
    checkpoint copied it once more)."""
    if c.dialect.name == "sqlite":
        c.execute(update(IncrementalStateRow).where(IncrementalStateRow.id < 1)
                  .values(params_hash=IncrementalStateRow.params_hash))
    else:
        c.execute(select(IncrementalStateRow.id).where(IncrementalStateRow.id == 1).with_for_update())


def save_update(engine: Engine, mark: Watermark, state: State, changes: Changes,
                read_from: Stamp | None) -> Stamp | None:
    """Write an incremental run's changes and its new state, in one transaction, if the cache
    is still the one read (``read_from``, its last row when loaded), and return the stamp of
    the row written; else write nothing and return ``None``: another run updated or remade it
    meanwhile, and these changes were made on the cache before it.

    Raises :class:`CacheOutdated` when the cache is gone: posts were deleted or purged during
    the run, and its result may cite them."""
    with engine.begin() as c:
        _lock(c)            # a run saving at the same time waits, then finds the cache changed
        now = _stamp(c)
        if now is None:
            raise CacheOutdated(_OUTDATED)
        if now != read_from:
            return None
        relabelled = [{"r_old": key_hash("text", f"t{old}"), "r_hash": key_hash("text", f"t{label}"),
                       "r_key": f"t{label}"} for old, label in sorted(changes.relabelled.items())]
        if relabelled:                  # one statement, many parameter sets (one each: 0.3 s)
            c.execute(update(IncrementalContentRow)
                      .where(IncrementalContentRow.key_hash == bindparam("r_old"),
                             IncrementalContentRow.signal == "text")
                      .values(key_hash=bindparam("r_hash"), key=bindparam("r_key")), relabelled)
        rows = sorted((key_hash(signal, key), position, signal, ref, key)
                      for signal, key, position, ref in changes.contents)
        _bulk(c, _CONTENTS, _CONTENT_TYPES, [list(column) for column in zip(*rows, strict=True)])
        ends = sorted((band, key, first, last) for (band, key), (first, last) in changes.buckets.items())
        _bulk(c, _BANDS, _BAND_TYPES, [list(column) for column in zip(*ends, strict=True)],
              tail=_MOVED)              # buckets stored before get their new ends
        _save_state(c, mark, state)
        return _written(c)


def _save_state(c: Connection, mark: Watermark, state: State) -> None:
    """Log the state's changes as a new row, or, once the log would outgrow ``LOG_ROWS`` rows or
    ``LOG_SHARE`` of the state row, write the whole state as the one row (the log's rows all
    replayed in it)."""
    changes = _state_values(mark, pack_changes(state))
    base, logged, last = c.execute(select(
        func.sum(case((IncrementalStateRow.id == 1, func.length(IncrementalStateRow.blob)), else_=0)),
        func.sum(case((IncrementalStateRow.id > 1, func.length(IncrementalStateRow.blob)), else_=0)),
        func.max(IncrementalStateRow.id))).one()
    if last <= LOG_ROWS and (logged or 0) + len(changes["blob"]) <= LOG_SHARE * (base or 0):
        c.execute(_table(IncrementalStateRow).insert(), changes | {"id": last + 1})
        return
    c.execute(delete(IncrementalStateRow))
    c.execute(_table(IncrementalStateRow).insert(), _state_values(mark, pack(state)))


def _bucket_ends(c: Connection, buckets: Sequence[Bucket]) -> dict[Bucket, tuple[int, int]]:
    by_band: dict[int, list[int]] = defaultdict(list)
    for band, key in buckets:
        by_band[band].append(key)
    found: dict[Bucket, tuple[int, int]] = {}
    for band, keys in sorted(by_band.items()):       # band first: the primary key's order
        for chunk in _chunks(sorted(keys)):
            rows = c.execute(select(IncrementalBandRow.band_key, IncrementalBandRow.first_position,
                                    IncrementalBandRow.last_position)
                             .where(IncrementalBandRow.band == band,
                                    IncrementalBandRow.band_key.in_(chunk)))
            found.update({(band, key): (first, last) for key, first, last in rows})
    return found


_ORDER = (PostRow.created_at, PostRow.platform, PostRow.post_id)   # as store.iter_posts


def post_refs(engine: Engine, datasets: Sequence[int]) -> list[int]:
    """``posts.id`` of the posts of ``datasets`` in detection order (``iter_posts``' order)."""
    with engine.connect() as c:
        return list(c.execute(select(PostRow.id).where(PostRow.dataset_id.in_(datasets))
                              .order_by(*_ORDER)).scalars())


def count_posts(engine: Engine, datasets: Sequence[int]) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(PostRow)
                             .where(PostRow.dataset_id.in_(datasets))).scalar_one())


def new_posts(engine: Engine, datasets: Sequence[int]) -> list[tuple[int, Post]]:
    """The posts of ``datasets`` with their ``posts.id``, in detection order."""
    lists: dict[Any, tuple[str, ...]] = {}
    with engine.connect() as c:
        rows = c.execute(select(PostRow.id, *raw_post_columns())
                         .where(PostRow.dataset_id.in_(datasets)).order_by(*_ORDER))
        return [(ref, post_from_row(fields, lists)) for ref, *fields in rows]


def posts_before(engine: Engine, datasets: Sequence[int], last: tuple[datetime, str, str]) -> int:
    """How many posts of ``datasets`` do not come after ``last`` in detection order."""
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(PostRow).where(
            PostRow.dataset_id.in_(datasets), tuple_(*_ORDER) <= tuple_(*last))).scalar_one())


def last_post(engine: Engine, datasets: Sequence[int]) -> tuple[datetime, str, str] | None:
    with engine.connect() as c:
        row = c.execute(select(*_ORDER).where(PostRow.dataset_id.in_(datasets))
                        .order_by(*(column.desc() for column in _ORDER)).limit(1)).first()
    return (row[0], row[1], row[2]) if row else None


def texts_of(engine: Engine, ids: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Post id -> text of the posts ``(platform, post id)``."""
    by_platform: dict[str, set[str]] = defaultdict(set)
    for platform, post_id in ids:
        by_platform[platform].add(post_id)
    found = {}
    with engine.connect() as c:       # a platform and ids: the unique index; row values are not
        for platform, wanted in sorted(by_platform.items()):
            for chunk in _chunks(sorted(wanted)):
                rows = c.execute(select(PostRow.post_id, PostRow.text).where(
                    PostRow.platform == platform, PostRow.post_id.in_(chunk)))
                found.update({post_id: text for post_id, text in rows})
    return found


class SliceReader:
    """The reads of an incremental update (``incremental.CacheReader``), counting posts read."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.posts_read = 0

    def bucket_ends(self, buckets: Sequence[Bucket]) -> dict[Bucket, tuple[int, int]]:
        with self.engine.connect() as c:
            return _bucket_ends(c, buckets)

    def text_posts(self, positions: Sequence[int]) -> dict[int, tuple[int, int]]:
        """Position -> (post ref, text group label) of old fingerprinted posts."""
        found = {}
        with self.engine.connect() as c:
            for chunk in _chunks(positions):
                rows = c.execute(select(IncrementalContentRow.position, IncrementalContentRow.post_ref,
                                        IncrementalContentRow.key)
                                 .where(IncrementalContentRow.position.in_(chunk),
                                        IncrementalContentRow.signal == "text"))
                found.update({position: (ref, int(key[1:])) for position, ref, key in rows})
        return found

    def posts(self, refs: Sequence[int]) -> dict[int, Post]:
        """The posts ``refs`` (``posts.id``) with what linking reads of them and no more
        (``reader.linked_post_from_row``): linking never reads their texts, and with them the
        reads of a 10k-post update at 3M posts took 1.33 s instead of 0.99 s."""
        found, lists = {}, dict[Any, tuple[str, ...]]()
        columns = link_post_columns()
        with self.engine.connect() as c:
            for chunk in _chunks(refs):
                rows = c.execute(select(PostRow.id, *columns).where(PostRow.id.in_(chunk)))
                found.update({ref: linked_post_from_row(fields, lists) for ref, *fields in rows})
        return self._counted(refs, found)

    def texts(self, refs: Sequence[int]) -> dict[int, str]:
        """The texts of the posts ``refs``."""
        found: dict[int, str] = {}
        with self.engine.connect() as c:
            for chunk in _chunks(refs):
                found.update((ref, text) for ref, text in c.execute(
                    select(PostRow.id, PostRow.text).where(PostRow.id.in_(chunk))))
        return self._counted(refs, found)

    def _counted(self, refs: Sequence[int], found: dict[int, T]) -> dict[int, T]:
        """``found``, counted as read; ``CacheOutdated`` when some of ``refs`` are gone."""
        if len(found) < len(set(refs)):
            raise CacheOutdated(_OUTDATED)
        self.posts_read += len(found)
        return found

    def content_posts(self, since: Mapping[Content, int]) -> dict[Content, list[tuple[int, int]]]:
        """(position, post ref) of the stored posts of each content from position ``since[content]``
        on (or a few more: each read asks from the lowest of its contents' positions)."""
        order = sorted(since, key=lambda content: (since[content], content))
        found: dict[Content, list[tuple[int, int]]] = defaultdict(list)
        with self.engine.connect() as c:
            for chunk in _chunks(order):
                by_hash = {key_hash(signal, key): (signal, key) for signal, key in chunk}
                rows = c.execute(select(IncrementalContentRow.key_hash, IncrementalContentRow.signal,
                                        IncrementalContentRow.key, IncrementalContentRow.position,
                                        IncrementalContentRow.post_ref)
                                 .where(IncrementalContentRow.key_hash.in_(sorted(by_hash)),
                                        IncrementalContentRow.position >= since[chunk[0]]))
                for digest, signal, key, position, ref in rows:
                    if by_hash[digest] == (signal, key):
                        found[(signal, key)].append((position, ref))
        return dict(found)
