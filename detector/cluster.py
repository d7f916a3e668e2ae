"""Cluster: campaigns from seeded community detection on the significant ties, plus relays."""

from __future__ import annotations

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
    resolution: float = 1.0
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


def communities(graph: nx.Graph, params: ClusterParams) -> list[tuple[AccountKey, ...]]:
    """Louvain communities (seeded: same graph, same answer) of at least ``min_members``."""
    if graph.number_of_edges() == 0:
        return []
    found = nx.community.louvain_communities(graph, weight="weight", seed=params.seed,
                                             resolution=params.resolution)
    groups = [tuple(sorted(c)) for c in found if len(c) >= params.min_members]
    return sorted(groups, key=lambda g: (-len(g), g))


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
              params: ClusterParams) -> list[Campaign]:
    """Network campaigns (communities) and relay campaigns (single big concentrated bursts)."""
    groups = communities(graph, params)
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
