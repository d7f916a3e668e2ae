"""Incremental detection: bring a full run's events and pair totals up to date with new posts.

A pair's weight is a sum over contents (signal, key) of that content's best event weight per
occasion, and a content's events depend on its own posts only. New posts touch few contents:
their repost and reply targets, links, hashtag set and text group. Those contents' events are
made again, their old share of the pair totals taken off and the new one added; every other
content is kept as the last run left it. A content's occasions are cut where its posts pause,
so new (later) posts change only its last occasion and the ones after: its events are made
again from the posts of its last occasion on (its *tail*), not from all its posts, except for
text groups that new posts merge (made again from all their posts).

Exact (weights aside, which are summed in another order: within 1e-9) while the new posts all
come after the cached ones in detection order (time, platform, post id): every cached post then
keeps its position, so text group labels (``t<position of the group's first post>``), the LSH
buckets' first rows and the order of contents stay what a full run makes them. The caller checks
that; :mod:`detector.refresh` falls back to a full run otherwise. Pure: the reads go through a
:class:`CacheReader` (:mod:`detector.store.slices`).
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import pickle
import struct
import zlib
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import networkx as nx
import numpy as np
import numpy.typing as npt

from detector.cluster import Clusters
from detector.detect import TextForms, text_rows
from detector.features import _Tally, behaviour_features
from detector.fingerprint import Signatures, signatures
from detector.graph import GraphParams, account_graph, pair_weights
from detector.link import (
    SIGNALS,
    AccountKey,
    Event,
    Participation,
    content_keys,
    key_events,
    last_occasion,
)
from detector.lookup import LookupParams, band_keys
from detector.normalize import normalize_text
from detector.records import Post
from detector.totals import Change, Delta, PairTotals, add_change, add_delta

if TYPE_CHECKING:
    from detector.detect import DetectParams, Ties

CACHE_VERSION = 10              # bump when the cache's meaning changes: older caches run full
Content = tuple[str, str]       # (signal, key)
Order = tuple[int, int]         # (position of the content's first post, rank among its keys)
Tail = tuple[int, int]          # (number of the content's last occasion, position of its first post)
Bucket = tuple[int, int]        # (band, band key); band == bands: the whole signature
TallyRow = tuple[Any, ...]      # a tally as packed: (account, posts, reposts, hours, clients, first)
Keys = npt.NDArray[np.int64]
Packed = bytes | memoryview     # a content's events as _pack_content made them (memoryview: as loaded)


def params_hash(params: DetectParams) -> str:
    """What a cache was made with; another value means a full run."""
    blob = json.dumps({"params": params.to_json(), "version": CACHE_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Tally(_Tally):
    """An account's posts, as ``features.account_behaviour`` counts them, and its first post's time."""

    first: datetime | None = None


@dataclass
class Journal:
    """What updates changed since the state was unpacked or packed: the cache's log row
    (:func:`pack_changes`). Replayed on that state (:func:`restore`) it gives this one."""

    steps: list[tuple[Any, ...]] = field(default_factory=list)      # content changes, in order
    accounts: dict[AccountKey, None] = field(default_factory=dict)  # tallies changed, in order
    users: list[tuple[str, AccountKey]] = field(default_factory=list)  # (client, account) added
    pairs: list[Change] = field(default_factory=list)               # as applied to the totals
    similar: dict[tuple[str, str], float | None] = field(default_factory=dict)  # measured


@dataclass
class State:
    """What a run leaves for the next incremental one (stored as a blob and a log of changes)."""

    posts: int                                                 # positions 0 .. posts - 1 taken
    contents: dict[Content, tuple[Order, list[Event]]] = field(default_factory=dict)
    tails: dict[Content, Tail] = field(default_factory=dict)   # of the contents with events
    pairs: PairTotals = field(default_factory=PairTotals)
    tallies: dict[AccountKey, Tally | TallyRow] = field(default_factory=dict)  # see tally_of
    app_users: dict[str, set[AccountKey]] = field(default_factory=lambda: defaultdict(set))
    packed: dict[Content, Packed] = field(default_factory=dict)  # contents unchanged since restored
    journal: Journal = field(default_factory=Journal)
    clusters: Clusters = field(default_factory=dict)           # the last run's, see cluster.communities
    # each pair of posts of text evidence measured since the full run: (first, post) -> their
    # similarity (None: one has no signature); see refresh._facts
    similar: dict[tuple[str, str], float | None] = field(default_factory=dict)


@dataclass
class Changes:
    """The rows an update adds or changes in the cache tables."""

    contents: list[tuple[str, str, int, int]] = field(default_factory=list)  # signal, key, pos, ref
    relabelled: dict[int, int] = field(default_factory=dict)   # old text label -> new label
    buckets: dict[Bucket, tuple[int, int]] = field(default_factory=dict)  # -> (first, last) pos
    touched: int = 0


class CacheReader(Protocol):
    """The reads an update needs (``detector.store.slices.SliceReader``)."""

    def bucket_ends(self, buckets: Sequence[Bucket]) -> dict[Bucket, tuple[int, int]]: ...
    def text_posts(self, positions: Sequence[int]) -> dict[int, tuple[int, int]]: ...
    def posts(self, refs: Sequence[int]) -> dict[int, Post]: ...   # what linking reads of them
    def texts(self, refs: Sequence[int]) -> dict[int, str]: ...
    def content_posts(self, since: Mapping[Content, int]) -> dict[Content, list[tuple[int, int]]]: ...


def tally_of(state: State, account: AccountKey) -> Tally | None:
    """An account's tally. A loaded cache keeps each as its packed row until it is asked for:
    at 3M posts, 198k accounts, of which an update changes a few thousand and features read
    14k, and making them all took 1.2 s of each load."""
    value = state.tallies.get(account)
    if isinstance(value, tuple):
        value = state.tallies[account] = _tally_of(value)[1]
    return value


def all_tallies(state: State) -> dict[AccountKey, Tally]:
    """Every account's tally, unpacked."""
    return {account: tally for account in list(state.tallies)
            if (tally := tally_of(state, account)) is not None}


def _tally(state: State, post: Post) -> None:
    account = (post.platform, post.account_id)
    state.journal.accounts[account] = None
    if post.client:
        users = state.app_users[post.client]
        if account not in users:
            users.add(account)
            state.journal.users.append((post.client, account))
    tally = tally_of(state, account)
    if tally is None:
        tally = state.tallies[account] = Tally(first=post.created_at)
    tally.posts += 1
    tally.reposts += post.repost_of is not None
    tally.hours[post.created_at.hour] += 1
    if post.client:
        tally.clients[post.client] += 1


def _carried(posts: Sequence[Post], groups: Mapping[int, str], params: DetectParams,
             signals: Sequence[str] = SIGNALS) -> Iterator[tuple[int, str, str, int]]:
    """``(index, signal, key, rank)`` of every content each post carries (rank: among its keys)."""
    keyers = content_keys(posts, groups, params.link)
    for signal in signals:
        keyer = keyers[signal]
        for i, post in enumerate(posts):
            for rank, key in enumerate(keyer(i, post)):
                yield i, signal, key, rank


def _by_content(events: Iterable[Event]) -> dict[Content, list[Event]]:
    grouped: dict[Content, list[Event]] = defaultdict(list)
    for event in events:
        grouped[(event.signal, event.key)].append(event)
    return grouped


def bucket_keys(sigs: Signatures, params: DetectParams) -> Keys:
    """Detection's LSH bucket of each row in each band, the whole signature last: ``(rows, bands + 1)``."""
    fingerprint = params.fingerprint
    banded = LookupParams(fingerprint, bands=params.lsh_bands)
    whole = LookupParams(fingerprint, bands=1)
    return np.column_stack([band_keys(sigs, banded), band_keys(sigs, whole)])


def _empty(sigs: Signatures) -> npt.NDArray[np.bool_]:
    """Rows without shingles (``fingerprint._empty_rows``): never paired."""
    top = np.iinfo(sigs.dtype).max
    return np.all(sigs == 0xFFFFFFFF, axis=1) | np.all(sigs == top, axis=1)  # type: ignore[no-any-return]


def build(posts: Sequence[Post], ties: Ties) -> tuple[State, list[tuple[str, str, int]], Keys]:
    """The cache of a full run: its state, content rows ``(signal, key, position)`` and bucket
    rows ``(band, band key, first position, last position)``."""
    params = ties.params
    state = State(len(posts))
    for post in posts:
        _tally(state, post)
    order: dict[Content, Order] = {}
    tails: dict[Content, list[Any]] = {}        # [occasion number, its first position, last time]
    gap, rows = params.link.occasion_gap, []
    for i, signal, key, rank in _carried(posts, ties.groups, params):
        content, at = (signal, key), posts[i].created_at
        tail = tails.get(content)
        if tail is None:
            order[content] = (i, rank)
            tails[content] = [0, i, at]
        else:
            if at - tail[2] > gap:
                tail[0], tail[1] = tail[0] + 1, i
            tail[2] = at
        rows.append((signal, key, i))
    delta: Delta = {}
    for content, events in _by_content(ties.events).items():
        state.contents[content] = (order[content], events)
        state.tails[content] = (tails[content][0], tails[content][1])
        add_delta(delta, content[0], pair_weights(events, params.graph), 1)
    state.pairs.apply(delta)
    state.clusters = ties.clusters if ties.clusters is not None else {}
    return state, rows, _buckets(ties, params)


def _buckets(ties: Ties, params: DetectParams) -> Keys:
    """Rows ``(band, band key, first position, last position)`` of every bucket of a full run."""
    sigs = ties.prints.per_post()
    if sigs is None:
        return np.empty((0, 4), dtype=np.int64)
    live = ~_empty(sigs)
    at = np.asarray(sorted(ties.groups), dtype=np.int64)[live]  # one post per signature row
    keys = bucket_keys(sigs[live], params)
    parts = []
    for band in range(keys.shape[1]):
        column = keys[:, band]
        unique, first = np.unique(column, return_index=True)      # rows ascend by position
        _, last = np.unique(column[::-1], return_index=True)
        parts.append(np.column_stack([np.full(len(unique), band, dtype=np.int64), unique,
                                      at[first], at[len(column) - 1 - last]]))
    return np.concatenate(parts) if parts else np.empty((0, 4), dtype=np.int64)


def ordered_events(state: State) -> list[Event]:
    """All events, in the order a full run yields them (signal, then content by first post)."""
    rank = {signal: i for i, signal in enumerate(SIGNALS)}
    contents = sorted(state.contents.items(), key=lambda item: (rank[item[0][0]], item[1][0]))
    return [event for _, (_, events) in contents for event in events]


def ties_graph(state: State, params: GraphParams) -> nx.Graph:
    """``graph.account_graph`` of the totals, sorting only the significant pairs."""
    return account_graph(state.pairs.significant(params), params)


def per_account(state: State) -> Counter[AccountKey]:
    return Counter({account: tally[1] if isinstance(tally, tuple) else tally.posts
                    for account, tally in state.tallies.items()})


def behaviour(state: State, keep: Container[AccountKey],
              created: Mapping[AccountKey, datetime] | None = None) -> dict[AccountKey, dict[str, float]]:
    """``features.account_behaviour`` from the tallies instead of the posts."""
    everyone = max(len(set().union(*state.app_users.values())) if state.app_users else 0, 1)
    kept = {account: t for account in [a for a in state.tallies if a in keep]
            if (t := tally_of(state, account)) is not None}
    first = {account: t.first for account, t in kept.items() if t.first is not None}
    return behaviour_features(kept, first, {app: len(users) for app, users in state.app_users.items()},
                              everyone, created)


def update(state: State, new: Sequence[tuple[int, Post]], params: DetectParams,
           reader: CacheReader, forms: TextForms | None = None) -> Changes:
    """Add the ``new`` posts ``(posts.id, post)`` to ``state``: in detection order, all after
    the cached ones (the caller checks). Returns the cache rows to write; ``forms`` gets the
    new texts' normal forms and signatures, for the text-lookup index."""
    start, posts = state.posts, [post for _, post in new]
    for post in posts:
        _tally(state, post)
    labels, relabelled, buckets = _text_groups(posts, start, params, reader, forms)
    changes = Changes(relabelled=relabelled, buckets=buckets)
    groups = {i: f"t{label}" for i, label in labels.items()}
    added: dict[Content, list[int]] = defaultdict(list)
    for i, signal, key, _ in _carried(posts, groups, params):
        changes.contents.append((signal, key, start + i, new[i][0]))
        added[(signal, key)].append(start + i)
    merged = {("text", f"t{old}"): ("text", f"t{label}") for old, label in relabelled.items()}
    whole = set(merged) | set(merged.values())      # merged groups: all their posts
    tails = {content: state.tails[content] for content in added
             if content in state.tails and content not in whole}
    since = {content: tails[content][1] if content in tails else 0 for content in {*added, *merged}}
    stored = reader.content_posts(since)
    for content, tail in tails.items():              # the tail only: its last occasion on
        stored[content] = [row for row in stored.get(content, ()) if row[0] >= tail[1]]
    fetched = reader.posts(sorted({ref for rows in stored.values() for _, ref in rows}))
    members: dict[Content, dict[int, Post]] = defaultdict(dict)
    for content, rows in stored.items():
        into = members[merged.get(content, content)]
        for position, ref in rows:
            into[position] = fetched[ref]
    for content, positions in added.items():
        for position in positions:
            members[content][position] = posts[position - start]
    delta: Delta = {}
    for content in merged:
        _replace(state, content, None, params, delta)
    for signal in SIGNALS:
        touched = {content: members[content] for content in members if content[0] == signal}
        if touched:
            _redo(state, signal, touched, tails, params, delta)
    change = state.pairs.apply(delta)
    if change is not None:
        state.journal.pairs.append(change)
    changes.touched = len(members) + len(merged)
    state.posts += len(posts)
    return changes


def _redo(state: State, signal: str, touched: Mapping[Content, Mapping[int, Post]],
          tails: Mapping[Content, Tail], params: DetectParams, delta: Delta) -> None:
    """Make the events of the ``touched`` contents of one signal again: from their tail's posts
    on (events of earlier occasions kept) for those in ``tails``, else from all their posts."""
    everyone = {position: post for members in touched.values() for position, post in members.items()}
    positions = sorted(everyone)
    index = {p: j for j, p in enumerate(positions)}
    sub = [everyone[p] for p in positions]
    labels = {p: key for (_, key), members in touched.items() for p in members} if signal == "text" else {}
    groups = {j: labels[p] for j, p in enumerate(positions) if p in labels}
    order: dict[Content, Order] = {}
    for j, _, key, rank in _carried(sub, groups, params, (signal,)):
        order.setdefault((signal, key), (positions[j], rank))
    gap = params.link.occasion_gap
    for content, members in touched.items():
        indices = [index[p] for p in sorted(members)]
        first = tails[content][0] if content in tails else 0
        made = list(key_events(signal, content[1], indices, sub, params.link, first))
        number, at = last_occasion(indices, sub, gap)
        tail = (first + number, positions[at])
        if content in tails:
            _replace_tail(state, content, made, tail, params, delta)
        else:
            _replace(state, content, (order[content], made, tail) if made else None, params, delta)


def _replace_tail(state: State, content: Content, made: list[Event], tail: Tail,
                  params: DetectParams, delta: Delta) -> None:
    """Replace a content's events from its old tail's occasion on with ``made``: a pair's share
    is a sum over occasions, so only those occasions' shares change."""
    old = _set_tail(state, content, made, tail)
    add_change(delta, content[0], pair_weights(old, params.graph), pair_weights(made, params.graph))
    state.journal.steps.append(("tail", content, _pack_content((0, 0), made), tail))


def _set_tail(state: State, content: Content, made: list[Event], tail: Tail) -> list[Event]:
    """Replace the events from the content's old tail's occasion on; returns those replaced."""
    first = state.tails[content][0]
    order, events = state.contents[content]
    state.contents[content] = (order, [e for e in events if e.occasion < first] + made)
    state.tails[content] = tail
    state.packed.pop(content, None)
    return [e for e in events if e.occasion >= first]


def _replace(state: State, content: Content, now: tuple[Order, list[Event], Tail] | None,
             params: DetectParams, delta: Delta) -> None:
    """Take a content's old share off the pair totals and add its new one (into ``delta``)."""
    packed = None if now is None else _pack_content(*now[:2])   # for the log, and kept
    old = _set(state, content, now, packed)
    add_change(delta, content[0], pair_weights(old[1], params.graph) if old is not None else {},
               pair_weights(now[1], params.graph) if now is not None else {})
    state.journal.steps.append(("set", content, packed, None if now is None else now[2]))


def _set(state: State, content: Content, now: tuple[Order, list[Event], Tail] | None,
         packed: Packed | None = None) -> tuple[Order, list[Event]] | None:
    """Put a content's events (or none) in place of its old ones; returns the old ones."""
    old = state.contents.pop(content, None)
    state.tails.pop(content, None)
    state.packed.pop(content, None)
    if now is not None:
        order, events, tail = now
        state.contents[content], state.tails[content] = (order, events), tail
        if packed is not None:
            state.packed[content] = packed
    return old


def _text_groups(posts: Sequence[Post], start: int, params: DetectParams, reader: CacheReader,
                 forms: TextForms | None = None,
                 ) -> tuple[dict[int, int], dict[int, int], dict[Bucket, tuple[int, int]]]:
    """Text group label of each new fingerprinted post, old labels merged into others, and the
    buckets' new ends. The pairs checked are those ``near_duplicate_pairs`` checks: each new row
    with its bucket's first row and with the row before it."""
    chosen, texts = text_rows(posts, params, forms.normal_of if forms is not None else None)
    if not chosen:
        return {}, {}, {}
    sigs = signatures(texts, params.fingerprint, normalized=True)
    if forms is not None:
        forms.signatures, forms.sig_rows = sigs, {text: row for row, text in enumerate(texts)}
    keys, empty = bucket_keys(sigs, params).tolist(), _empty(sigs)
    live = [row for row in range(len(chosen)) if not empty[row]]
    ends = reader.bucket_ends(sorted({(band, key) for row in live for band, key in enumerate(keys[row])}))
    changed: dict[Bucket, tuple[int, int]] = {}
    pairs: set[tuple[int, int]] = set()          # (earlier position, new row)
    for row in live:
        at = start + chosen[row]
        for band, key in enumerate(keys[row]):
            known = ends.get((band, key))
            if known is not None:
                pairs.add((known[0], row))
                pairs.add((known[1], row))
            ends[(band, key)] = changed[(band, key)] = (known[0] if known else at, at)
    node = _verified_pairs(pairs, sigs, chosen, start, params, reader)
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while x != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in node:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    labels = {i: find(start + i) for i in chosen}
    relabelled = {x: find(x) for x in parent if x < start and find(x) != x}
    return labels, relabelled, changed


def _verified_pairs(pairs: set[tuple[int, int]], sigs: Signatures, chosen: Sequence[int], start: int,
                    params: DetectParams, reader: CacheReader) -> list[tuple[int, int]]:
    """The candidate pairs similar enough, as (old group label or new position, new position)."""
    row_at = {start + i: row for row, i in enumerate(chosen)}
    old = reader.text_posts(sorted({p for p, _ in pairs if p < start}))
    fetched = reader.texts(sorted(ref for ref, _ in old.values()))
    old_rows = {p: n for n, p in enumerate(old)}
    old_sigs = signatures([normalize_text(fetched[ref]) for ref, _ in old.values()],
                          params.fingerprint, normalized=True) if old else sigs[:0]
    found = []
    for p, row in sorted(pairs):
        left = old_sigs[old_rows[p]] if p < start else sigs[row_at[p]]
        if np.count_nonzero(left == sigs[row]) / sigs.shape[1] >= params.similarity:
            found.append((old[p][1] if p < start else p, start + chosen[row]))
    return found


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _at(us: int) -> datetime:
    return _EPOCH + us * _MICROSECOND


def _pack_content(order: Order, events: list[Event]) -> bytes:
    """One content's events, pickled as columns: each event's own fields, then its
    participants' accounts (by number in the content's list of accounts: a ring's accounts
    come back event after event), post ids and times. Tuples per participant took twice as
    long to unpickle, and pickling dataclasses field by field costs 10x more."""
    accounts: dict[AccountKey, int] = {}
    numbers: list[int] = []
    post_ids: list[str] = []
    times: list[datetime] = []
    heads = []
    for e in events:
        heads.append((e.start, e.end, e.key_posts, e.key_accounts, e.occasion, len(e.participants)))
        for p in e.participants:
            numbers.append(accounts.setdefault(p.account, len(accounts)))
            post_ids.append(p.post_id)
            times.append(p.time)
    return pickle.dumps((order, heads, list(accounts), numbers, post_ids, times),
                        protocol=pickle.HIGHEST_PROTOCOL)


Unpacked = tuple[Order, list[Event]]


def _unpack_content(content: Content, blob: Packed | Unpacked) -> Unpacked:
    """A content's events from its blob (:func:`_pack_content`), or as given when unpacked."""
    if isinstance(blob, tuple):
        return blob
    signal, key = content
    order, heads, accounts, numbers, post_ids, times = pickle.loads(blob)  # ours: _pack_content
    people = list(map(Participation, map(accounts.__getitem__, numbers), post_ids, times))
    events, at = [], 0
    for start, end, key_posts, key_accounts, occasion, count in heads:
        events.append(Event(signal, key, start, end, tuple(people[at:at + count]),
                            key_posts, key_accounts, occasion))
        at += count
    return order, events


def _tally_row(account: AccountKey, t: Tally | TallyRow) -> TallyRow:
    if isinstance(t, tuple):                    # still as loaded
        return t
    return (account, t.posts, t.reposts, dict(t.hours), dict(t.clients),
            _us(t.first) if t.first else None)


def _tally_of(row: TallyRow) -> tuple[AccountKey, Tally]:
    account, count, reposts, hours, clients, first = row
    return account, Tally(count, reposts, Counter(hours), Counter(clients),
                          _at(first) if first is not None else None)


@contextmanager
def _no_collection() -> Iterator[None]:
    """Unpacking makes millions of objects and no garbage: a collection would only walk them
    (at 3M posts they doubled the time to unpack). They then live for the whole run, so they
    are frozen (``gc.freeze``): later collections skip them until :func:`thaw`. Unfrozen, the
    first collection after the load walked them all (0.6-0.9 s at 3M), and every full one did
    again (0.8-0.9 s; 0.1 s frozen)."""
    global _froze
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():       # else the process froze its own (``cib serve``)
            gc.freeze()
            _froze = True
        if enabled:
            gc.enable()


_froze = False                              # whether a load froze the heap, for thaw


def thaw() -> None:
    """Hand what a load froze back to the garbage collector (at the end of a run); nothing
    when no load froze it."""
    global _froze
    if _froze:
        gc.unfreeze()
        _froze = False


def pack(state: State) -> bytes:
    """The state, pickled: each content's events apart, so that an update re-packs only the
    contents it changed, and the pair totals as arrays (contents and arrays kept raw: see
    :func:`_framed`)."""
    contents = {content: pickle.PickleBuffer(state.packed.get(content) or _pack_content(*entry))
                for content, entry in state.contents.items()}
    tallies = [_tally_row(account, t) for account, t in state.tallies.items()]
    users = {client: sorted(accounts) for client, accounts in state.app_users.items()}
    pairs = (state.pairs.accounts, *state.pairs.arrays())
    return _framed((CACHE_VERSION, state.posts, contents, pairs, tallies, users, state.tails,
                    state.clusters, state.similar), raw_arrays=True)


_MAGIC = b"CIB\x02"                 # a framed blob
_MAGIC_1 = b"CIB\x01"               # one framed before contents were kept raw: all buffers writable


def _framed(value: object, *, raw_arrays: bool = False) -> bytes:
    """``value`` pickled and compressed; with ``raw_arrays``, its out-of-band buffers (pickle
    protocol 5: numpy arrays, and ``PickleBuffer``s of bytes) after it, uncompressed. At 3M
    posts the pair totals' 227 MB took zlib 1.1 s to compress and 1.2 s to decompress at each
    load; read raw, 0.3 s. The contents' 24k blobs (120 MB) are kept raw too, as views on one
    copy: in the compressed part, unframing the state took 1.3 s, raw 0.9 s. What stays
    compressed is small (tallies, users, tails, similarities: 37 MB).

    The frame: magic, the compressed part's size, the number of buffers, each one's size and
    whether it is writable (arrays are; the contents' bytes not), then the parts."""
    buffers: list[pickle.PickleBuffer] = []
    stream = zlib.compress(pickle.dumps(value, protocol=5,
                                        buffer_callback=buffers.append if raw_arrays else None), 1)
    raws = [buffer.raw() for buffer in buffers]
    head = struct.pack(f"<4sQI{len(raws)}Q{len(raws)}B", _MAGIC, len(stream), len(raws),
                       *(r.nbytes for r in raws), *(not r.readonly for r in raws))
    return b"".join([head, stream, *raws])


def _unframed(blob: bytes) -> Any:
    """What :func:`_framed` made (raises ``ValueError`` on a blob cut short). Each run of
    writable buffers is one copy (the totals are added to in place), each run of the others one
    read-only copy: neither holds on to the blob."""
    if not blob.startswith((_MAGIC, _MAGIC_1)):
        return pickle.loads(zlib.decompress(blob))     # an older cache's: restore discards it
    size, count = struct.unpack_from("<QI", blob, len(_MAGIC))
    at = len(_MAGIC) + 12
    lengths = struct.unpack_from(f"<{count}Q", blob, at)
    at += 8 * count
    writable = [True] * count
    if blob.startswith(_MAGIC):
        writable = [bool(flag) for flag in struct.unpack_from(f"<{count}B", blob, at)]
        at += count
    if at + size + sum(lengths) != len(blob):
        raise ValueError(f"the blob holds {len(blob):,} bytes, its frame says "
                         f"{at + size + sum(lengths):,}")
    stream = zlib.decompress(memoryview(blob)[at:at + size])
    return pickle.loads(stream, buffers=_buffers(memoryview(blob)[at + size:], lengths, writable))


def _buffers(raw: memoryview, lengths: Sequence[int], writable: Sequence[bool]) -> list[memoryview]:
    """The buffers laid one after the other in ``raw``: views on one copy per run of buffers
    alike (a bytearray for writable ones, bytes for the others)."""
    views: list[memoryview] = []
    start = 0
    for kind, run in itertools.groupby(zip(lengths, writable, strict=True), key=lambda pair: pair[1]):
        sizes = [length for length, _ in run]
        part = raw[start:start + sum(sizes)]
        copy = memoryview(bytearray(part) if kind else bytes(part))
        at = 0
        for length in sizes:
            views.append(copy[at:at + length])
            at += length
        start += sum(sizes)
    return views


def restore(blob: bytes, log: Sequence[bytes] = ()) -> State | None:
    """The state :func:`pack` made, with the changes :func:`pack_changes` logged after it made
    again on it, in order (``None``: a state of another cache version; ``ValueError``: a log
    row that is not a change of this version).

    Contents stay pickled while the log is replayed, unless a logged step replaced their last
    occasions, and are made into events at the end: a content the log replaced is never
    unpickled."""
    with _no_collection():
        loaded = _unframed(blob)  # our own blob, from pack
        if not isinstance(loaded, tuple) or loaded[:1] != (CACHE_VERSION,):
            return None
        _, posts, contents, pairs, tallies, users, tails, clusters, similar = loaded
        state = State(posts, tails=tails, pairs=PairTotals(*pairs), clusters=clusters, similar=similar)
        state.tallies = {row[0]: row for row in tallies}      # unpacked when read: tally_of
        state.app_users.update({client: set(accounts) for client, accounts in users.items()})
        read: dict[Content, Packed | Unpacked] = contents
        for number, changes in enumerate(log, start=2):   # as the cache's rows
            _replay(state, read, changes, number)
        state.contents = {content: _unpack_content(content, value) for content, value in read.items()}
        state.packed = {content: value for content, value in read.items() if not isinstance(value, tuple)}
    return state


def _replay(state: State, contents: dict[Content, Packed | Unpacked], blob: bytes, number: int) -> None:
    """Make one log row's changes on a state being restored, its contents as read."""
    loaded = _unframed(blob)  # our own blob, from pack_changes
    if not isinstance(loaded, tuple) or loaded[:2] != (CACHE_VERSION, "changes"):
        raise ValueError(f"log row {number} is not a change of this cache version")
    _, _, posts, steps, tallies, users, pairs, clusters, similar = loaded
    state.clusters = clusters                   # whole in each row: the last row's hold
    state.similar.update(similar)
    for kind, content, packed, tail in steps:
        if kind == "tail":              # the events before the old tail's occasion, then these
            order, events = _unpack_content(content, contents[content])
            first = state.tails[content][0]
            contents[content] = (order, [e for e in events if e.occasion < first]
                                 + _unpack_content(content, packed)[1])
            state.tails[content] = tail
        elif packed is None:
            contents.pop(content, None)
            state.tails.pop(content, None)
        else:
            contents[content], state.tails[content] = packed, tail
    state.tallies.update((row[0], row) for row in tallies)
    for client, account in users:
        state.app_users[client].add(account)
    for change in pairs:
        state.pairs.replay(Change(*change))
    state.posts = posts


def pack_changes(state: State) -> bytes:
    """What updates changed since the state was unpacked (its journal), for the cache's log:
    a few contents' new events, the changed tallies and the pair totals' deltas, instead of
    the whole state again."""
    journal = state.journal
    tallies = [_tally_row(account, state.tallies[account]) for account in journal.accounts]
    pairs = [tuple(change) for change in journal.pairs]      # plain tuples of arrays
    return _framed((CACHE_VERSION, "changes", state.posts, journal.steps, tallies,
                    journal.users, pairs, state.clusters,      # clusters: a few hundred, whole
                    journal.similar))
