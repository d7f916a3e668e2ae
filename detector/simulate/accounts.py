"""Simulated accounts while they are being built: handles, names, ids, clients, organic members."""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from detector.dumps import snowflake
from detector.simulate.banks import (
    _AUTOMATION,
    _CLIENTS,
    _EMOJI,
    _FIRST,
    _HANDLE_WORDS,
    _LANGS,
    _LAST,
    _OFFSETS,
)
from detector.simulate.draws import _hours, _lognormal, _pick

if TYPE_CHECKING:
    from detector.simulate.world import _World


@dataclass(slots=True)
class _Member:
    """An account while it is being simulated; becomes an ``Account`` and a ``Truth`` at the end."""

    account_id: str
    handle: str
    name: str
    created_at: datetime
    followers: int
    following: int
    lang: str
    hours: tuple[float, ...]
    clients: tuple[str, ...]
    client_weights: tuple[float, ...]
    activity: float
    repost_share: float = 0.3
    reply_share: float = 0.1
    link_share: float = 0.15
    tag_share: float = 0.15
    leaning: str = "background"
    campaign: str | None = None
    scenario: str = "background"
    crowds: Counter[str] = field(default_factory=Counter)
    posts: int = 0

    def client(self, rng: random.Random) -> str:
        return rng.choices(self.clients, self.client_weights)[0]


def _handle(rng: random.Random, lang: str, style: str) -> str:
    first = rng.choice(_FIRST[lang].split("|"))
    last = rng.choice(_LAST[lang].split("|"))
    word = rng.choice(_HANDLE_WORDS)
    if style == "default":  # what the sign-up form proposes: Name12345678
        return f"{first.capitalize()}{rng.randrange(10**7, 10**8)}"
    if style == "pattern":
        return f"{word}_{first}_{rng.randrange(10, 100)}"
    patterns = (f"{first}{last}", f"{first}_{last}", f"{first.capitalize()}{last.capitalize()}",
                f"{first}{last}{rng.randrange(70, 100)}", f"{word}{rng.choice(_HANDLE_WORDS)}",
                f"{word}_{first}", f"{first}{rng.randrange(1, 9999)}", f"_{first}{last[:3]}_",
                f"{first[0]}{last}", f"{first.capitalize()}_{rng.randrange(1, 100)}")
    return rng.choice(patterns)


def _display_name(rng: random.Random, handle: str) -> str:
    letters = "".join(c for c in handle if c.isalpha())
    roll = rng.random()
    if roll < 0.6:
        return letters.capitalize()[:20] or handle
    if roll < 0.8:
        return f"{letters.capitalize()[:14]} {rng.choice(_EMOJI)}"
    return handle


def _account_id(rng: random.Random, created: datetime) -> str:
    """Sequential-looking ids before 2014, snowflakes after, as on Twitter."""
    if created.year >= 2014:
        return snowflake(created, rng.getrandbits(22))
    years = (created - datetime(2007, 1, 1, tzinfo=UTC)).total_seconds() / (7 * 365.25 * 86400)
    return str(int(1_000_000 + max(0.0, years) * 2_300_000_000) + rng.randrange(1_000_000))


def _clients(rng: random.Random, automated: bool) -> tuple[tuple[str, ...], tuple[float, ...]]:
    main = rng.choice(_AUTOMATION) if automated else _pick(rng, _CLIENTS)
    if rng.random() < 0.3:
        return (main, _pick(rng, _CLIENTS)), (0.85, 0.15)
    return (main,), (1.0,)


def _organic_member(world: _World, rng: random.Random) -> _Member:
    lang = _pick(rng, _LANGS)
    created = world.start - timedelta(days=20 + rng.random() ** 0.8 * 365 * 15,
                                      seconds=rng.randrange(86400))
    created = max(created, datetime(2007, 1, 1, tzinfo=UTC)).replace(microsecond=0)
    famous = rng.random() < 0.012
    followers = int(math.exp(rng.uniform(10.8, 15.4)) if famous else _lognormal(rng, 150, 1.7))
    clients, weights = _clients(rng, automated=rng.random() < 0.02)
    handle = world.unique_handle(rng, _handle(rng, lang, "default" if rng.random() < 0.1 else "normal"))
    return _Member(
        account_id=world.unique_account_id(rng, created), handle=handle,
        name=_display_name(rng, handle), created_at=created, followers=followers,
        following=int(_lognormal(rng, 300, 1.1)), lang=lang,
        hours=_hours(_pick(rng, (("day", 70), ("owl", 20), ("office", 8), ("flat", 2))),
                     rng.choice(_OFFSETS[lang])),
        clients=clients, client_weights=weights,
        activity=world.params.posts_per_account * _lognormal(rng, 0.55, 1.0),
        repost_share=0.8 * rng.betavariate(2, 3), reply_share=0.6 * rng.betavariate(1.2, 5),
        link_share=rng.betavariate(1, 5), tag_share=rng.betavariate(1, 4),
        leaning=_pick(rng, (("background", 45), ("viral_cascade", 25), ("share_button", 12),
                            ("live_event", 13), ("famous_quote", 5))))
