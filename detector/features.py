"""Timing and behaviour features of accounts and campaigns, from posts and events (pure)."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

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


def account_behaviour(posts: Iterable[Post], keep: Container[AccountKey],
                      created: Mapping[AccountKey, datetime] | None = None,
                      ) -> dict[AccountKey, dict[str, float]]:
    """Per account in ``keep``: posts, repost ratio, posting-hour entropy, share of posts from
    its main app, how rare that app is among all accounts (1: only this account uses it), and
    its age in days at its first post when ``created`` knows it.

    The two app features are left out (missing, not 0) when none of the account's posts names
    its app, as in dumps without client data: a trained scorer must not read them as evidence."""
    tallies, app_users, first = tally_accounts(posts, keep)
    everyone = max(len(set().union(*app_users.values())) if app_users else 0, 1)
    return behaviour_features(tallies, first, {app: len(users) for app, users in app_users.items()},
                              everyone, created)


def tally_accounts(posts: Iterable[Post], keep: Container[AccountKey]) -> tuple[
        dict[AccountKey, _Tally], dict[str, set[AccountKey]], dict[AccountKey, datetime]]:
    """Per account in ``keep`` its tally and first post time; per app the accounts using it."""
    tallies: dict[AccountKey, _Tally] = defaultdict(_Tally)
    app_users: dict[str, set[AccountKey]] = defaultdict(set)
    first: dict[AccountKey, datetime] = {}
    for post in posts:
        account = (post.platform, post.account_id)
        if post.client:
            app_users[post.client].add(account)
        if account not in keep:
            continue
        first.setdefault(account, post.created_at)
        tally = tallies[account]
        tally.posts += 1
        tally.reposts += post.repost_of is not None
        tally.hours[post.created_at.hour] += 1
        if post.client:
            tally.clients[post.client] += 1
    return tallies, app_users, first


def behaviour_features(tallies: Mapping[AccountKey, _Tally], first: Mapping[AccountKey, datetime],
                       app_accounts: Mapping[str, int], everyone: int,
                       created: Mapping[AccountKey, datetime] | None = None,
                       ) -> dict[AccountKey, dict[str, float]]:
    """:func:`account_behaviour` from tallies; ``app_accounts``: how many accounts use each app,
    ``everyone``: how many accounts name an app at all (at least 1)."""
    result = {}
    for account, t in tallies.items():
        main = t.clients.most_common(1)[0][0] if t.clients else None
        features = {
            "posts": float(t.posts),
            "repost_ratio": round(t.reposts / t.posts, 4),
            "hour_entropy": round(_entropy(t.hours.values(), 24), 4),
        }
        if main is not None:
            features["main_client_share"] = round(t.clients[main] / t.posts, 4)
            features["main_client_rarity"] = round(1 - app_accounts[main] / everyone, 4)
        if created and account in created and account in first:
            features["account_age_days"] = round((first[account] - created[account]).total_seconds()
                                                 / 86400, 2)
        result[account] = features
    return result


def _creation_clustering(campaign: Campaign, created: Mapping[AccountKey, datetime]) -> float | None:
    """Share of members (with a known creation date) created within 30 days of their median."""
    dates = sorted(created[a] for a in campaign.members if a in created)
    if len(dates) < 2:
        return None
    middle = dates[len(dates) // 2]
    return round(sum(abs((d - middle).days) <= 30 for d in dates) / len(dates), 4)


def campaign_features(campaign: Campaign,
                      created: Mapping[AccountKey, datetime] | None = None) -> dict[str, float]:
    """Size, span, events, burstiness (median event span), text diversity, signals, and how
    clustered the members' creation dates are when ``created`` knows them."""
    spans = [(e.end - e.start).total_seconds() for e in campaign.events]
    text_events = [e for e in campaign.events if e.signal == "text"]
    clustering = _creation_clustering(campaign, created) if created else None
    extra = {"created_within_30_days": clustering} if clustering is not None else {}
    return extra | {
        "size": float(len(campaign.members)),
        "span_s": (campaign.end - campaign.start).total_seconds(),
        "events": float(len(campaign.events)),
        "median_event_span_s": float(statistics.median(spans)) if spans else 0.0,
        "text_diversity": round(len({e.key for e in text_events}) / len(text_events), 4)
        if text_events else 0.0,
        "signals": float(len(campaign.signals)),
    }
