"""Detect: posts in, campaigns and account scores out. Pure: the caller reads and stores."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import timedelta
from typing import Any

import networkx as nx

from detector.cluster import Campaign, ClusterParams, campaigns
from detector.coortweet import CoortweetParams, co_shares, events_of, network_graph, shares_of
from detector.coortweet import weights_of as coordinated_network_of
from detector.fingerprint import FingerprintParams, near_duplicate_groups, signatures
from detector.graph import GraphParams, account_graph, pair_weights
from detector.link import AccountKey, LinkParams, co_action_events
from detector.normalize import normalize_text
from detector.records import Post
from detector.score import AccountScore, ScoreParams, score_accounts, score_campaigns


@dataclass(frozen=True)
class DetectParams:
    """Every setting of a detection run; stored with its results."""

    fingerprint: FingerprintParams = field(default_factory=FingerprintParams)
    similarity: float = 0.8
    link: LinkParams = field(default_factory=LinkParams)
    graph: GraphParams = field(default_factory=GraphParams)
    cluster: ClusterParams = field(default_factory=ClusterParams)
    score: ScoreParams = field(default_factory=ScoreParams)
    preset: str = "default"                 # or "coortweet": CooRTweet's co-share rule alone
    coortweet: CoortweetParams = field(default_factory=CoortweetParams)

    def to_json(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, timedelta):
                return value.total_seconds()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value
        return plain(asdict(self))  # type: ignore[no-any-return]


@dataclass
class Detection:
    params: DetectParams
    campaigns: list[Campaign]
    scores: dict[AccountKey, AccountScore]
    graph: nx.Graph
    counts: dict[str, int]
    texts: dict[str, str]            # post id -> text, for the posts cited as evidence


def text_groups(posts: Sequence[Post], params: DetectParams) -> dict[int, str]:
    """Near-duplicate group of each original post with enough text (reposts carry no own text)."""
    chosen: list[int] = []
    texts: list[str] = []
    for i, post in enumerate(posts):
        if post.repost_of:
            continue
        normalized = normalize_text(post.text)
        if len(normalized) >= params.link.min_text_chars:
            chosen.append(i)
            texts.append(normalized)
    if not chosen:
        return {}
    labels = near_duplicate_groups(signatures(texts, params.fingerprint), params.similarity)
    return {i: f"t{chosen[int(label)]}" for i, label in zip(chosen, labels, strict=True)}


def _rank(found: list[Campaign]) -> list[Campaign]:
    ranked = sorted(found, key=lambda c: (-c.score, -len(c.members), c.start, c.members))
    return ranked


def detect(posts: Sequence[Post], params: DetectParams = DetectParams()) -> Detection:
    """Campaigns, ranked, and a score for every account tied to another. ``posts`` in time order."""
    if params.preset == "coortweet":
        pairs = co_shares(shares_of(posts), params.coortweet)
        events = events_of(pairs)
        graph = network_graph(coordinated_network_of(pairs))
        # every co-sharing pair counts (no crowd cut-off, no relays): CooRTweet's own network
        params = replace(params, cluster=replace(params.cluster, min_members=2),
                         graph=replace(params.graph, max_pair_event=10**9, relay_min_accounts=10**9))
    else:
        events = list(co_action_events(posts, text_groups(posts, params), params.link))
        graph = account_graph(pair_weights(events, params.graph), params.graph)
    found = campaigns(graph, events, params.graph, params.cluster)
    for number, campaign in enumerate(found, start=1):
        campaign.campaign_id = f"{campaign.kind[0]}{number}"
    per_account = Counter((p.platform, p.account_id) for p in posts)
    scores = score_accounts(graph, found, per_account, params.graph, params.score)
    score_campaigns(found, scores)
    cited = {p.post_id for c in found for e in c.events for p in e.participants}
    counts = {"posts": len(posts), "accounts": len(per_account), "events": len(events),
              "ties": graph.number_of_edges(), "campaigns": len(found),
              "flagged": sum(s.flagged for s in scores.values())}
    return Detection(params, _rank(found), scores, graph, counts,
                     {p.post_id: p.text for p in posts if p.post_id in cited})
