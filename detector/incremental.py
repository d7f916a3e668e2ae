"""Incremental detection: bring a full run's events and pair totals up to date with new posts.

A pair's weight is a sum over contents (signal, key) of that content's best event weight per
occasion, and a content's events depend on its own posts only. New posts touch few contents:
their repost and reply targets, links, hashtag set and text group. Those contents' events are
made again from all their posts, their old share of the pair totals taken off and the new one
added; every other content is kept as the last run left it.

Exact (weights aside, which are summed in another order: within 1e-9) while the new posts all
come after the cached ones in detection order (time, platform, post id): every cached post then
keeps its position, so text group labels (``t<position of the group's first post>``), the LSH
buckets' first rows and the order of contents stay what a full run makes them. The caller checks
that; :mod:`detector.refresh` falls back to a full run otherwise. Pure: the reads go through a
:class:`CacheReader` (:mod:`detector.store.slices`).
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

import networkx as nx
import numpy as np
import numpy.typing as npt

from detector.detect import text_rows
from detector.features import _Tally, behaviour_features
from detector.fingerprint import Signatures, signatures
from detector.graph import GraphParams, Pair, PairStats, account_graph, pair_weights
from detector.link import SIGNALS, AccountKey, Event, Participation, co_action_events, content_keys
from detector.lookup import LookupParams, band_keys
from detector.normalize import normalize_text
from detector.records import Post

if TYPE_CHECKING:
    from detector.detect import DetectParams, Ties

CACHE_VERSION = 2               # bump when the cache's meaning changes: older caches run full
Content = tuple[str, str]       # (signal, key)
Order = tuple[int, int]         # (position of the content's first post, rank among its keys)
Bucket = tuple[int, int]        # (band, band key); band == bands: the whole signature
Keys = npt.NDArray[np.int64]


def params_hash(params: DetectParams) -> str:
    """What a cache was made with; another value means a full run."""
    blob = json.dumps({"params": params.to_json(), "version": CACHE_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


# A pair's summed weight and contents, with its contents per signal (so that they can be taken
# off): a plain tuple, as there are millions and the cache pickles them all.
PairTotal = tuple[float, int, tuple[int, ...]]
_NO_CONTENTS = (0,) * len(SIGNALS)


def _stats(total: PairTotal) -> PairStats:
    weight, contents, by_signal = total
    return PairStats(weight, contents, sum(1 << i for i, n in enumerate(by_signal) if n > 0))


@dataclass
class Tally(_Tally):
    """An account's posts, as ``features.account_behaviour`` counts them, and its first post's time."""

    first: datetime | None = None


@dataclass
class State:
    """What a run leaves for the next incremental one (stored as one blob)."""

    posts: int                                                 # positions 0 .. posts - 1 taken
    contents: dict[Content, tuple[Order, list[Event]]] = field(default_factory=dict)
    pairs: dict[Pair, PairTotal] = field(default_factory=dict)
    tallies: dict[AccountKey, Tally] = field(default_factory=dict)
    app_users: dict[str, set[AccountKey]] = field(default_factory=lambda: defaultdict(set))


@dataclass
class Changes:
    """The rows an update adds or changes in the cache tables."""

    contents: list[tuple[str, str, int, int]] = field(default_factory=list)  # signal, key, pos, ref
    relabelled: dict[int, int] = field(default_factory=dict)   # old text label -> new label
    buckets: dict[Bucket, tuple[int, int]] = field(default_factory=dict)  # -> (first, last) pos
    existing: set[Bucket] = field(default_factory=set)          # of those, the ones stored before
    touched: int = 0


class CacheReader(Protocol):
    """The reads an update needs (``detector.store.slices.SliceReader``)."""

    def bucket_ends(self, buckets: Sequence[Bucket]) -> dict[Bucket, tuple[int, int]]: ...
    def text_posts(self, positions: Sequence[int]) -> dict[int, tuple[int, int]]: ...
    def posts(self, refs: Sequence[int]) -> dict[int, Post]: ...
    def content_posts(self, contents: Sequence[Content]) -> dict[Content, list[tuple[int, int]]]: ...


def _add_pairs(pairs: dict[Pair, PairTotal], signal: str, contribution: Mapping[Pair, PairStats],
               sign: int) -> None:
    slot = SIGNALS.index(signal)
    for pair, stats in contribution.items():
        weight, contents, by_signal = pairs.get(pair, (0.0, 0, _NO_CONTENTS))
        contents += sign * stats.contents
        if contents == 0:
            pairs.pop(pair, None)
            continue
        by_signal = (*by_signal[:slot], by_signal[slot] + sign * stats.contents, *by_signal[slot + 1:])
        pairs[pair] = (weight + sign * stats.weight, contents, by_signal)


def _tally(state: State, post: Post) -> None:
    account = (post.platform, post.account_id)
    if post.client:
        state.app_users[post.client].add(account)
    tally = state.tallies.get(account)
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


def _text_rows(posts: Sequence[Post], params: DetectParams) -> tuple[list[int], list[str]]:
    """Which posts detection fingerprints (as ``detect.fingerprint_texts``), and their texts."""
    return text_rows(posts, params)


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
    rows = []
    for i, signal, key, rank in _carried(posts, ties.groups, params):
        order.setdefault((signal, key), (i, rank))
        rows.append((signal, key, i))
    for content, events in _by_content(ties.events).items():
        state.contents[content] = (order[content], events)
        _add_pairs(state.pairs, content[0], pair_weights(events, params.graph), 1)
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
    kept = {pair: _stats(total) for pair, total in state.pairs.items()
            if total[1] >= params.min_contents and total[0] >= params.min_weight}
    return account_graph(kept, params)


def per_account(state: State) -> Counter[AccountKey]:
    return Counter({account: tally.posts for account, tally in state.tallies.items()})


def behaviour(state: State, keep: Container[AccountKey],
              created: Mapping[AccountKey, datetime] | None = None) -> dict[AccountKey, dict[str, float]]:
    """``features.account_behaviour`` from the tallies instead of the posts."""
    everyone = max(len(set().union(*state.app_users.values())) if state.app_users else 0, 1)
    kept = {account: t for account, t in state.tallies.items() if account in keep}
    first = {account: t.first for account, t in kept.items() if t.first is not None}
    return behaviour_features(kept, first, {app: len(users) for app, users in state.app_users.items()},
                              everyone, created)


def update(state: State, new: Sequence[tuple[int, Post]], params: DetectParams,
           reader: CacheReader) -> Changes:
    """Add the ``new`` posts ``(posts.id, post)`` to ``state``: in detection order, all after
    the cached ones (the caller checks). Returns the cache rows to write."""
    start, posts = state.posts, [post for _, post in new]
    for post in posts:
        _tally(state, post)
    labels, relabelled, buckets, existing = _text_groups(posts, start, params, reader)
    changes = Changes(relabelled=relabelled, buckets=buckets, existing=existing)
    groups = {i: f"t{label}" for i, label in labels.items()}
    added: dict[Content, list[int]] = defaultdict(list)
    for i, signal, key, _ in _carried(posts, groups, params):
        changes.contents.append((signal, key, start + i, new[i][0]))
        added[(signal, key)].append(start + i)
    merged = {("text", f"t{old}"): ("text", f"t{label}") for old, label in relabelled.items()}
    stored = reader.content_posts(sorted(set(added) | set(merged)))
    fetched = reader.posts(sorted({ref for rows in stored.values() for _, ref in rows}))
    members: dict[Content, dict[int, Post]] = defaultdict(dict)
    for content, rows in stored.items():
        into = members[merged.get(content, content)]
        for position, ref in rows:
            into[position] = fetched[ref]
    for content, positions in added.items():
        for position in positions:
            members[content][position] = posts[position - start]
    for content in merged:
        _replace(state, content, None, params)
    for signal in SIGNALS:
        touched = {content: members[content] for content in members if content[0] == signal}
        if touched:
            _redo(state, signal, touched, params)
    changes.touched = len(members) + len(merged)
    state.posts += len(posts)
    return changes


def _redo(state: State, signal: str, touched: Mapping[Content, Mapping[int, Post]],
          params: DetectParams) -> None:
    """Make the events of the ``touched`` contents of one signal again, from all their posts."""
    everyone = {position: post for members in touched.values() for position, post in members.items()}
    positions = sorted(everyone)
    sub = [everyone[p] for p in positions]
    labels = {p: key for (_, key), members in touched.items() for p in members} if signal == "text" else {}
    groups = {j: labels[p] for j, p in enumerate(positions) if p in labels}
    order: dict[Content, Order] = {}
    for j, _, key, rank in _carried(sub, groups, params, (signal,)):
        order.setdefault((signal, key), (positions[j], rank))
    made = _by_content(co_action_events(sub, groups, params.link, (signal,)))
    for content in touched:
        events = made.get(content)
        _replace(state, content, (order[content], events) if events else None, params)


def _replace(state: State, content: Content, now: tuple[Order, list[Event]] | None,
             params: DetectParams) -> None:
    """Take a content's old share off the pair totals and add its new one."""
    old = state.contents.pop(content, None)
    if old is not None:
        _add_pairs(state.pairs, content[0], pair_weights(old[1], params.graph), -1)
    if now is not None:
        state.contents[content] = now
        _add_pairs(state.pairs, content[0], pair_weights(now[1], params.graph), 1)


def _text_groups(posts: Sequence[Post], start: int, params: DetectParams, reader: CacheReader,
                 ) -> tuple[dict[int, int], dict[int, int], dict[Bucket, tuple[int, int]], set[Bucket]]:
    """Text group label of each new fingerprinted post, old labels merged into others, and the
    buckets' new ends. The pairs checked are those ``near_duplicate_pairs`` checks: each new row
    with its bucket's first row and with the row before it."""
    chosen, texts = _text_rows(posts, params)
    if not chosen:
        return {}, {}, {}, set()
    sigs = signatures(texts, params.fingerprint, normalized=True)
    keys, empty = bucket_keys(sigs, params).tolist(), _empty(sigs)
    live = [row for row in range(len(chosen)) if not empty[row]]
    ends = reader.bucket_ends(sorted({(band, key) for row in live for band, key in enumerate(keys[row])}))
    existing, changed = set(ends), dict[Bucket, tuple[int, int]]()
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
    return labels, relabelled, changed, existing


def _verified_pairs(pairs: set[tuple[int, int]], sigs: Signatures, chosen: Sequence[int], start: int,
                    params: DetectParams, reader: CacheReader) -> list[tuple[int, int]]:
    """The candidate pairs similar enough, as (old group label or new position, new position)."""
    row_at = {start + i: row for row, i in enumerate(chosen)}
    old = reader.text_posts(sorted({p for p, _ in pairs if p < start}))
    fetched = reader.posts(sorted(ref for ref, _ in old.values()))
    old_rows = {p: n for n, p in enumerate(old)}
    old_sigs = signatures([normalize_text(fetched[ref].text) for ref, _ in old.values()],
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


def pack(state: State) -> bytes:
    """The state as plain tuples, pickled: pickling dataclasses field by field costs 10x more."""
    contents = [(signal, key, order, [
        (_us(e.start), _us(e.end), tuple((*p.account, p.post_id, _us(p.time)) for p in e.participants),
         e.key_posts, e.key_accounts, e.occasion) for e in events])
        for (signal, key), (order, events) in state.contents.items()]
    tallies = [(account, t.posts, t.reposts, dict(t.hours), dict(t.clients),
                _us(t.first) if t.first else None) for account, t in state.tallies.items()]
    users = {client: sorted(accounts) for client, accounts in state.app_users.items()}
    return pickle.dumps((CACHE_VERSION, state.posts, contents, state.pairs, tallies, users),
                        protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> State | None:
    """What :func:`pack` made, or ``None`` from another cache version."""
    loaded = pickle.loads(blob)  # our own blob, from pack
    if not isinstance(loaded, tuple) or loaded[:1] != (CACHE_VERSION,):
        return None
    _, posts, contents, pairs, tallies, users = loaded
    state = State(posts)
    for signal, key, order, events in contents:
        state.contents[(signal, key)] = (order, [
            Event(signal, key, _at(start), _at(end),
                  tuple(Participation((platform, account), post_id, _at(time))
                        for platform, account, post_id, time in people), key_posts, key_accounts, occasion)
            for start, end, people, key_posts, key_accounts, occasion in events])
    state.pairs = pairs
    state.tallies = {account: Tally(count, reposts, Counter(hours), Counter(clients),
                                    _at(first) if first is not None else None)
                     for account, count, reposts, hours, clients, first in tallies}
    state.app_users.update({client: set(accounts) for client, accounts in users.items()})
    return state
