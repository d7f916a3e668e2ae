"""Timing and behaviour features of accounts and campaigns, from posts and events (pure)."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from detector.cluster import Campaign
from detector.link import AccountKey
from detector.records import Post


@dataclass
class _Tally:
    posts: int = 0
    reposts: int = 0
    hours: Counter[int] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)


def _entropy(counts: Iterable[int], bins: int) -> float:
    """Shannon entropy of a histogram, divided by its maximum (0: one bin, 1: uniform)."""
    values = [c for c in counts if c]
    total = sum(values)
    if total == 0 or bins < 2:
        return 0.0
    return -sum(c / total * math.log(c / total) for c in values) / math.log(bins)


def account_behaviour(posts: Iterable[Post]) -> dict[AccountKey, dict[str, float]]:
    """Per account: posts, repost ratio, posting-hour entropy, share of posts from its main app."""
    tallies: dict[AccountKey, _Tally] = defaultdict(_Tally)
    for post in posts:
        tally = tallies[(post.platform, post.account_id)]
        tally.posts += 1
        tally.reposts += post.repost_of is not None
        tally.hours[post.created_at.hour] += 1
        if post.client:
            tally.clients[post.client] += 1
    return {account: {
        "posts": float(t.posts),
        "repost_ratio": round(t.reposts / t.posts, 4),
        "hour_entropy": round(_entropy(t.hours.values(), 24), 4),
        "main_client_share": round(max(t.clients.values()) / t.posts, 4) if t.clients else 0.0,
    } for account, t in tallies.items()}


def campaign_features(campaign: Campaign) -> dict[str, float]:
    """Size, span, events, burstiness (median event span), text diversity, signals."""
    spans = [(e.end - e.start).total_seconds() for e in campaign.events]
    text_events = [e for e in campaign.events if e.signal == "text"]
    return {
        "size": float(len(campaign.members)),
        "span_s": (campaign.end - campaign.start).total_seconds(),
        "events": float(len(campaign.events)),
        "median_event_span_s": float(statistics.median(spans)) if spans else 0.0,
        "text_diversity": round(len({e.key for e in text_events}) / len(text_events), 4)
        if text_events else 0.0,
        "signals": float(len(campaign.signals)),
    }
