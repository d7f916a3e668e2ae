"""The coordinated scenarios: how each kind of campaign posts over the period."""

from __future__ import annotations

import random
from collections.abc import Callable

from detector.records import Post
from detector.simulate.accounts import _Member
from detector.simulate.banks import _REPLIES
from detector.simulate.campaigns import _Campaign
from detector.simulate.draws import _count, _lognormal, _poisson
from detector.simulate.params import HOUR, MINUTE, SECOND
from detector.simulate.texts import _chatter, _compose, _Content, _fill, _mutate, _ordinary, _tco, _token
from detector.simulate.world import _reply, _repost, _World


def _spread(rng: random.Random, count: int, width: float) -> list[int]:
    """``count`` delays (ms) within about ``width`` ms: even, front-loaded or in waves."""
    shape = rng.randrange(3)
    if shape == 0:
        return sorted(int(rng.uniform(0, width)) for _ in range(count))
    if shape == 1:
        return sorted(int(min(width * 2, rng.expovariate(3 / width))) for _ in range(count))
    waves = [rng.uniform(0, width) for _ in range(rng.randint(2, 4))]
    return sorted(int(abs(rng.choice(waves) + rng.gauss(0, width / 20))) for _ in range(count))


def _relay(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """Many accounts post one identical text within minutes; some messages relayed again later."""
    mutation = rng.choice((0.0, 0.0, rng.uniform(0, 0.15)))
    for _ in range(_count(rng, 1, 4, world.occasion_factor)):
        text = campaign.message(rng)
        urls = [f"https://{campaign.domain}/{_token(rng, 6).lower()}"] if rng.random() < 0.6 else []
        tags = rng.sample(campaign.tags, rng.randint(1, 3)) if rng.random() < 0.7 else []
        for _ in range(1 if rng.random() < 0.6 else rng.randint(2, 4)):
            t0 = campaign.when(rng, world.params.days, 15 * MINUTE)
            members = campaign.show_up(rng)
            for member, delay in zip(members, _spread(rng, len(members), rng.uniform(1, 8) * MINUTE),
                                     strict=True):
                edited = rng.random() < mutation
                body = _mutate(rng, text, campaign.lang, campaign.tags, 1) if edited else text
                content = _Content(" ".join([body, *(f"#{t}" for t in tags), *(_tco(rng) for _ in urls)]),
                                   campaign.lang, tuple(urls), tuple(tags))
                world.emit(rng, member, t0 + delay, content, client=campaign.client(rng, member))


def _paraphrase_ring(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """The same message with small edits each, different links, within minutes."""
    rate = rng.uniform(0.3, 0.9)
    for _ in range(_count(rng, 2, 7, world.occasion_factor)):
        text = campaign.message(rng)
        links = [f"https://{campaign.domain}/{_token(rng, 8).lower()}" for _ in range(rng.randint(1, 4))]
        link_share = rng.random()
        t0 = campaign.when(rng, world.params.days, 30 * MINUTE)
        members = campaign.show_up(rng, 0.6)
        for member, delay in zip(members, _spread(rng, len(members), rng.uniform(3, 25) * MINUTE),
                                 strict=True):
            body = _mutate(rng, text, campaign.lang, campaign.tags, 1 + int(rate * rng.randint(0, 3)))
            urls = [rng.choice(links)] if rng.random() < link_share else []
            world.emit(rng, member, t0 + delay, _compose(rng, body, campaign.lang, urls=urls),
                       client=campaign.client(rng, member))


def _amplified(world: _World, rng: random.Random, campaign: _Campaign) -> list[_Member]:
    """Whom a ring amplifies: its own lead accounts or a few popular organic accounts."""
    if rng.random() < 0.5 and len(campaign.members) > 4:
        return campaign.members[:rng.randint(1, 3)]
    return rng.sample(world.popular, min(len(world.popular), rng.randint(1, 4)))


def _source_post(world: _World, rng: random.Random, campaign: _Campaign, author: _Member,
                 at: int) -> Post | None:
    if author.campaign is None or rng.random() < 0.3:
        return world.emit(rng, author, at, _ordinary(world, rng, author))
    tags = rng.sample(campaign.tags, rng.randint(0, 2))
    return world.emit(rng, author, at, _compose(rng, campaign.message(rng), campaign.lang, tags=tags),
                      client=campaign.client(rng, author))


def _corepost_ring(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """A ring reposts the same posts within seconds to a minute, over many distinct posts."""
    sources = _amplified(world, rng, campaign)
    median, sigma = rng.uniform(3, 25) * SECOND, rng.uniform(0.4, 1.0)
    ring = [m for m in campaign.members if m not in sources]
    for _ in range(_count(rng, 15, 60, world.occasion_factor)):
        author = rng.choice(sources)
        original = _source_post(world, rng, campaign, author, campaign.when(rng, world.params.days))
        if original is None:
            continue
        t0 = int((original.created_at - world.start).total_seconds() * 1000)
        lag = int(rng.uniform(0, 20) * MINUTE) if rng.random() < 0.3 else 0
        share = rng.uniform(0.5, 1.0)
        for member in (m for m in ring if rng.random() < share):
            delay = min(90 * SECOND, int(_lognormal(rng, median, sigma)))
            _repost(world, rng, member, t0 + lag + SECOND + delay, original,
                   campaign.client(rng, member))
        if author.campaign is None:
            _organic_echo(world, rng, original, t0)


def _organic_echo(world: _World, rng: random.Random, original: Post, t0: int) -> None:
    """A few unrelated reposts of a popular account's post, as it would get anyway."""
    for fan in rng.sample(world.organic, min(len(world.organic), _poisson(rng, rng.uniform(0, 8)))):
        _repost(world, rng, fan, t0 + SECOND + int(_lognormal(rng, 40 * MINUTE, 1.5)), original)


def _link_push(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """The same URL with different texts, within minutes, on many occasions."""
    shortened = rng.choice((0.0, rng.uniform(0, 0.3)))
    own_words = rng.uniform(0.2, 0.8)
    url = ""
    for _ in range(_count(rng, 5, 16, world.occasion_factor)):
        if not url or rng.random() < 0.8:
            url = f"https://{campaign.domain}/{rng.randrange(2020, 2025)}/{_token(rng, 7).lower()}"
        short = f"https://bit.ly/{_token(rng, 7)}"
        t0 = campaign.when(rng, world.params.days, 20 * MINUTE)
        members = campaign.show_up(rng)
        for member, delay in zip(members, _spread(rng, len(members), rng.uniform(2, 12) * MINUTE),
                                 strict=True):
            lang = campaign.lang
            body = _chatter(rng, lang) if rng.random() < own_words else campaign.message(rng)
            link = short if rng.random() < shortened else url
            tags = [rng.choice(campaign.tags)] if rng.random() < 0.2 else []
            world.emit(rng, member, t0 + delay, _compose(rng, body, lang, urls=[link], tags=tags),
                       client=campaign.client(rng, member))


def _hashtag_push(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """The same set of hashtags on varied texts, within minutes, repeatedly."""
    tagset = list(campaign.tags[:rng.randint(2, 4)])
    lower = rng.uniform(0, 0.15)
    for _ in range(_count(rng, 5, 16, world.occasion_factor)):
        t0 = campaign.when(rng, world.params.days, 20 * MINUTE)
        members = campaign.show_up(rng)
        for member, delay in zip(members, _spread(rng, len(members), rng.uniform(2, 15) * MINUTE),
                                 strict=True):
            tags = rng.sample(tagset, len(tagset))
            tags = [t.lower() if rng.random() < lower else t for t in tags]
            body = campaign.message(rng) if rng.random() < 0.5 else _chatter(rng, campaign.lang)
            world.emit(rng, member, t0 + delay, _compose(rng, body, campaign.lang, tags=tags),
                       client=campaign.client(rng, member))


def _slow_ring(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """The same accounts share the same content each time, spread over 30 to 180 minutes."""
    sources = _amplified(world, rng, campaign)
    ring = [m for m in campaign.members if m not in sources] or campaign.members
    for _ in range(_count(rng, 12, 40, world.occasion_factor)):
        t0 = campaign.when(rng, world.params.days, 3 * HOUR)
        width = rng.uniform(30, 180) * MINUTE
        members = [m for m in campaign.show_up(rng, 0.6) if m in ring]
        delays = _spread(rng, len(members), width)
        roll = rng.random()
        if roll < 0.5:
            original = _source_post(world, rng, campaign, rng.choice(sources), t0)
            for member, delay in zip(members, delays, strict=True):
                if original is not None:
                    _repost(world, rng, member, t0 + MINUTE + delay, original, campaign.client(rng, member))
            continue
        text = campaign.message(rng)
        url = f"https://{campaign.domain}/{_token(rng, 8).lower()}"
        for member, delay in zip(members, delays, strict=True):
            body = text if roll < 0.8 else _chatter(rng, campaign.lang)
            world.emit(rng, member, t0 + delay, _compose(rng, body, campaign.lang, urls=[url]),
                       client=campaign.client(rng, member))


def _reply_ring(world: _World, rng: random.Random, campaign: _Campaign) -> None:
    """A ring replies to the same target posts within minutes."""
    targets = rng.sample(world.popular, min(len(world.popular), rng.randint(1, 3)))
    bank = dict(_REPLIES.get(campaign.lang, _REPLIES["en"]))
    same_text = rng.uniform(0, 0.5)
    for _ in range(_count(rng, 5, 20, world.occasion_factor)):
        author = rng.choice(targets)
        target = world.emit(rng, author, campaign.when(rng, world.params.days, 20 * MINUTE),
                            _ordinary(world, rng, author))
        if target is None:
            continue
        t0 = int((target.created_at - world.start).total_seconds() * 1000) + rng.randrange(20, 120) * SECOND
        line = _fill(rng, rng.choice(bank["t"]), bank)
        members = campaign.show_up(rng)
        for member, delay in zip(members, _spread(rng, len(members), rng.uniform(2, 15) * MINUTE),
                                 strict=True):
            body = line if rng.random() < same_text else _fill(rng, rng.choice(bank["t"]), bank)
            tags = [campaign.tags[0]] if rng.random() < 0.3 else []
            _reply(world, rng, member, t0 + delay, target, body, campaign.lang,
                  campaign.client(rng, member), tags)
        _organic_echo(world, rng, target, t0)


_RUNNERS: dict[str, Callable[[_World, random.Random, _Campaign], None]] = {
    "relay": _relay, "paraphrase_ring": _paraphrase_ring, "corepost_ring": _corepost_ring,
    "link_push": _link_push, "hashtag_push": _hashtag_push, "slow_ring": _slow_ring,
    "reply_ring": _reply_ring}
