"""Turn records into database rows, without touching the database: runs in the reader process."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson

from detector.records import Account, Post, Rejected

POST_COLUMNS = ("platform", "post_id", "account_id", "handle", "created_at", "text", "repost_of",
                "reply_to", "quote_of", "urls", "hashtags", "mentions", "lang", "client")
ACCOUNT_FIELDS = ("handle", "name", "created_at", "followers", "following", "posts_count")
ACCOUNT_COLUMNS = ("platform", "account_id", *ACCOUNT_FIELDS)
TimeParam = Callable[[datetime | None], object]
Row = tuple[object, ...]


def time_param(dialect: str) -> TimeParam:
    """How a UTC datetime is bound: what ``schema.UTCDateTime`` does, minus its per-value cost.

    SQLite stores SQLAlchemy's text form (``YYYY-MM-DD HH:MM:SS.ffffff``, naive UTC), so these
    rows sort and compare exactly like rows written through the ORM.
    """
    if dialect == "sqlite":
        return _sqlite_time
    return lambda t: t


def _sqlite_time(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not UTC:    # the readers give UTC already: skip the conversion
        moment = moment.astimezone(UTC)
    return moment.isoformat(" ", "microseconds")[:26]    # without "+00:00"


class KnownAccounts(dict[tuple[str, str], int]):
    """Accounts one ingest has written already (with a hash of the row written), so later
    batches skip rows that would change nothing: formats that repeat the author on every post
    would otherwise rewrite each account once per batch.

    Bounded: past ``limit`` it forgets, and an account may be written twice (harmlessly).
    """

    def __init__(self, limit: int = 500_000) -> None:
        super().__init__()
        self.limit = limit

    def is_new(self, key: tuple[str, str], row: list[object]) -> bool:
        digest = hash(tuple(row))
        if self.get(key) == digest:
            return False
        if len(self) >= self.limit:
            self.clear()
        self[key] = digest
        return True


@dataclass
class PreparedBatch:
    """One batch, as rows ready to insert; plain tuples so it crosses processes cheaply."""

    posts: list[Row] = field(default_factory=list)       # unique within the batch
    accounts: list[Row] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    read_posts: int = 0                                   # before removing in-batch duplicates
    formats: tuple[str, ...] = ()
    position: int = 0                                     # bytes of the file read so far

    @property
    def read(self) -> int:
        return self.read_posts + len(self.rejected)


def _json_list(values: tuple[str, ...]) -> str:
    return orjson.dumps(values).decode() if values else "[]"


def post_row(post: Post, time: TimeParam) -> Row:
    return (post.platform, post.post_id, post.account_id, post.handle, time(post.created_at),
            post.text, post.repost_of, post.reply_to, post.quote_of, _json_list(post.urls),
            _json_list(post.hashtags), _json_list(post.mentions), post.lang, post.client)


def account_rows(posts: Iterable[Post], accounts: Iterable[Account], known: KnownAccounts,
                 time: TimeParam) -> list[Row]:
    """One row per account: what the dump said about it, or at least its id and handle
    (unless this ingest already wrote that account)."""
    merged: dict[tuple[str, str], list[object]] = {}
    for account in accounts:
        key = (account.platform, account.account_id)
        fresh = [account.platform, account.account_id, account.handle, account.name,
                 time(account.created_at), account.followers, account.following,
                 account.posts_count]
        row = merged.get(key)
        # a later mention of the same account fills in what an earlier one lacked
        merged[key] = fresh if row is None else [
            n if n is not None else o for o, n in zip(row, fresh, strict=True)]
    for post in posts:
        key = (post.platform, post.account_id)
        if key not in merged and key not in known:
            merged[key] = [post.platform, post.account_id, post.handle, None, None, None, None, None]
    return [tuple(row) for key, row in merged.items() if known.is_new(key, row)]


def prepare_batch(posts: Sequence[Post], accounts: Sequence[Account], rejected: Sequence[Rejected],
                  known: KnownAccounts, dialect: str) -> PreparedBatch:
    """Rows for one batch; the first occurrence of a post id in the batch wins."""
    time = time_param(dialect)
    unique: dict[tuple[str, str], Post] = {}
    for post in posts:
        unique.setdefault((post.platform, post.post_id), post)
    return PreparedBatch(posts=[post_row(p, time) for p in unique.values()],
                         accounts=account_rows(posts, accounts, known, time),
                         rejected=list(rejected), read_posts=len(posts))
