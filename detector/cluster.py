"""Cluster: campaigns from seeded community detection on the significant ties (each connected
component on its own), plus relays."""

from __future__ import annotations

import hashlib
import marshal
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import networkx as nx

from detector.graph import GraphParams, is_relay
from detector.link import AccountKey, Event, Participation


@dataclass(frozen=True)
class ClusterParams:
    seed: int = 1
    resolution: float = 0.1         # Louvain's, in each connected component (see communities)
    min_members: int = 2
    merge_overlap: float = 0.5      # campaigns sharing this share of members become one


@dataclass
class Campaign:
    """Accounts tied by repeated or unusually synchronous co-action, with the events that tie them."""

    kind: str                               # "network" (community) or "relay" (one burst)
    members: tuple[AccountKey, ...]
    events: list[Event] = field(default_factory=list)
    campaign_id: str = ""
    score: float = 0.0
    features: dict[str, float] = field(default_factory=dict)

    @property
    def start(self) -> datetime:
        return min(e.start for e in self.events)

    @property
    def end(self) -> datetime:
        return max(e.end for e in self.events)

    @property
    def signals(self) -> list[str]:
        counts = Counter(e.signal for e in self.events)
        return [s for s, _ in counts.most_common()]

    def ranked_events(self) -> list[Event]:
        """Its events as evidence shows them: the biggest first, then the earliest."""
        return sorted(self.events, key=lambda e: (-e.size, e.start))


Clusters = dict[bytes, list[tuple[AccountKey, ...]]]    # a component's digest -> its communities


def communities(graph: nx.Graph, params: ClusterParams, known: Clusters | None = None,
                components: list[list[Edge]] | None = None) -> list[tuple[AccountKey, ...]]:
    """Louvain communities of at least ``min_members``, found in each connected component of
    the ties on its own (seeded, at ``params.resolution``): a component's communities depend on
    its ties alone, whatever else the graph holds.

    Louvain on the whole graph weighed each component against the total weight of all of
    them, so a campaign could split or merge when unrelated datasets were added (at 3M posts
    every component stayed whole; on small dumps some split). At resolution 0.1 per component
    the campaigns are the same on the thirteen simulated dumps of ``bench/bench_quality.py``
    and on the Internet Research Agency's October 2016 tweets they agree better with the
    accounts' coding (adjusted Rand index 0.37 against 0.32).

    ``known`` maps a component's digest to its communities: those found in it are taken
    instead of running Louvain again (an incremental run changes a few components of
    hundreds), and it is left holding those of this graph's components. Without it no digest
    is made (a run that keeps no cache). ``components``: the graph's ``component_edges``, when
    already made."""
    parts = component_edges(graph) if components is None else components
    if known is None:
        found = [_louvain(edges, params) for edges in parts]
    else:
        by_digest: Clusters = {}
        for edges in parts:
            digest = _digest(edges, params)
            groups = known.get(digest)
            by_digest[digest] = groups if groups is not None else _louvain(edges, params)
        known.clear()
        known.update(by_digest)
        found = list(by_digest.values())
    kept = [g for groups in found for g in groups if len(g) >= params.min_members]
    return sorted(kept, key=lambda g: (-len(g), g))


Edge = tuple[AccountKey, AccountKey, float]


def component_edges(graph: nx.Graph) -> list[list[Edge]]:
    """Each connected component's ties, each as (lesser account, greater, weight), sorted."""
    components = list(nx.connected_components(graph))
    number = {account: n for n, component in enumerate(components) for account in component}
    edges: list[list[Edge]] = [[] for _ in components]
    for a, b, weight in graph.edges(data="weight"):
        edges[number[a]].append((a, b, weight) if a < b else (b, a, weight))
    return [sorted(part) for part in edges]


def _digest(edges: list[Edge], params: ClusterParams) -> bytes:
    """What a component's communities depend on: its ties, the seed, the resolution and the
    Louvain of this networkx. Marshal's version 2 writes the same bytes for the same values
    (no references between objects, floats exactly) in a third of the time repr took."""
    made = marshal.dumps((nx.__version__, params.seed, params.resolution, edges), 2)
    return hashlib.blake2b(made, digest_size=16).digest()


def _louvain(edges: list[Edge], params: ClusterParams) -> list[tuple[AccountKey, ...]]:
    """One component's Louvain communities. Its graph is made from the sorted ties, so that
    the order Louvain visits nodes and neighbours in (which breaks its ties) is theirs, not
    the order the whole graph was built in."""
    component = nx.Graph()
    component.add_weighted_edges_from(edges)
    return [tuple(sorted(c)) for c in nx.community.louvain_communities(
        component, weight="weight", seed=params.seed, resolution=params.resolution)]


def _events_among(members: Sequence[AccountKey], by_account: dict[AccountKey, list[int]],
                  events: Sequence[Event]) -> list[Event]:
    """Events in which at least two of ``members`` took part, limited to those members."""
    inside = set(members)
    counts: Counter[int] = Counter()
    for account in members:
        counts.update(by_account.get(account, ()))
    chosen = []
    for index in sorted(i for i, n in counts.items() if n >= 2):
        event = events[index]
        kept = tuple(p for p in event.participants if p.account in inside)
        chosen.append(Event(event.signal, event.key, min(p.time for p in kept),
                            max(p.time for p in kept), kept, event.key_posts, event.key_accounts))
    return chosen


def index_by_account(events: Sequence[Event], max_size: int,
                     accounts: Container[AccountKey]) -> dict[AccountKey, list[int]]:
    """Which (pairable) events each of ``accounts`` took part in."""
    index: dict[AccountKey, list[int]] = defaultdict(list)
    for i, event in enumerate(events):
        if event.size <= max_size:
            for p in event.participants:
                if p.account in accounts:
                    index[p.account].append(i)
    return index


def campaigns(graph: nx.Graph, events: Sequence[Event], graph_params: GraphParams,
              params: ClusterParams, known: Clusters | None = None,
              components: list[list[Edge]] | None = None) -> list[Campaign]:
    """Network campaigns (communities) and relay campaigns (single big concentrated bursts);
    ``known`` and ``components``: see :func:`communities`."""
    groups = communities(graph, params, known, components)
    by_account = index_by_account(events, graph_params.max_pair_event,
                                  {account for members in groups for account in members})
    found = [Campaign("network", members, _events_among(members, by_account, events))
             for members in groups]
    found += [Campaign("relay", tuple(sorted(p.account for p in e.participants)), [e])
              for e in relays(events, graph_params)]
    return merge_overlapping([c for c in found if c.events], params.merge_overlap)


def _overlap(a: set[AccountKey], b: set[AccountKey]) -> float:
    return len(a & b) / len(a | b)


def merge_overlapping(found: list[Campaign], threshold: float) -> list[Campaign]:
    """One campaign where several share most members: the same relay seen through its text, its
    link and its hashtags, or a ring's relay beside the ring itself. Each joins the first kept
    campaign it overlaps enough; only those sharing a member are compared (comparing every
    pair took 0.5 s at 3M posts), unless any overlap is enough (``threshold`` 0)."""
    kept: list[tuple[set[AccountKey], Campaign]] = []
    holding: dict[AccountKey, list[int]] = defaultdict(list)    # account -> kept campaigns
    for campaign in sorted(found, key=lambda c: (-len(c.members), c.kind, c.members)):
        members = set(campaign.members)
        near = (range(len(kept)) if threshold <= 0 else
                sorted({i for account in members for i in holding.get(account, ())}))
        for i in near:
            other_members, other = kept[i]
            if _overlap(members, other_members) >= threshold:
                for account in members - other_members:
                    holding[account].append(i)
                other_members |= members
                other.members = tuple(sorted(other_members))
                other.events.extend(campaign.events)
                other.kind = "network" if "network" in (other.kind, campaign.kind) else other.kind
                break
        else:
            for account in members:
                holding[account].append(len(kept))
            kept.append((members, campaign))
    return [c for _, c in kept]


def relays(events: Iterable[Event], params: GraphParams) -> list[Event]:
    """One event per relay: the bursts of an occasion that has a relay burst, joined (a relay
    longer than the window is cut into bursts; its stragglers belong to it too)."""
    occasions: dict[tuple[str, str, int], list[Event]] = defaultdict(list)
    for event in events:
        occasions[(event.signal, event.key, event.occasion)].append(event)
    joined = []
    for bursts in occasions.values():
        if any(is_relay(e, params) for e in bursts):
            first: dict[AccountKey, Participation] = {}
            for p in sorted((p for e in bursts for p in e.participants), key=lambda p: p.time):
                first.setdefault(p.account, p)
            people = tuple(first.values())
            joined.append(Event(bursts[0].signal, bursts[0].key, people[0].time, people[-1].time,
                                people, bursts[0].key_posts, bursts[0].key_accounts,
                                bursts[0].occasion))
    return joined
