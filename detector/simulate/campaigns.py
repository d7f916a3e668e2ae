"""Coordinated campaigns: their talking points, tags, rhythm, tool and recruited accounts."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from detector.simulate.accounts import _clients, _display_name, _handle, _Member
from detector.simulate.banks import (
    _CAMPAIGN,
    _CAMPAIGN_LANGS,
    _HANDLE_WORDS,
    _OFFSETS,
    _PROMO,
    _TAG_PARTS,
    _TOOLS,
)
from detector.simulate.draws import _at, _hours, _lognormal, _pick
from detector.simulate.params import DAY, MINUTE
from detector.simulate.texts import _fill
from detector.simulate.world import _World


@dataclass(slots=True)
class _Campaign:
    cid: str
    kind: str
    lang: str
    hours: tuple[float, ...]
    tool: str
    tool_share: float
    bank: dict[str, tuple[str, ...]]
    tags: tuple[str, ...]
    domain: str
    members: list[_Member] = field(default_factory=list)

    def client(self, rng: random.Random, member: _Member) -> str:
        return self.tool if rng.random() < self.tool_share else member.client(rng)

    def message(self, rng: random.Random) -> str:
        text = _fill(rng, rng.choice(self.bank["t"]), self.bank)
        return text[0].upper() + text[1:]

    def when(self, rng: random.Random, days: int, margin: int = 0) -> int:
        return min(_at(rng, self.hours, rng.randrange(days)), days * DAY - margin - MINUTE)

    def show_up(self, rng: random.Random, low: float = 0.5) -> list[_Member]:
        """The members who take part in one occasion."""
        share = rng.uniform(low, 1.0)
        return [m for m in self.members if rng.random() < share] or [rng.choice(self.members)]


_RING_SIZES = {  # median, spread (log sigma), smallest, largest: before ``ring_size_factor``
    "relay": (28, 0.7, 10, 400), "paraphrase_ring": (16, 0.6, 6, 150),
    "corepost_ring": (14, 0.5, 5, 40), "link_push": (15, 0.6, 5, 120),
    "hashtag_push": (15, 0.6, 6, 150), "slow_ring": (10, 0.5, 5, 30), "reply_ring": (12, 0.6, 5, 60)}


def _campaign_bank(rng: random.Random, lang: str) -> dict[str, tuple[str, ...]]:
    """The campaign's talking points: a few targets and topics of the language's bank."""
    if lang == "en" and rng.random() < 0.15:
        return dict(_PROMO["en"])
    bank = dict(_CAMPAIGN[lang])
    bank["target"] = tuple(rng.sample(bank["target"], rng.randint(1, 2)))
    bank["topic"] = tuple(rng.sample(bank["topic"], rng.randint(1, 3)))
    return bank


def _campaign_tags(rng: random.Random) -> tuple[str, ...]:
    tags: list[str] = []
    while len(tags) < 4:
        tag = rng.choice(_TAG_PARTS[0]) + rng.choice(_TAG_PARTS[1]) + rng.choice(("", "", "2024", "Now"))
        if tag not in tags:
            tags.append(tag)
    return tuple(tags)


def _creation_dates(rng: random.Random, start: datetime) -> Callable[[random.Random], datetime]:
    """How a campaign got its accounts: made in one batch, bought aged, or both."""
    batch = start - timedelta(days=rng.uniform(3, 900))
    width = rng.uniform(1, 14)

    def made(r: random.Random) -> datetime:
        return (batch - timedelta(days=r.uniform(0, width))).replace(microsecond=0)

    def aged(r: random.Random) -> datetime:
        return (start - timedelta(days=r.uniform(200, 4500))).replace(microsecond=0)

    style = rng.random()
    if style < 0.6:
        return made
    if style < 0.8:
        return aged
    return lambda r: made(r) if r.random() < 0.6 else aged(r)


def _new_campaign(world: _World, rng: random.Random, kind: str, cid: str) -> _Campaign:
    lang = _pick(rng, _CAMPAIGN_LANGS)
    offset = rng.choice(_OFFSETS[lang]) if rng.random() < 0.7 else rng.randint(-8, 10)
    hours = _hours(rng.choice(("office", "flat", "day", "owl")), offset)
    tool = rng.choice(_TOOLS)
    tool_share = rng.uniform(0.4, 1.0) if kind == "relay" else rng.choice((0.0, rng.uniform(0, 0.6)))
    site = rng.choice(("news", "info", "truth", "daily", "patriot", "libre", "now", "report"))
    campaign = _Campaign(cid, kind, lang, hours, tool, tool_share, _campaign_bank(rng, lang),
                         _campaign_tags(rng), f"{rng.choice(_HANDLE_WORDS)}-{site}.example")
    median, sigma, low, high = _RING_SIZES[kind]
    factor = world.ring_size_factor
    size = round(min(high * factor, max(low * factor, _lognormal(rng, median * factor, sigma))))
    created = _creation_dates(rng, world.start)
    handles = _pick(rng, (("default", 40), ("normal", 45), ("pattern", 15)))
    shared_hours = rng.random() < 0.7
    followers = rng.uniform(15, 400)
    activity = world.params.posts_per_account * rng.uniform(0.2, 1.5)
    for _ in range(max(3, size)):
        campaign.members.append(world.add(_campaign_member(
            world, rng, campaign, created(rng), handles, hours if shared_hours else None,
            followers, activity)))
    return campaign


def _campaign_member(world: _World, rng: random.Random, campaign: _Campaign, created: datetime,
                     handles: str, hours: tuple[float, ...] | None, followers: float,
                     activity: float) -> _Member:
    lang = campaign.lang
    handle = world.unique_handle(rng, _handle(rng, lang, handles))
    clients, weights = _clients(rng, automated=False)
    return _Member(
        account_id=world.unique_account_id(rng, created), handle=handle,
        name=_display_name(rng, handle), created_at=created,
        followers=int(_lognormal(rng, followers, 1.0)), following=int(_lognormal(rng, 600, 0.8)),
        lang=lang, hours=hours or _hours("day", rng.choice(_OFFSETS[lang])), clients=clients,
        client_weights=weights, activity=activity * _lognormal(rng, 1, 0.4),
        repost_share=rng.uniform(0.2, 0.7), reply_share=rng.uniform(0.0, 0.2),
        link_share=rng.uniform(0.05, 0.4), tag_share=rng.uniform(0.1, 0.5),
        campaign=campaign.cid, scenario=campaign.kind)
