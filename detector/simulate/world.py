"""The world being built: members, posts and unique ids, and the posting actions on it."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING

from detector.dumps import snowflake
from detector.records import Post
from detector.simulate.accounts import _account_id, _Member
from detector.simulate.params import PLATFORM, SimulationParams
from detector.simulate.texts import _compose, _Content, _repost_content, _tco

if TYPE_CHECKING:
    from detector.simulate.campaigns import _Campaign
    from detector.simulate.organic import _Outlet


@dataclass(slots=True)
class _World:
    params: SimulationParams
    start: datetime
    end: int                                  # ms after start; posts at or after are dropped
    members: list[_Member] = field(default_factory=list)
    organic: list[_Member] = field(default_factory=list)
    popular: list[_Member] = field(default_factory=list)
    posts: list[Post] = field(default_factory=list)
    pool: list[Post] = field(default_factory=list)       # background originals, in time order
    handles: set[str] = field(default_factory=set)
    account_ids: set[str] = field(default_factory=set)
    post_ids: set[str] = field(default_factory=set)
    reposted: set[tuple[str, str]] = field(default_factory=set)
    campaigns: list[_Campaign] = field(default_factory=list)
    outlets: list[_Outlet] = field(default_factory=list)
    _crowd_weights: dict[tuple[str, str | None], list[float]] = field(default_factory=dict)

    @property
    def weeks(self) -> float:
        return self.params.days / 7

    @property
    def crowd_factor(self) -> float:
        return math.sqrt(self.params.scale * self.weeks)

    @property
    def ring_count_factor(self) -> float:
        return float(self.params.scale ** 0.7 * self.weeks ** 0.1)

    @property
    def ring_size_factor(self) -> float:
        return float(self.params.scale ** 0.25)

    @property
    def occasion_factor(self) -> float:
        return float(self.weeks ** 0.4)

    def crowd_weights(self, kind: str, lang: str | None) -> list[float]:
        """Cumulative weights of organic accounts for a ``kind`` crowd speaking ``lang``."""
        key = (kind, lang)
        if key not in self._crowd_weights:
            self._crowd_weights[key] = list(accumulate(
                math.sqrt(m.activity + 0.5) * (5.0 if m.leaning == kind else 1.0)
                * (1.0 if lang is None or m.lang == lang else 0.15) for m in self.organic))
        return self._crowd_weights[key]

    def unique_handle(self, rng: random.Random, base: str) -> str:
        handle = base[:15]
        while handle.lower() in self.handles:
            suffix = str(rng.randrange(10, 10_000))
            handle = base[:15 - len(suffix)] + suffix
        self.handles.add(handle.lower())
        return handle

    def unique_account_id(self, rng: random.Random, created: datetime) -> str:
        while (account_id := _account_id(rng, created)) in self.account_ids:
            pass
        self.account_ids.add(account_id)
        return account_id

    def add(self, member: _Member) -> _Member:
        self.members.append(member)
        if member.campaign is None:
            self.organic.append(member)
        return member

    def emit(self, rng: random.Random, member: _Member, at: int, content: _Content, *,
             client: str | None = None, repost_of: str | None = None, reply_to: str | None = None,
             quote_of: str | None = None) -> Post | None:
        """Publish a post ``at`` ms after the start; ``None`` when that is outside the period."""
        if not 0 <= at < self.end:
            return None
        moment = self.start + timedelta(milliseconds=at)
        while (post_id := snowflake(moment, rng.getrandbits(22))) in self.post_ids:
            pass
        self.post_ids.add(post_id)
        post = Post(PLATFORM, post_id, member.account_id, moment, content.text, member.handle,
                    repost_of, reply_to, quote_of, content.urls, content.hashtags, content.mentions,
                    content.lang, client or member.client(rng))
        self.posts.append(post)
        member.posts += 1
        return post


def _repost(world: _World, rng: random.Random, member: _Member, at: int, original: Post,
           client: str | None = None) -> Post | None:
    """``member`` retweets ``original`` (once at most, never their own, always after it)."""
    key = (member.account_id, original.post_id)
    if original.account_id == member.account_id or key in world.reposted:
        return None
    earliest = int((original.created_at - world.start).total_seconds() * 1000) + 500
    post = world.emit(rng, member, max(at, earliest), _repost_content(original), client=client,
                      repost_of=original.post_id)
    if post is not None:
        world.reposted.add(key)
    return post


def _reply(world: _World, rng: random.Random, member: _Member, at: int, target: Post, body: str,
          lang: str | None, client: str | None = None, tags: Sequence[str] = ()) -> Post | None:
    """``member`` answers ``target``: ``@handle body``."""
    handle = target.handle or ""
    content = _compose(rng, body, lang, tags=tags)
    earliest = int((target.created_at - world.start).total_seconds() * 1000) + 2000
    return world.emit(rng, member, max(at, earliest),
                      _Content(f"@{handle} {content.text}", lang, content.urls, content.hashtags,
                               (handle, *content.mentions)),
                      client=client, reply_to=target.post_id)


def _quote(world: _World, rng: random.Random, member: _Member, at: int, target: Post,
          body: str, lang: str | None) -> Post | None:
    status = f"https://twitter.com/{target.handle}/status/{target.post_id}"
    earliest = int((target.created_at - world.start).total_seconds() * 1000) + 2000
    return world.emit(rng, member, max(at, earliest),
                      _Content(f"{body} {_tco(rng)}", lang, (status,)), quote_of=target.post_id)
