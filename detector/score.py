"""Features and scores: a transparent rule until a trained model exists.

Per account, from the significant ties and campaigns:

* ``strength``: the summed weight of its significant ties (each tie: the distinct contents two
  accounts acted on together within the window, each weighted by how concentrated the burst was);
* per-signal sub-scores ``1 - exp(-strength_on_signal / 4)``;
* ``network`` = ``1 - exp(-strength_in_campaign / 4)`` for members of a network campaign, half of
  ``1 - exp(-strength / 4)`` for accounts with ties but no campaign;
* ``relay`` = 0.6 + 0.4 * min(1, size / (5 * relay_min_accounts)) for accounts in a relay burst;
* ``score = max(network, relay)``; flagged when ``score >= threshold`` (0.5 by default).

A campaign's score is the mean of its members' scores times ``1 - 0.5 ** (size - 1)``: two
accounts are weaker evidence than five (x0.5 for a pair, x0.94 for five). All of it is
coordination signals with evidence, not a verdict about the people behind the accounts.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from detector.link import SIGNALS, AccountKey, Event, Participation

if TYPE_CHECKING:  # annotations only: the scorer's card (detector.model) is read without networkx
    import networkx as nx

    from detector.cluster import Campaign
    from detector.graph import GraphParams

SCALE = 4.0


@dataclass(frozen=True)
class ScoreParams:
    threshold: float = 0.5
    evidence_per_account: int = 10


@dataclass
class AccountScore:
    account: AccountKey
    score: float
    subscores: dict[str, float]
    features: dict[str, float]
    campaign_ids: list[str] = field(default_factory=list)
    flagged: bool = False
    evidence: list[tuple[Event, Participation]] = field(default_factory=list)
    explanation: list[dict[str, float | str]] = field(default_factory=list)  # by a trained scorer


def _saturate(value: float) -> float:
    return 1.0 - math.exp(-value / SCALE)


@cache
def _signal_list(signals: str) -> tuple[str, ...]:
    return tuple(signals.split(","))        # a few distinct lists for 315k ties at 3M


def _strengths(graph: nx.Graph, account: AccountKey) -> tuple[dict[str, float], float, int]:
    """An account's summed tie weight per signal, in all (as ``graph.degree(weight=)`` sums it:
    the same numbers in the same order) and its number of ties, in one pass over its ties."""
    by_signal: dict[str, float] = defaultdict(float)
    weights = []
    for data in graph.adj[account].values():        # its ties, in the order graph.edges gives
        weight = data["weight"]
        weights.append(weight)
        for signal in _signal_list(data["signals"]):
            by_signal[signal] += weight
    return by_signal, float(sum(weights)), len(weights)


def _campaign_strength(graph: nx.Graph, account: AccountKey, members: set[AccountKey]) -> float:
    if account not in graph:                # a relay's member merged into a network campaign
        return 0.0
    return float(sum(d["weight"] for other, d in graph.adj[account].items() if other in members))


def _relay_score(size: int, params: GraphParams) -> float:
    return 0.6 + 0.4 * min(1.0, size / (5 * params.relay_min_accounts))


def _delays(evidence: Sequence[tuple[Event, Participation]]) -> float:
    delays = [(p.time - e.start).total_seconds() for e, p in evidence]
    return float(statistics.median(delays)) if delays else 0.0


def _strongest(evidence: list[tuple[Event, Participation]], count: int) -> list[tuple[Event, Participation]]:
    """An account's ``count`` biggest events, the earliest first among equals: ``sorted(...)[:count]``
    without sorting the rest (some accounts took part in thousands)."""
    return heapq.nsmallest(count, evidence, key=lambda ep: (-ep[0].size, ep[1].time))


def score_accounts(graph: nx.Graph, found: Sequence[Campaign], posts_per_account: dict[AccountKey, int],
                   graph_params: GraphParams, params: ScoreParams) -> dict[AccountKey, AccountScore]:
    """A score for every account with a significant tie or in a campaign."""
    network: dict[AccountKey, float] = defaultdict(float)
    relay: dict[AccountKey, float] = defaultdict(float)
    memberships: dict[AccountKey, list[str]] = defaultdict(list)
    evidence: dict[AccountKey, list[tuple[Event, Participation]]] = defaultdict(list)
    for campaign in found:
        members = set(campaign.members)
        for account in campaign.members:
            memberships[account].append(campaign.campaign_id)
            if campaign.kind == "relay":
                relay[account] = max(relay[account], _relay_score(len(members), graph_params))
            else:
                strength = _campaign_strength(graph, account, members)
                network[account] = max(network[account], _saturate(strength))
        for event in campaign.events:
            for p in event.participants:
                evidence[p.account].append((event, p))
    scores = {}
    for account in sorted(set(graph.nodes) | set(memberships)):
        by_signal, strength, ties = _strengths(graph, account) if account in graph else ({}, 0.0, 0)
        net = network[account] if account in network else 0.5 * _saturate(strength)
        score = max(net, relay.get(account, 0.0))
        subscores = {s: round(_saturate(by_signal.get(s, 0.0)), 4) for s in SIGNALS}
        subscores["relay"] = round(relay.get(account, 0.0), 4)
        own = evidence[account]
        events_in = len(own)
        features = {
            "strength": round(strength, 4),
            "ties": float(ties),
            "events": float(events_in),
            "share_of_posts_in_events": round(events_in / max(posts_per_account.get(account, 1), 1), 4),
            "median_delay_s": round(_delays(own), 3),
        }
        scores[account] = AccountScore(account, round(score, 4), subscores, features,
                                       memberships[account], score >= params.threshold,
                                       _strongest(own, params.evidence_per_account))
    return scores


def score_campaigns(found: Sequence[Campaign], scores: dict[AccountKey, AccountScore]) -> None:
    """Each campaign's score: the mean score of its members, discounted for small groups."""
    for campaign in found:
        values = [scores[a].score for a in campaign.members if a in scores]
        mean = sum(values) / len(values) if values else 0.0
        campaign.score = round(mean * (1.0 - 0.5 ** (len(campaign.members) - 1)), 4)
