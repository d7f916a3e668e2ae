"""The data contract: the records every stage reads and writes, defined once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol


@dataclass(frozen=True, slots=True)
class Post:
    """One post as the platform gave it.

    Ids are strings, always: spreadsheets and JSON parsers turn long ids into floats.
    ``created_at`` is timezone-aware UTC. ``text`` is the post's own text as published
    (a Twitter retweet keeps its ``RT @handle:`` prefix); normalization happens later.
    """

    platform: str
    post_id: str
    account_id: str
    created_at: datetime
    text: str = ""
    handle: str | None = None
    repost_of: str | None = None
    reply_to: str | None = None
    quote_of: str | None = None
    urls: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    lang: str | None = None
    client: str | None = None


class PostText(NamedTuple):
    """What fingerprinting reads of a post, and no more: a third of the reading of a ``Post``."""

    platform: str
    post_id: str
    text: str
    repost_of: str | None
    ref: int = 0                # the stored row's id (``posts.id``): the text-lookup index names it


class Textual(Protocol):
    """A ``Post`` or a ``PostText``: what fingerprinting and its order check read."""

    @property
    def platform(self) -> str: ...
    @property
    def post_id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def repost_of(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class Account:
    """What a dump says about an account; ``None`` where it says nothing."""

    platform: str
    account_id: str
    handle: str | None = None
    name: str | None = None
    created_at: datetime | None = None
    followers: int | None = None
    following: int | None = None
    posts_count: int | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A record a reader could not turn into a Post: where it is and what is wrong."""

    source: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}, line {self.line}, field {self.field!r}: {self.message}"


Record = Post | Account | Rejected


@dataclass(slots=True)
class IngestCounts:
    """Running counts of one ingest; mutable on purpose, it is a tally."""

    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    accounts: int = 0
    rejections: list[Rejected] = field(default_factory=list)
