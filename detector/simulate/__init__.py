"""A seeded, labeled simulator of a Twitter dump: coordinated campaigns hidden among organic crowds.

``simulate(params)`` returns posts, accounts and one ``Truth`` row per account. Coordinated kinds:
relay, paraphrase ring, co-repost ring, link push, hashtag push, slow ring, reply ring. Organic
look-alikes that must not be flagged: viral repost cascades, share-button crowds, live-event hashtag
crowds, famous quotes, over background chatter. Every size, timing, mutation rate, client mix and
account-age pattern is drawn per scenario, so no single pattern is there to overfit.

Determinism: each phase draws from its own ``random.Random(f"{seed}:{phase}")`` (string seeds are
hashed with SHA-512, not ``hash()``), and nothing iterates over a set.

Layout: ``params`` (settings, kinds, time units), ``banks`` (word banks and tables), ``draws``
(random helpers), ``texts`` (composing posts), ``accounts`` (members, handles, clients), ``world``
(the world being built and its posting actions), ``organic`` (population, background, crowds),
``campaigns`` (campaign set-up), ``coordinated`` (the coordinated scenarios), ``truth`` (labels and
their CSV). This module assembles them and holds the public API.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from detector.records import Account, Post
from detector.simulate.accounts import _Member
from detector.simulate.campaigns import _new_campaign
from detector.simulate.coordinated import _RUNNERS
from detector.simulate.draws import _count, _lognormal, _rng
from detector.simulate.organic import _CROWDS, _background, _populate
from detector.simulate.params import (
    COORDINATED_KINDS,
    CROWD_KINDS,
    DAY,
    HOUR,
    MINUTE,
    ORGANIC_KINDS,
    PLATFORM,
    SECOND,
    TRUTH_HEADER,
    SimulationParams,
)
from detector.simulate.truth import BadTruth, Truth, read_truth, write_truth
from detector.simulate.world import _World

__all__ = [
    "COORDINATED_KINDS",
    "CROWD_KINDS",
    "DAY",
    "HOUR",
    "MINUTE",
    "ORGANIC_KINDS",
    "PLATFORM",
    "SECOND",
    "TRUTH_HEADER",
    "BadTruth",
    "Simulation",
    "SimulationParams",
    "Truth",
    "read_truth",
    "simulate",
    "write_truth",
]


@dataclass(frozen=True)
class Simulation:
    """Posts sorted by time (snowflake ids consistent with ``created_at``), accounts, labels."""

    posts: list[Post]
    accounts: dict[str, Account]
    truth: list[Truth]
    params: SimulationParams


def _check(params: SimulationParams) -> datetime:
    if params.accounts < 100:
        raise ValueError(f"accounts={params.accounts}: simulate at least 100 organic accounts")
    if params.days < 1:
        raise ValueError(f"days={params.days}: simulate at least one day")
    if not params.scale > 0 or params.posts_per_account < 0:
        raise ValueError("scale must be positive and posts_per_account not negative")
    if params.start.tzinfo is None:
        raise ValueError("start must be timezone-aware, e.g. datetime(2024, 3, 1, tzinfo=UTC)")
    start = params.start.astimezone(UTC)
    if start.year < 2011:
        raise ValueError("start must be 2011 or later: post ids are snowflakes")
    return start.replace(microsecond=start.microsecond // 1000 * 1000)


def _label(member: _Member) -> str:
    if member.campaign is not None:
        return member.scenario
    best = max(CROWD_KINDS, key=lambda kind: member.crowds[kind])  # first of CROWD_KINDS on ties
    return best if member.crowds[best] > 0 else "background"


def _account(member: _Member, start: datetime, rng: random.Random) -> Account:
    age_days = max(1.0, (start - member.created_at).total_seconds() / 86400)
    history = int(age_days * _lognormal(rng, 0.8, 1.2) * (member.activity + 1) / 8)
    return Account(PLATFORM, member.account_id, member.handle, member.name, member.created_at,
                   member.followers, member.following, member.posts + history)


def _finish(world: _World) -> Simulation:
    rng = _rng(world.params, "accounts")
    members = sorted(world.members, key=lambda m: int(m.account_id))
    accounts = {m.account_id: _account(m, world.start, rng) for m in members}
    truth = [Truth(PLATFORM, m.account_id, m.campaign is not None, _label(m), m.campaign)
             for m in members]
    posts = sorted(world.posts, key=lambda p: (p.created_at, int(p.post_id)))
    return Simulation(posts, accounts, truth, world.params)


# B008 is safe: SimulationParams is a frozen dataclass (ruff only sees that when it is defined here)
def simulate(params: SimulationParams = SimulationParams()) -> Simulation:  # noqa: B008
    """Simulate a labeled dump; the same ``params`` always give the same simulation."""
    start = _check(params)
    world = _World(params, start, params.days * DAY)
    _populate(world, _rng(params, "population"))
    for kind in COORDINATED_KINDS:
        rng = _rng(params, f"campaigns:{kind}")
        for number in range(_count(rng, 1.2, 2.6, world.ring_count_factor)):
            world.campaigns.append(_new_campaign(world, rng, kind, f"{kind}-{number + 1:02d}"))
    _background(world, _rng(params, "background"))
    for name, crowd in _CROWDS.items():
        crowd(world, _rng(params, name))
    for campaign in world.campaigns:
        _RUNNERS[campaign.kind](world, _rng(params, campaign.cid), campaign)
    return _finish(world)
