"""Graph: account pairs weighted by the distinct contents they acted on together, each weighted by
how unusual the event was; and single-burst relays too big to pair up."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from itertools import combinations

import networkx as nx

from detector.link import SIGNALS, AccountKey, Event

Pair = tuple[AccountKey, AccountKey]
_BIT = {signal: 1 << i for i, signal in enumerate(SIGNALS)}


@dataclass(frozen=True)
class GraphParams:
    """When an event counts, and when a pair of accounts is significantly tied."""

    max_pair_event: int = 60        # bigger events make no pairs (a crowd); see relays
    min_contents: int = 2           # a pair must meet on at least this many distinct contents
    min_weight: float = 1.5         # ... with at least this summed rarity
    relay_min_accounts: int = 20    # one burst this big and this concentrated is a relay
    relay_min_concentration: float = 0.5
    relay_signals: tuple[str, ...] = ("text",)


def event_weight(event: Event) -> float:
    """How unusual an event is, in (0, 1): near 1 when a big burst holds all of its occasion's
    posts, falling as the burst is a thinner slice of a crowd, halved for a chance-sized pair."""
    return float(event.concentration ** 0.5 * (1.0 - 1.0 / event.size))


@dataclass(slots=True)
class PairStats:
    weight: float = 0.0
    contents: int = 0
    signals: int = 0              # bit mask over SIGNALS

    def signal_names(self) -> list[str]:
        return [s for s in SIGNALS if self.signals & _BIT[s]]


def _add_occasions(totals: dict[Pair, PairStats], signal: str,
                   occasions: list[dict[Pair, float]]) -> None:
    bit = _BIT[signal]
    for best in occasions:
        for pair, weight in best.items():
            stats = totals.get(pair)
            if stats is None:
                totals[pair] = PairStats(0.0 + weight, 1, bit)   # 0.0 + w: the sum a default starts
                continue
            stats.weight += weight
            stats.contents += 1
            stats.signals |= bit


def pair_weights(events: Iterable[Event], params: GraphParams) -> dict[Pair, PairStats]:
    """Sum, per account pair, the best event weight of each occasion they shared: the same
    hashtag set pushed again the next day counts again, a burst cut in two by the window not.

    ``events`` must come grouped by content (as ``co_action_events`` yields them): one
    content's pairs are folded into the totals before the next content starts, so memory
    holds the totals and one content's pairs.
    """
    totals: dict[Pair, PairStats] = {}
    current: tuple[str, str] | None = None
    occasions: list[dict[Pair, float]] = []
    for event in events:
        if (event.signal, event.key) != current:
            if current is not None:
                _add_occasions(totals, current[0], occasions)
            current, occasions = (event.signal, event.key), []
        while len(occasions) <= event.occasion:
            occasions.append({})
        if event.size > params.max_pair_event:
            continue
        weight = event_weight(event)
        best = occasions[event.occasion]
        for pair in combinations(sorted(p.account for p in event.participants), 2):
            if best.get(pair, 0.0) < weight:
                best[pair] = weight
    if current is not None:
        _add_occasions(totals, current[0], occasions)
    return totals


def is_relay(event: Event, params: GraphParams) -> bool:
    """A big burst of one near-identical text that is most of its occasion. Only texts: a spike
    of reposts of, or replies to, one post is what organic virality looks like too."""
    return (event.signal in params.relay_signals and event.size >= params.relay_min_accounts
            and event.concentration >= params.relay_min_concentration)


def account_graph(pairs: dict[Pair, PairStats], params: GraphParams) -> nx.Graph:
    """The significant ties as a weighted graph (edge attributes: weight, contents, signals)."""
    graph = nx.Graph()
    kept = [(pair, stats) for pair, stats in pairs.items()   # most pairs fall short: sort the rest
            if stats.contents >= params.min_contents and stats.weight >= params.min_weight]
    graph.add_edges_from((a, b, {"weight": round(stats.weight, 6), "contents": stats.contents,
                                 "signals": _signal_text(stats.signals)})
                         for (a, b), stats in sorted(kept, key=_first))
    return graph


@cache
def _signal_text(mask: int) -> str:
    """A tie's signals as stored: a few masks for 315k ties at 3M."""
    return ",".join(PairStats(signals=mask).signal_names())


def _first(item: tuple[Pair, PairStats]) -> Pair:
    return item[0]
