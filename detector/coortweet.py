"""CooRTweet's co-share rule, reproduced: the preset that yields CooRTweet's own account pairs.

``detect_groups(x, time_window, min_participation)`` followed by ``generate_coordinated_network``
(CooRTweet 2.x, Righetti & Balluff) links two accounts when they shared the same object within
``time_window`` seconds (every pair of shares, ``|dt| <= time_window``), after keeping only
accounts with at least ``min_participation`` shares, dropping self-pairs, and keeping a pair
when at least one side's account has ``min_participation`` coordinated shares. The edge weight
is the number of such pairs of shares. Published defaults: 10 s, 2.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import networkx as nx

from detector.link import Event, Participation
from detector.records import Post


@dataclass(frozen=True)
class CoortweetParams:
    time_window: int = 10          # seconds
    min_participation: int = 2


@dataclass(frozen=True, slots=True)
class Share:
    object_id: str
    account_id: str
    content_id: str
    timestamp: int                 # Unix seconds, as CooRTweet's timestamp_share


@dataclass(frozen=True, slots=True)
class CoShare:
    object_id: str
    account: str
    content: str
    account_y: str
    content_y: str
    timestamp: int
    timestamp_y: int


def shares_of(posts: Iterable[Post]) -> list[Share]:
    """A post shares what it reposts, else its first link. Posts read from a CooRTweet file
    carry ``content_id/object_id`` as post id; the share's own id is the part before the slash."""
    found = []
    for post in posts:
        shared = post.repost_of or (post.urls[0] if post.urls else None)
        if shared is None:
            continue
        content = post.post_id.split("/", 1)[0] if "/" in post.post_id else post.post_id
        found.append(Share(shared, post.account_id, content, int(post.created_at.timestamp())))
    return found


def _pairs_in_window(group: Sequence[Share], window: int) -> Iterable[tuple[Share, Share]]:
    ordered = sorted(group, key=lambda s: s.timestamp)
    for i, first in enumerate(ordered):
        for second in ordered[i + 1:]:
            if second.timestamp - first.timestamp > window:
                break
            yield first, second


def co_shares(shares: Sequence[Share], params: CoortweetParams = CoortweetParams()) -> list[CoShare]:
    """``detect_groups``: the coordinated pairs of shares that survive its filters."""
    per_account = Counter(s.account_id for s in shares)
    kept = [s for s in shares if per_account[s.account_id] >= params.min_participation]
    by_object: dict[str, list[Share]] = defaultdict(list)
    for share in kept:
        by_object[share.object_id].append(share)
    result = [CoShare(a.object_id, a.account_id, a.content_id, b.account_id, b.content_id,
                      a.timestamp, b.timestamp)
              for group in by_object.values() if len(group) > 1
              for a, b in _pairs_in_window(group, params.time_window)
              if a.object_id not in (a.content_id, b.content_id)
              and a.content_id != b.content_id and a.account_id != b.account_id]
    contents = {c for r in result for c in (r.content, r.content_y)}
    involved = Counter(s.account_id for s in kept if s.content_id in contents)
    qualified = {s.content_id for s in kept if s.content_id in contents
                 and involved[s.account_id] >= params.min_participation}
    return [r for r in result if r.content in qualified or r.content_y in qualified]


def weights_of(pairs: Iterable[CoShare]) -> dict[tuple[str, str], int]:
    """``generate_coordinated_network``: account pairs (sorted) and their weights."""
    weights: Counter[tuple[str, str]] = Counter()
    for pair in pairs:
        a, b = sorted((pair.account, pair.account_y))
        weights[(a, b)] += 1
    return dict(weights)


def coordinated_network(shares: Sequence[Share],
                        params: CoortweetParams = CoortweetParams()) -> dict[tuple[str, str], int]:
    """``detect_groups`` then ``generate_coordinated_network`` on ``shares``."""
    return weights_of(co_shares(shares, params))


def events_of(pairs: Iterable[CoShare], platform: str = "twitter") -> list[Event]:
    """The co-shares of each object as one event, for campaigns and evidence."""
    by_object: dict[str, dict[str, Participation]] = defaultdict(dict)
    for pair in pairs:
        members = by_object[pair.object_id]
        for account, content, stamp in ((pair.account, pair.content, pair.timestamp),
                                        (pair.account_y, pair.content_y, pair.timestamp_y)):
            moment = datetime.fromtimestamp(stamp, tz=UTC)
            if account not in members or members[account].time > moment:
                members[account] = Participation((platform, account), content, moment)
    events = []
    for key, members in sorted(by_object.items()):
        people = tuple(sorted(members.values(), key=lambda p: (p.time, p.account)))
        events.append(Event("repost", key, people[0].time, people[-1].time, people,
                            len(people), len(people)))
    return events


def network_graph(weights: dict[tuple[str, str], int], platform: str = "twitter") -> nx.Graph:
    """CooRTweet's network as our account graph: every pair kept, weight = co-shares."""
    graph = nx.Graph()
    for (a, b), weight in sorted(weights.items()):
        graph.add_edge((platform, a), (platform, b), weight=float(weight), contents=weight,
                       signals="repost")
    return graph
