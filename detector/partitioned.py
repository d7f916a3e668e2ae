"""Partitioned detection: the local stages cut so that each piece runs on one time partition of
the posts, or on one shard of what crosses partitions (LSH band keys, contents, account pairs).

Pure functions over plain data, run on a cluster by :mod:`detector.engine_dask`. They call the
local kernels (``signatures``, ``_bucket_pairs``, ``key_events``, ``pair_weights``,
``tally_accounts``) and keep every order the local run has, so results are identical:

* a post's *index* is its position in the whole run, sorted by (time, platform, post id);
* a text group is labelled ``t<index of its first post>`` as :func:`detect.fingerprint_texts` does;
* a content is ordered by (signal, index of its first post, position of the key in that post),
  which is the order ``co_action_events`` meets contents in, and a pair's weights are summed in
  that order, occasion after occasion, as ``pair_weights`` sums them.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from detector.detect import DetectParams, text_rows
from detector.features import _Tally, tally_accounts
from detector.fingerprint import (
    Indices,
    Signatures,
    _banding,
    _bucket_pairs,
    _components,
    _empty_rows,
    _mix_columns,
    _similar,
    signatures,
)
from detector.graph import _BIT, GraphParams, Pair, PairStats, is_relay, pair_weights
from detector.link import SIGNALS, AccountKey, Event, content_keys, key_events
from detector.records import Post

SIGNAL_INDEX = {signal: i for i, signal in enumerate(SIGNALS)}
Order = tuple[int, int, int, int]     # (signal, first post's index, key position in it, sequence)
KeyRecord = tuple[int, str, int, int, datetime, str, str, str]  # signal, key, index, position, post
BandRows = npt.NDArray[np.uint64]
_POST_BYTES = 600                 # a Post in memory, roughly (for Dask's transfer estimates)


def post_order(post: Post) -> tuple[datetime, str, str]:
    """The run's order of posts: as ``store.iter_posts`` reads them."""
    return post.created_at, post.platform, post.post_id


def partition_of(post: Post, seconds: float) -> int:
    """The number of the time partition a post falls in (partitions start at the Unix epoch)."""
    return int(post.created_at.timestamp() // seconds)


def bucket_posts(posts: Iterable[Post], seconds: float) -> dict[int, list[Post]]:
    """Posts by time partition."""
    buckets: dict[int, list[Post]] = defaultdict(list)
    for post in posts:
        buckets[partition_of(post, seconds)].append(post)
    return dict(buckets)


def sorted_part(*pieces: list[Post]) -> list[Post]:
    """One partition's posts, from every file that holds some, in the run's order."""
    return sorted((p for piece in pieces for p in piece), key=post_order)


# --- reading -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Source:
    """One input a worker reads by itself: a dump file, or one row group of a Parquet file."""

    path: str
    row_group: int | None = None


def sources_of(paths: Sequence[Path]) -> list[Source]:
    """The sources of the given files; a Parquet file is one source per row group."""
    found = []
    for path in paths:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq  # an optional dependency: only Parquet input needs it
            groups = pq.ParquetFile(path).num_row_groups
            found += [Source(str(path), group) for group in range(groups)]
        else:
            found.append(Source(str(path)))
    return found


def read_source(source: Source, seconds: float) -> dict[int, list[Post]]:
    """The posts of one source, by time partition (account records are left out)."""
    if source.row_group is not None:
        return bucket_posts(parquet_posts(Path(source.path), source.row_group), seconds)
    from detector.ingest import read_dump
    return bucket_posts((r for r in read_dump(Path(source.path)) if isinstance(r, Post)), seconds)


_POST_FIELDS = tuple(Post.__dataclass_fields__)
_TUPLES = ("urls", "hashtags", "mentions")


def parquet_posts(path: Path, row_group: int) -> Iterator[Post]:
    """The posts of one Parquet row group whose columns are named like ``Post`` fields."""
    import pyarrow.parquet as pq
    file = pq.ParquetFile(path)
    columns = [c for c in file.schema_arrow.names if c in _POST_FIELDS]
    for row in file.read_row_group(row_group, columns=columns).to_pylist():
        yield _post(row)


def _post(row: dict[str, Any]) -> Post:
    moment = row["created_at"]
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    values = {k: v for k, v in row.items() if v is not None}
    values.update({k: tuple(values[k]) for k in _TUPLES if k in values})
    values.update(created_at=moment, post_id=str(row["post_id"]), account_id=str(row["account_id"]))
    return Post(**values)


# --- near-duplicate texts ------------------------------------------------------------------------

@dataclass
class Printed:
    """One partition's posts and the signatures of its texts; ``offset``: index of its first post."""

    posts: list[Post]
    offset: int
    chosen: Indices               # positions (in ``posts``) of the fingerprinted posts
    sigs: Signatures
    kept: Indices                 # rows of ``sigs`` that are not empty

    def index(self, rows: Indices) -> Indices:
        """Run-wide indices of the posts of signature ``rows``."""
        return self.chosen[rows] + self.offset

    def __sizeof__(self) -> int:
        # Dask's scheduler weighs moving a task's inputs by sys.getsizeof: without this it sees a
        # few bytes, and moves tasks away from the worker that holds the posts
        return _POST_BYTES * len(self.posts) + self.sigs.nbytes + self.chosen.nbytes


def fingerprint_part(posts: list[Post], offset: int, params: DetectParams) -> Printed:
    """Signatures of the posts ``detect.fingerprint_texts`` chooses: originals with enough text."""
    chosen, texts = text_rows(posts, params)
    sigs = signatures(texts, params.fingerprint, normalized=True)
    kept = np.flatnonzero(~_empty_rows(sigs)) if len(texts) else np.empty(0, dtype=np.int64)
    return Printed(posts, offset, np.array(chosen, dtype=np.int64), sigs, kept)


def key_mask(kept_total: int) -> np.uint64:
    """The low bits ``near_duplicate_pairs`` ignores in band keys when it sorts ``kept_total`` rows."""
    bits = max(1, (kept_total - 1).bit_length())
    return ~np.uint64((1 << bits) - 1)


def band_keys(printed: Printed, mask: np.uint64, params: DetectParams,
              shards: int) -> list[BandRows]:
    """Per shard, rows ``(band, masked band key, post index)`` of the partition's kept signatures."""
    num_perm = printed.sigs.shape[1]
    bands, rows = _banding(params.similarity, num_perm, params.lsh_bands)
    spans = [(b * rows, (b + 1) * rows) for b in range(bands)] + [(0, num_perm)]
    kept = printed.sigs[printed.kept]
    index = printed.index(printed.kept).astype(np.uint64)
    parts = []
    for band, (start, stop) in enumerate(spans):
        keys = _mix_columns(list(kept[:, start:stop].T)) & mask if len(kept) else np.empty(0, np.uint64)
        parts.append(np.column_stack([np.full(len(keys), band, dtype=np.uint64), keys, index]))
    table = np.concatenate(parts) if parts else np.empty((0, 3), dtype=np.uint64)
    shard = ((table[:, 1] >> np.uint64(40)) + table[:, 0]) % np.uint64(shards)
    return [table[shard == s] for s in range(shards)]



def candidate_pairs(*pieces: BandRows) -> Indices:
    """Post-index pairs ``(i, j)``, ``i < j``, that share a bucket of one band, chosen as
    ``near_duplicate_pairs`` chooses them (each row with its bucket's first and its predecessor).

    ``pieces`` come in partition order, so each band's rows are in post order."""
    table = np.concatenate([np.empty((0, 3), dtype=np.uint64), *pieces])
    found = [np.empty((0, 2), dtype=np.int64)]
    for band in np.unique(table[:, 0]):
        rows = table[table[:, 0] == band]
        pairs = _bucket_pairs(rows[:, 1])
        found.append(rows[:, 2].astype(np.int64)[pairs])
    return np.unique(np.concatenate(found), axis=0)


def export_sigs(printed: Printed, wanted: Indices) -> tuple[Indices, Signatures]:
    """The signatures of the given post indices (all in this partition)."""
    row_of = {int(i): r for r, i in enumerate(printed.index(np.arange(len(printed.chosen))))}
    rows = np.array([row_of[int(i)] for i in wanted], dtype=np.int64)
    return wanted, printed.sigs[rows]


def verify_pairs(printed: Printed, pairs: Indices, threshold: float,
                 *foreign: tuple[Indices, Signatures]) -> Indices:
    """The candidate pairs (second post in this partition) whose estimated Jaccard reaches
    ``threshold``; ``foreign``: signatures of first posts held by earlier partitions."""
    own = printed.index(np.arange(len(printed.chosen)))
    indices = np.concatenate([own, *(f[0] for f in foreign)])
    sigs = np.concatenate([printed.sigs, *(f[1] for f in foreign)])
    order = np.argsort(indices)
    rows = order[np.searchsorted(indices, pairs, sorter=order)]
    return pairs[_similar(sigs, rows, threshold)]


def group_roots(pairs: Indices) -> dict[int, int]:
    """For each post in a verified pair, the first post of its group (connected component)."""
    nodes, compact = np.unique(pairs, return_inverse=True)
    compact = compact.reshape(-1, 2)
    labels = _components(len(nodes), compact[:, 0], compact[:, 1])
    return dict(zip(nodes.tolist(), nodes[labels].tolist(), strict=True))


def text_groups(printed: Printed, roots: Mapping[int, int]) -> dict[int, str]:
    """Position -> text group label of the partition's fingerprinted posts."""
    groups = {}
    for i in printed.chosen.tolist():
        index = i + printed.offset
        groups[i] = f"t{roots.get(index, index)}"
    return groups


# --- co-action -----------------------------------------------------------------------------------

def shard_of(text: str, shards: int) -> int:
    """A shard chosen by a hash every process computes alike (``hash(str)`` is salted)."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass")) % shards


def key_records(printed: Printed, roots: Mapping[int, int], params: DetectParams) -> Records:
    """One record per (post, content key) of the partition: what linking needs of a post."""
    posts = printed.posts
    keyers = content_keys(posts, text_groups(printed, roots), params.link)
    records: list[KeyRecord] = []
    hashes: list[int] = []
    for signal, keyer in keyers.items():
        number = SIGNAL_INDEX[signal]
        for i, post in enumerate(posts):
            for position, key in enumerate(keyer(i, post)):
                records.append((number, key, i + printed.offset, position, post.created_at,
                                post.platform, post.account_id, post.post_id))
                hashes.append(_content_hash(number, key))
    return Records(records, np.array(hashes, dtype=np.uint64))


def _content_hash(signal: int, key: str) -> int:
    """64 bits naming a content alike in every process (a collision only costs a shuffle)."""
    data = f"{signal}\x00{key}".encode("utf-8", "surrogatepass")
    return (zlib.crc32(data) << 32) | zlib.adler32(data)


@dataclass
class Records:
    """A partition's content records and the hash of each record's content."""

    records: list[KeyRecord]
    hashes: npt.NDArray[np.uint64]

    def __sizeof__(self) -> int:
        return 150 * len(self.records) + self.hashes.nbytes


def content_hashes(records: Records, shards: int) -> list[npt.NDArray[np.uint64]]:
    """The partition's distinct contents, by shard: what the popularity shuffle moves."""
    distinct = np.unique(records.hashes)
    shard = distinct % np.uint64(shards)
    return [distinct[shard == s] for s in range(shards)]


def shared_contents(*pieces: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """Contents met in more than one partition (each piece: one partition's distinct contents)."""
    values, counts = np.unique(np.concatenate([np.empty(0, np.uint64), *pieces]), return_counts=True)
    return values[counts > 1]


def split_records(records: Records, shards: int, *shared: npt.NDArray[np.uint64]
                  ) -> tuple[list[KeyRecord], list[list[KeyRecord]]]:
    """The records of contents only this partition has (linked here), and by shard the others
    (each such content linked whole by its shard)."""
    crossing = np.isin(records.hashes, np.concatenate([np.empty(0, np.uint64), *shared]))
    shard = (records.hashes % np.uint64(shards)).tolist()
    local: list[KeyRecord] = []
    out: list[list[KeyRecord]] = [[] for _ in range(shards)]
    for record, moves, s in zip(records.records, crossing.tolist(), shard, strict=True):
        if moves:
            out[s].append(record)
        else:
            local.append(record)
    return local, out


def local_records(split: tuple[list[KeyRecord], list[list[KeyRecord]]]) -> list[KeyRecord]:
    return split[0]


def crossing_records(split: tuple[list[KeyRecord], list[list[KeyRecord]]], shard: int) -> list[KeyRecord]:
    return split[1][shard]


@dataclass
class Linked:
    """One content shard's events (with their run-wide order) and its pair weights by pair shard."""

    events: list[tuple[Order, Event]]
    weights: list[list[tuple[Pair, Order, float, int]]]
    count: int = 0

    def __sizeof__(self) -> int:
        return 300 * len(self.events) + 150 * sum(map(len, self.weights))


def link_contents(params: DetectParams, shards: int, *pieces: list[KeyRecord]) -> Linked:
    """Events of every content of the shard (``key_events``) and, per occasion, each pair's best
    event weight (``pair_weights`` on the occasion), ordered as the local run orders them."""
    contents: dict[tuple[int, str], list[KeyRecord]] = defaultdict(list)
    for piece in pieces:
        for record in piece:
            contents[(record[0], record[1])].append(record)
    linked = Linked([], [[] for _ in range(shards)])
    for (number, key), records in contents.items():
        if len(records) >= 2:
            _link_content(number, key, sorted(records, key=lambda r: (r[2], r[3])), params, linked)
    linked.count = len(linked.events)
    return linked


def _link_content(number: int, key: str, records: list[KeyRecord], params: DetectParams,
                  linked: Linked) -> None:
    posts = [Post(platform, post_id, account, time)
             for _, _, _, _, time, platform, account, post_id in records]
    signal, first = SIGNALS[number], records[0]
    occasions: dict[int, list[Event]] = defaultdict(list)
    for sequence, event in enumerate(key_events(signal, key, list(range(len(posts))), posts, params.link)):
        linked.events.append(((number, first[2], first[3], sequence), event))
        occasions[event.occasion].append(event)
    for occasion, events in occasions.items():
        best = pair_weights([replace(e, occasion=0) for e in events], params.graph)
        order = (number, first[2], first[3], occasion)
        for pair, stats in best.items():
            shard = shard_of(repr(pair), len(linked.weights))
            linked.weights[shard].append((pair, order, stats.weight, _BIT[signal]))


def pick_weights(linked: Linked, shard: int) -> list[tuple[Pair, Order, float, int]]:
    return linked.weights[shard]


def significant_pairs(params: GraphParams, *pieces: list[tuple[Pair, Order, float, int]]
                      ) -> dict[Pair, PairStats]:
    """Per pair, its occasion weights summed in the local run's order; only significant pairs."""
    by_pair: dict[Pair, list[tuple[Order, float, int]]] = defaultdict(list)
    for piece in pieces:
        for pair, order, weight, bit in piece:
            by_pair[pair].append((order, weight, bit))
    found = {}
    for pair, parts in by_pair.items():
        stats = PairStats()
        for _, weight, bit in sorted(parts, key=lambda p: p[0]):
            stats.weight += weight
            stats.contents += 1
            stats.signals |= bit
        if stats.contents >= params.min_contents and stats.weight >= params.min_weight:
            found[pair] = stats
    return found


def select_events(linked: Linked, nodes: set[AccountKey], params: GraphParams) -> list[tuple[Order, Event]]:
    """The events campaigns can cite: pairable ones with two accounts of the graph, and every
    burst of an occasion holding a relay."""
    relay_occasions = {(e.signal, e.key, e.occasion) for _, e in linked.events if is_relay(e, params)}
    return [(order, e) for order, e in linked.events
            if (e.signal, e.key, e.occasion) in relay_occasions
            or (e.size <= params.max_pair_event
                and sum(p.account in nodes for p in e.participants) >= 2)]


# --- accounts and evidence -----------------------------------------------------------------------

@dataclass
class Tallies:
    """Per-account tallies of a partition, and who uses which app (for the rarity feature)."""

    tallies: dict[AccountKey, _Tally]
    first: dict[AccountKey, datetime]
    app_users: dict[str, set[AccountKey]]
    accounts: set[AccountKey] = field(default_factory=set)

    def __sizeof__(self) -> int:
        return 300 * len(self.tallies) + 100 * (len(self.accounts) + sum(map(len, self.app_users.values())))


def tally_part(posts: list[Post], keep: set[AccountKey]) -> Tallies:
    tallies, app_users, first = tally_accounts(posts, keep)
    return Tallies(dict(tallies), first, dict(app_users), {(p.platform, p.account_id) for p in posts})


def merge_tallies(parts: Sequence[Tallies]) -> Tallies:
    """Tallies of partitions in time order, merged as one pass over all posts would count them."""
    merged = Tallies({}, {}, defaultdict(set))
    for part in parts:
        for account, tally in part.tallies.items():
            total = merged.tallies.setdefault(account, _Tally())
            total.posts += tally.posts
            total.reposts += tally.reposts
            total.hours.update(tally.hours)
            total.clients.update(tally.clients)
        for account, moment in part.first.items():
            merged.first.setdefault(account, moment)
        for app, users in part.app_users.items():
            merged.app_users[app] |= users
        merged.accounts |= part.accounts
    return merged


def app_popularity(parts: Sequence[Tallies]) -> tuple[dict[str, int], int, int]:
    """Accounts per app, accounts naming any app, and all accounts (the tallies' sets dropped)."""
    merged = merge_tallies([Tallies({}, {}, p.app_users, p.accounts) for p in parts])
    users = {app: len(u) for app, u in merged.app_users.items()}
    everyone = len(set().union(*merged.app_users.values())) if merged.app_users else 0
    return users, max(everyone, 1), len(merged.accounts)


def own_tallies(part: Tallies) -> Tallies:
    """The per-account part only: what travels to the client."""
    return Tallies(part.tallies, part.first, {})


def lookup(printed: Printed, cited: set[str]) -> dict[str, tuple[str, Signatures | None]]:
    """Text and signature (if fingerprinted) of the cited posts this partition holds."""
    rows = {int(i): r for r, i in enumerate(printed.chosen.tolist())}
    found = {}
    for i, post in enumerate(printed.posts):
        if post.post_id in cited:
            row = rows.get(i)
            found[post.post_id] = (post.text, printed.sigs[row] if row is not None else None)
    return found
