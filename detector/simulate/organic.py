"""Organic activity: the population, background chatter and the crowds that look coordinated."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from detector.records import Post
from detector.simulate.accounts import _Member, _organic_member
from detector.simulate.banks import (
    _EMOJI,
    _EVENTS,
    _HANDLE_WORDS,
    _HEADLINES,
    _OFFSETS,
    _QUOTES,
    _REACTIONS,
    _TAGS,
)
from detector.simulate.draws import _at, _count, _lognormal, _pick, _poisson, _weighted_sample
from detector.simulate.params import DAY, HOUR, MINUTE, SECOND
from detector.simulate.texts import _chatter, _compose, _Content, _fill, _ordinary, _post_lang, _tco
from detector.simulate.world import _quote, _reply, _repost, _World


def _populate(world: _World, rng: random.Random) -> None:
    for _ in range(world.params.accounts):
        world.add(_organic_member(world, rng))
    ranked = sorted(world.organic, key=lambda m: (-m.followers, m.account_id))
    world.popular = ranked[:max(10, len(ranked) // 30)]
    _make_outlets(world, rng)



def _background(world: _World, rng: random.Random) -> None:
    """Every account's ordinary posts, walked in time order so reposts and replies look back."""
    slots: list[tuple[int, int]] = []
    for index, member in enumerate(world.members):
        for _ in range(max(1, _poisson(rng, member.activity))):
            slots.append((_at(rng, member.hours, rng.randrange(world.params.days)), index))
    slots.sort()
    popular = {m.account_id for m in world.popular}
    hot: list[Post] = []
    for at, index in slots:
        member = world.members[index]
        post = _background_post(world, rng, member, at, hot)
        if post is not None and post.repost_of is None and post.reply_to is None:
            world.pool.append(post)
            if post.account_id in popular:
                hot.append(post)


def _recent(rng: random.Random, posts: Sequence[Post]) -> Post:
    """A post near the end of ``posts``: people share what is new."""
    back = int(rng.expovariate(1 / (20 + 0.1 * len(posts))))
    return posts[max(0, len(posts) - 1 - back)]


def _background_post(world: _World, rng: random.Random, member: _Member, at: int,
                     hot: list[Post]) -> Post | None:
    roll = rng.random()
    if world.pool and roll < member.repost_share + member.reply_share:
        target = _recent(rng, hot if hot and rng.random() < 0.5 else world.pool)
        if roll < member.repost_share:
            return _repost(world, rng, member, at, target) or world.emit(
                rng, member, at, _ordinary(world, rng, member))
        if target.account_id != member.account_id:
            lang = _post_lang(rng, member)
            if rng.random() < 0.12:
                return _quote(world, rng, member, at, target, _chatter(rng, lang), lang)
            return _reply(world, rng, member, at, target, _chatter(rng, lang), lang)
    return world.emit(rng, member, at, _ordinary(world, rng, member))



def _crowd(world: _World, rng: random.Random, kind: str, size: int, *, lang: str | None = None,
           exclude: Iterable[str] = (), tally: bool = True) -> list[_Member]:
    """``size`` distinct organic accounts, favouring the active, the ``kind``-leaning, ``lang``.

    ``tally`` counts the pick as taking part in a ``kind`` crowd (the organic label).
    """
    skip = set(exclude)
    cumulative = world.crowd_weights(kind, lang)
    wanted = min(size, len(world.organic) - len(skip))
    if wanted * 4 > len(world.organic):
        weights = [0.0 if m.account_id in skip else high - low for m, low, high
                   in zip(world.organic, (0.0, *cumulative), cumulative, strict=False)]
        chosen = _weighted_sample(rng, world.organic, weights, wanted)
    else:  # few among many: draw with replacement and drop repeats, much faster
        chosen = []
        while len(chosen) < wanted:
            for index in rng.choices(range(len(cumulative)), cum_weights=cumulative,
                                     k=2 * (wanted - len(chosen))):
                member = world.organic[index]
                if member.account_id not in skip and len(chosen) < wanted:
                    skip.add(member.account_id)
                    chosen.append(member)
    for member in chosen if tally else ():
        member.crowds[kind] += 1
    return chosen


def _crowd_size(world: _World, rng: random.Random, median_share: float, sigma: float,
                most: float) -> int:
    """A crowd's size as a share of the population; past 2,000 accounts crowds grow slower."""
    population = len(world.organic)
    base = population if population <= 2000 else 2000 * (population / 2000) ** 0.65
    share = min(most, _lognormal(rng, median_share, sigma))
    return max(5, round(share * base))


def _viral_cascades(world: _World, rng: random.Random) -> None:
    """Popular posts reposted by hundreds to thousands over hours, delays heavy-tailed."""
    for _ in range(_count(rng, 4, 8, world.crowd_factor)):
        author = rng.choice(world.popular)
        day = rng.randrange(world.params.days)
        original = world.emit(rng, author, _at(rng, author.hours, day), _ordinary(world, rng, author))
        if original is None:
            continue
        author.crowds["viral_cascade"] += 1
        t0 = int((original.created_at - world.start).total_seconds() * 1000)
        median = rng.uniform(4, 120) * MINUTE
        sigma = rng.uniform(1.0, 1.9)
        size = _crowd_size(world, rng, 0.1, 0.8, 0.6)
        for fan in _crowd(world, rng, "viral_cascade", size, exclude=[author.account_id]):
            at = t0 + SECOND + int(_lognormal(rng, median, sigma))
            roll = rng.random()
            if roll < 0.9:
                _repost(world, rng, fan, at, original)
            elif roll < 0.97:
                lang = _post_lang(rng, fan)
                _reply(world, rng, fan, at, original, _chatter(rng, lang), lang)
            else:
                _quote(world, rng, fan, at, original, _chatter(rng, fan.lang), fan.lang)


@dataclass(slots=True)
class _Outlet:
    member: _Member
    title: str
    domain: str
    readers: list[_Member]


def _make_outlets(world: _World, rng: random.Random) -> None:
    """News sites' accounts, recruited among the organic accounts, each with a loyal readership."""
    count = max(2, round(rng.uniform(3, 6) * math.sqrt(world.crowd_factor)))
    candidates = [m for m in world.organic if m not in world.popular[:5]]
    chosen = rng.sample(candidates, min(count, len(candidates)))
    for member in chosen:
        word = rng.choice(("Daily", "Metro", "Morning", "Evening", "City", "Global", "Tech", "Planet",
                           "Info", "Nord", "Sud", "La"))
        stem = rng.choice(("Herald", "Wire", "Post", "Journal", "Matin", "Courier", "Pulse", "Times",
                           "Gazette", "Observer", "Dépêche", "Voz", "Blick"))
        title = f"{word} {stem}"
        plain = title.lower().replace(" ", "").replace("é", "e")
        world.handles.discard(member.handle.lower())
        member.handle = world.unique_handle(rng, plain)
        member.name = title
        member.followers = int(math.exp(rng.uniform(9, 13.5)))
        member.clients, member.client_weights = (rng.choice(("SocialFlow", "Echobox", "Hootsuite "
                                                                                       "Inc.")),), (1.0,)
        member.lang = rng.choice(tuple(_HEADLINES))
        member.leaning = "share_button"
        world.outlets.append(_Outlet(member, title, f"{plain}.example", []))
    for outlet in world.outlets:  # once every outlet is made: crowd weights are cached
        outlet.readers = _crowd(world, rng, "share_button", _crowd_size(world, rng, 0.05, 0.5, 0.2),
                                lang=outlet.member.lang, exclude=[m.account_id for m in chosen],
                                tally=False)


def _article_url(rng: random.Random, outlet: _Outlet, at: datetime) -> str:
    section = rng.choice(("news", "politics", "world", "sport", "culture", "economie", "tech"))
    slug = "-".join(rng.choices(_HANDLE_WORDS, k=rng.randint(3, 6)))
    return f"https://{outlet.domain}/{section}/{at:%Y/%m/%d}/{slug}-{rng.randrange(10**6, 10**7)}"


def _share_text(rng: random.Random, outlet: _Outlet, headline: str, url: str) -> _Content:
    """What the article's share button writes, occasionally edited by the sharer."""
    handle = outlet.member.handle
    lang = outlet.member.lang
    shared = url + "?utm_source=twitter&utm_medium=social" if rng.random() < 0.3 else url
    roll = rng.random()
    if roll < 0.75:
        return _Content(f"{headline} {_tco(rng)} via @{handle}", lang, (shared,), (), (handle,))
    if roll < 0.85:
        return _Content(f"{headline} {_tco(rng)}", lang, (shared,))
    if roll < 0.92:
        return _Content(f"{headline} | {outlet.title} {_tco(rng)}", lang, (shared,))
    comment = rng.choice(("Must read:", "Wow.", "À lire :", "Interesting", "😡", "Finally!", "Hmm",
                          "Read this 👇"))
    return _Content(f"{comment} {headline} {_tco(rng)} via @{handle}", lang, (shared,), (), (handle,))


def _share_buttons(world: _World, rng: random.Random) -> None:
    """Articles shared with their share button by unrelated readers over hours and days."""
    web = (("Twitter Web App", 45), ("Twitter for iPhone", 25), ("Twitter for Android", 25),
           ("Twitter for iPad", 5))
    for outlet in world.outlets:
        per_day = rng.uniform(1.5, 5)
        bank = _HEADLINES[outlet.member.lang]
        for _ in range(_poisson(rng, per_day * world.params.days)):
            t0 = _at(rng, outlet.member.hours, rng.randrange(world.params.days))
            moment = world.start + timedelta(milliseconds=t0)
            url = _article_url(rng, outlet, moment)
            headline = _fill(rng, rng.choice(bank["t"]), bank)
            if world.emit(rng, outlet.member, t0, _compose(rng, headline, outlet.member.lang,
                                                           urls=[url])) is None:
                continue
            size = int(_lognormal(rng, 9 * (len(world.organic) / 2000) ** 0.4, 1.2))
            loyal = rng.sample(outlet.readers, min(len(outlet.readers), int(size * 0.8)))
            for reader in loyal:
                reader.crowds["share_button"] += 1
            others = _crowd(world, rng, "share_button", size - len(loyal),
                            exclude=[outlet.member.account_id, *(m.account_id for m in loyal)])
            median, sigma = rng.uniform(40, 300) * MINUTE, rng.uniform(0.9, 1.5)
            for reader in loyal + others:
                world.emit(rng, reader, t0 + MINUTE + int(_lognormal(rng, median, sigma)),
                           _share_text(rng, outlet, headline, url), client=_pick(rng, web))


def _live_events(world: _World, rng: random.Random) -> None:
    """A TV debate or match: a two-hour burst of varied posts carrying the event's hashtag."""
    for _ in range(_count(rng, 1, 2.5, world.crowd_factor ** 0.7)):
        lang, tag, sides, names = rng.choice(_EVENTS)
        offset = _OFFSETS[lang][0]
        begin = rng.randrange(world.params.days) * DAY + ((rng.choice((20, 21)) - offset) % 24) * HOUR
        length = rng.randint(100, 150) * MINUTE
        moments = [begin + rng.randrange(length) for _ in range(rng.randint(3, 9))]
        size = _crowd_size(world, rng, 0.15, 0.5, 0.5)
        crowd = _crowd(world, rng, "live_event", size, lang=lang)
        slots = sorted((_event_time(rng, begin, length, moments), i)
                       for i, member in enumerate(crowd) for _ in range(1 + _poisson(rng, 1.4)))
        bank = dict(_REACTIONS[lang], name=names)
        stars: list[Post] = []
        for at, index in slots:
            post = _event_post(world, rng, crowd[index], at, _Event(lang, tag, sides, bank), stars)
            if post is not None and post.repost_of is None and crowd[index].followers > 2000:
                stars.append(post)


def _event_time(rng: random.Random, begin: int, length: int, moments: Sequence[int]) -> int:
    if rng.random() < 0.55:  # reacting to a moment on screen
        return int(rng.choice(moments) + abs(rng.gauss(0, 2.5 * MINUTE)))
    return begin - 15 * MINUTE + rng.randrange(length + 45 * MINUTE)


@dataclass(frozen=True, slots=True)
class _Event:
    lang: str
    tag: str
    sides: tuple[str, ...]
    bank: dict[str, tuple[str, ...]]


def _event_post(world: _World, rng: random.Random, member: _Member, at: int, event: _Event,
                stars: list[Post]) -> Post | None:
    lang, tag, sides, bank = event.lang, event.tag, event.sides, event.bank
    if stars and rng.random() < 0.15:
        return _repost(world, rng, member, at, _recent(rng, stars))
    chosen = [tag if rng.random() < 0.85 else tag.lower()]
    if rng.random() < 0.35:
        chosen.append(rng.choice(sides))
    if rng.random() < 0.08:
        chosen.append(rng.choice(_TAGS[lang]["t"]))
    text = _fill(rng, rng.choice(bank["t"]), bank)
    if rng.random() < 0.2:
        text += " " + rng.choice(_EMOJI)
    return world.emit(rng, member, at, _compose(rng, text[0].upper() + text[1:], lang, tags=chosen))


def _famous_quotes(world: _World, rng: random.Random) -> None:
    """A well-known quote posted verbatim by unrelated people, spread over days."""
    count = _count(rng, 2, 4, world.crowd_factor)
    for lang, words, author in (rng.choice(_QUOTES) for _ in range(count)):
        size = _crowd_size(world, rng, 0.04, 0.6, 0.15)
        peak = rng.randrange(world.params.days * DAY)
        spread = rng.uniform(12, 48) * HOUR
        for member in _crowd(world, rng, "famous_quote", size, lang=lang):
            at = (int(rng.gauss(peak, spread)) if rng.random() < 0.5
                  else rng.randrange(world.params.days * DAY))
            world.emit(rng, member, at, _quote_text(rng, lang, words, author))


def _quote_text(rng: random.Random, lang: str, words: str, author: str) -> _Content:
    roll = rng.random()
    if roll < 0.65:
        return _Content(words, lang)
    if roll < 0.8:
        return _Content(f"{words} {rng.choice(('—', '-', '~'))} {author}", lang)
    if roll < 0.9:
        tags = ("quote", "MondayMotivation") if lang != "fr" else ("citation", "CitationDuJour")
        return _compose(rng, words, lang, tags=tags[:rng.randint(1, 2)])
    if roll < 0.95:
        return _Content(f"“{words}”", lang)
    intro = ("Tellement vrai :", "Toujours.") if lang == "fr" else ("So true:", "This 👇", "Always.")
    return _Content(f"{rng.choice(intro)} {words}", lang)


_CROWDS: dict[str, Callable[[_World, random.Random], None]] = {
    "viral_cascade": _viral_cascades, "share_button": _share_buttons, "live_event": _live_events,
    "famous_quote": _famous_quotes}
