"""Link: co-action events. Accounts doing the same thing (near-identical text, the same repost,
link, reply target or hashtag set) within a time window, grouped by content first and cut into
bursts, so a crowd of thousands is one event, never millions of pairs."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit

from detector.records import Post

SIGNALS = ("text", "repost", "link", "reply", "hashtags")
AccountKey = tuple[str, str]  # (platform, account_id)
_TRACKING = re.compile(r"^(utm_|fbclid$|gclid$|ref$|ref_src$|s$|igshid$|mc_)")


@dataclass(frozen=True)
class LinkParams:
    """Windows per signal and the smallest text worth comparing."""

    text_window: timedelta = timedelta(minutes=10)
    repost_window: timedelta = timedelta(minutes=1)
    link_window: timedelta = timedelta(minutes=10)
    reply_window: timedelta = timedelta(minutes=10)
    hashtags_window: timedelta = timedelta(minutes=10)
    min_text_chars: int = 20
    occasion_gap: timedelta = timedelta(minutes=30)  # bursts of one content closer: one occasion

    def window(self, signal: str) -> timedelta:
        return getattr(self, f"{signal}_window")  # type: ignore[no-any-return]


@dataclass(slots=True, unsafe_hash=True)
class Participation:
    """One account's part in an event: its first post in the burst. Never changed once made,
    but not frozen: a frozen dataclass sets each field through ``object.__setattr__``, and at
    3M posts an incremental run makes 1.5M of these again from its cache (0.95 s frozen, 0.2 s
    not, measured with timeit)."""

    account: AccountKey
    post_id: str
    time: datetime


@dataclass(frozen=True, slots=True)
class Event:
    """Several accounts doing the same thing within a window.

    An *occasion* is a run of posts of one content with no gap longer than ``occasion_gap``:
    a relay, a ring's repost of one post, one day's push of a hashtag set, or a whole viral
    cascade. ``key_posts``/``key_accounts`` count the posts and accounts of the event's
    occasion, so a burst can be judged against it: all of it (a spike) or a thin slice of a
    crowd. ``occasion`` numbers the occasions of one content from 0.
    """

    signal: str
    key: str
    start: datetime
    end: datetime
    participants: tuple[Participation, ...]
    key_posts: int
    key_accounts: int
    occasion: int = 0

    @property
    def size(self) -> int:
        return len(self.participants)

    @property
    def concentration(self) -> float:
        """Share of the occasion's posts that fall in this burst (1.0: a one-off spike)."""
        return self.size / max(self.key_posts, 1)


@lru_cache(maxsize=1 << 16)   # pushed links repeat: parse each once
def normalize_url(url: str) -> str:
    """Scheme, ``www.``, fragments, tracking parameters and trailing slashes removed; host lowercased."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    host = (parts.hostname or "").removeprefix("www.")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not _TRACKING.match(k.lower())))
    path = parts.path.rstrip("/")
    return f"{host}{path}" + (f"?{query}" if query else "")


def hashtag_key(tags: Iterable[str]) -> str | None:
    """The set of two or more hashtags, case-folded and sorted; ``None`` for fewer."""
    unique = sorted({t.casefold().lstrip("#") for t in tags if t.strip("#")})
    return " ".join(unique) if len(unique) >= 2 else None


KeyFunction = Callable[[int, Post], Iterable[str]]


def content_keys(posts: Sequence[Post], text_groups: Mapping[int, str],
                 params: LinkParams) -> dict[str, KeyFunction]:
    """For each signal, what content a post carries (none, one or several keys)."""
    def text(i: int, post: Post) -> Iterable[str]:
        group = text_groups.get(i)
        return (group,) if group is not None else ()

    def repost(_: int, post: Post) -> Iterable[str]:
        return (post.repost_of,) if post.repost_of else ()

    def link(_: int, post: Post) -> Iterable[str]:
        return () if post.repost_of else tuple(dict.fromkeys(normalize_url(u) for u in post.urls))

    def reply(_: int, post: Post) -> Iterable[str]:
        return (post.reply_to,) if post.reply_to else ()

    def hashtags(_: int, post: Post) -> Iterable[str]:
        key = None if post.repost_of else hashtag_key(post.hashtags)
        return (key,) if key else ()

    return {"text": text, "repost": repost, "link": link, "reply": reply, "hashtags": hashtags}


def _bursts(indices: list[int], posts: Sequence[Post], window: timedelta) -> Iterator[list[int]]:
    """Cut time-ordered posts into bursts that each span at most ``window`` from their first post."""
    burst: list[int] = []
    for i in indices:
        if burst and posts[i].created_at - posts[burst[0]].created_at > window:
            yield burst
            burst = []
        burst.append(i)
    if burst:
        yield burst


def _occasions(indices: list[int], posts: Sequence[Post], gap: timedelta) -> Iterator[list[int]]:
    """Split time-ordered posts of one content where they pause for longer than ``gap``."""
    run: list[int] = []
    for i in indices:
        if run and posts[i].created_at - posts[run[-1]].created_at > gap:
            yield run
            run = []
        run.append(i)
    if run:
        yield run


def _event(signal: str, key: str, burst: list[int], posts: Sequence[Post], occasion: list[int],
           accounts: int, number: int) -> Event | None:
    first: dict[AccountKey, Participation] = {}
    for i in burst:
        post = posts[i]
        account = (post.platform, post.account_id)
        if account not in first:
            first[account] = Participation(account, post.post_id, post.created_at)
    if len(first) < 2:
        return None
    members = tuple(first.values())
    return Event(signal, key, members[0].time, max(p.time for p in members), members,
                 len(occasion), accounts, number)


def co_action_events(posts: Sequence[Post], text_groups: Mapping[int, str],
                     params: LinkParams = LinkParams(),
                     signals: Sequence[str] = SIGNALS) -> Iterator[Event]:
    """Every event of two or more accounts, per signal, grouped by content and in time order
    within a content; ``posts`` must be in time order.

    ``text_groups`` maps a post's index to its near-duplicate group (original posts only).
    """
    keyers = content_keys(posts, text_groups, params)
    for signal in signals:
        groups: dict[str, list[int]] = defaultdict(list)
        if signal == "text":      # the same keys in the same order as the keyer, without a pass
            for i in sorted(text_groups):
                groups[text_groups[i]].append(i)
        else:
            keyer = keyers[signal]
            for i, post in enumerate(posts):
                for key in keyer(i, post):
                    groups[key].append(i)
        for key, indices in groups.items():
            if len(indices) >= 2:
                yield from key_events(signal, key, indices, posts, params)


def key_events(signal: str, key: str, indices: list[int], posts: Sequence[Post],
               params: LinkParams = LinkParams(), first_occasion: int = 0) -> Iterator[Event]:
    """The events of one content: ``indices`` are all its posts, in time order (the kernel of
    :func:`co_action_events`, also run per content by the Dask engine), or its posts from the
    start of its occasion numbered ``first_occasion`` on (an incremental update's tail)."""
    window = params.window(signal)
    for number, occasion in enumerate(_occasions(indices, posts, params.occasion_gap), first_occasion):
        if len(occasion) < 2:
            continue
        accounts = len({(posts[i].platform, posts[i].account_id) for i in occasion})
        for burst in _bursts(occasion, posts, window):
            event = _event(signal, key, burst, posts, occasion, accounts, number)
            if event is not None:
                yield event


def last_occasion(indices: list[int], posts: Sequence[Post], gap: timedelta) -> tuple[int, int]:
    """How many occasions come before the last one of ``indices`` (time-ordered posts of one
    content), and the index of the last one's first post."""
    occasions = list(_occasions(indices, posts, gap))
    return len(occasions) - 1, occasions[-1][0]
