"""Read what is stored: counts, datasets, rejections, posts in time order."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Engine, func, select, text, type_coerce
from sqlalchemy.types import NullType

from detector.records import Post, PostText, Rejected
from detector.store.schema import AccountRow, DatasetRow, PostRow, RejectionRow


@dataclass(frozen=True)
class Stats:
    posts: int
    accounts: int
    datasets: int
    complete_datasets: int
    first_post: datetime | None
    last_post: datetime | None
    platforms: dict[str, int]


def stats(engine: Engine) -> Stats:
    """Counts of what the database holds."""
    with engine.connect() as c:
        posts, first, last = c.execute(select(
            func.count(), func.min(PostRow.created_at), func.max(PostRow.created_at))).one()
        platforms = dict(c.execute(select(PostRow.platform, func.count())
                                   .group_by(PostRow.platform)).all())
        return Stats(
            posts=posts,
            accounts=c.execute(select(func.count()).select_from(AccountRow)).scalar_one(),
            datasets=c.execute(select(func.count()).select_from(DatasetRow)).scalar_one(),
            complete_datasets=c.execute(select(func.count()).select_from(DatasetRow).where(
                DatasetRow.status == "complete")).scalar_one(),
            first_post=first,
            last_post=last,
            platforms=platforms,
        )


def dataset_digest(engine: Engine, dataset_id: int) -> str:
    """A SHA-256 over a dataset's row, its posts and their authors' accounts: equal digests mean
    nothing of it changed (the hostile-input tests and the fuzzer check this)."""
    hashed = hashlib.sha256()
    with engine.connect() as connection:
        for query in ("SELECT * FROM posts WHERE dataset_id = :d ORDER BY platform, post_id",
                      "SELECT * FROM accounts WHERE account_id IN (SELECT account_id FROM posts "
                      "WHERE dataset_id = :d) ORDER BY platform, account_id",
                      "SELECT * FROM datasets WHERE id = :d"):
            for row in connection.execute(text(query), {"d": dataset_id}):
                hashed.update(repr(tuple(row)).encode())
    return hashed.hexdigest()


def datasets(engine: Engine) -> list[DatasetRow]:
    """Every dataset, oldest first."""
    with engine.connect() as c:
        return [DatasetRow(**r._mapping) for r in c.execute(
            select(DatasetRow.__table__).order_by(DatasetRow.id))]


def rejections(engine: Engine, dataset_id: int, limit: int = 100) -> list[Rejected]:
    """The first rejected records kept for a dataset."""
    with engine.connect() as c:
        rows = c.execute(select(RejectionRow.source, RejectionRow.line, RejectionRow.field,
                                RejectionRow.message)
                         .where(RejectionRow.dataset_id == dataset_id)
                         .order_by(RejectionRow.id).limit(limit))
        return [Rejected(source=r.source, line=r.line, field=r.field, message=r.message)
                for r in rows]


_POST_FIELDS = ("platform", "post_id", "account_id", "handle", "created_at", "text", "repost_of",
                "reply_to", "quote_of", "urls", "hashtags", "mentions", "lang", "client")
_TEXT_FIELDS = ("platform", "post_id", "text", "repost_of", "id")    # PostText's, in its order
# what linking keys a post by (``link.content_keys``) and an event holds of it
_LINK_FIELDS = ("platform", "post_id", "account_id", "created_at", "repost_of", "reply_to", "urls",
                "hashtags")


def _as_list(value: Any) -> tuple[str, ...]:
    if not value or value == "[]":   # most posts have no links, hashtags or mentions
        return ()
    return tuple(orjson.loads(value) if isinstance(value, str | bytes) else value)


def _as_time(value: Any) -> datetime:
    if isinstance(value, str):  # SQLite: SQLAlchemy's naive UTC text (parsed with its zone: 5x faster)
        return datetime.fromisoformat(value + "+00:00")
    moment: datetime = value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def post_from_row(row: Any, lists: dict[Any, tuple[str, ...]] | None = None) -> Post:
    """A row of ``raw_post_columns`` as a Post; ``lists`` caches decoded lists (pushed links and
    tags repeat)."""
    (platform, post_id, account_id, handle, created_at, text, repost_of, reply_to, quote_of,
     urls, hashtags, mentions, lang, client) = row
    decode = _as_list if lists is None else _cached_list(lists)
    # positional, in Post's field order: keywords cost 1.6 us more per post (0.5 s of the
    # month's detection); a test reads back every field of stored posts
    return Post(platform, post_id, account_id, _as_time(created_at), text, handle, repost_of,
                reply_to, quote_of, decode(urls), decode(hashtags), decode(mentions), lang, client)


def linked_post_from_row(row: Any, lists: dict[Any, tuple[str, ...]]) -> Post:
    """A row of ``link_post_columns`` as a Post with only what linking reads: its text, handle,
    quote, mentions, language and client left empty."""
    platform, post_id, account_id, created_at, repost_of, reply_to, urls, hashtags = row
    decode = _cached_list(lists)
    return Post(platform, post_id, account_id, _as_time(created_at), "", None, repost_of, reply_to,
                None, decode(urls), decode(hashtags))


def _cached_list(lists: dict[Any, tuple[str, ...]]) -> Any:
    def decode(value: Any) -> tuple[str, ...]:
        if not value or value == "[]" or not isinstance(value, str | bytes):
            return _as_list(value)
        found = lists.get(value)
        if found is None:
            found = lists[value] = _as_list(value)
        return found
    return decode


def account_creation(engine: Engine) -> dict[tuple[str, str], datetime]:
    """When each account with a known creation date was created."""
    with engine.connect() as c:
        rows = c.execute(select(AccountRow.platform, AccountRow.account_id, AccountRow.created_at)
                         .where(AccountRow.created_at.is_not(None)))
        return {(platform, account): created for platform, account, created in rows
                if created is not None}


def complete_datasets(engine: Engine) -> list[int]:
    with engine.connect() as c:
        return list(c.execute(select(DatasetRow.id).where(DatasetRow.status == "complete")
                              .order_by(DatasetRow.id)).scalars())


def iter_posts(engine: Engine, since: datetime | None = None, until: datetime | None = None,
               batch: int = 5000) -> Iterator[Post]:
    """Posts of complete datasets in ``[since, until)``, by time then id, streamed in batches.

    Columns are read raw and converted here: SQLAlchemy's per-value JSON and time processing
    cost three times the rest of the read (measured on 311k posts).
    """
    lists: dict[Any, tuple[str, ...]] = {}
    with engine.connect() as c:
        query = _posts_query(_POST_FIELDS, since, until)
        for row in c.execution_options(yield_per=batch).execute(query):
            yield post_from_row(row, lists)


def iter_post_texts(engine: Engine, since: datetime | None = None, until: datetime | None = None,
                    batch: int = 5000) -> Iterator[PostText]:
    """The posts of ``iter_posts``, in its order, with only what fingerprinting and the lookup
    index read (platform, id, text, repost target, row id): about half the time of whole posts."""
    with engine.connect() as c:
        query = _posts_query(_TEXT_FIELDS, since, until)
        yield from map(PostText._make, c.execution_options(yield_per=batch).execute(query))


def count_posts_between(engine: Engine, since: datetime | None = None,
                        until: datetime | None = None) -> int:
    """How many posts ``iter_posts`` gives for these bounds."""
    complete = select(DatasetRow.id).where(DatasetRow.status == "complete")
    query = select(func.count()).select_from(PostRow).where(PostRow.dataset_id.in_(complete))
    if since is not None:
        query = query.where(PostRow.created_at >= since)
    if until is not None:
        query = query.where(PostRow.created_at < until)
    with engine.connect() as c:
        return int(c.execute(query).scalar_one())


def _posts_query(fields: tuple[str, ...], since: datetime | None, until: datetime | None) -> Any:
    complete = select(DatasetRow.id).where(DatasetRow.status == "complete")
    query = select(*_raw(fields)).where(PostRow.dataset_id.in_(complete))
    if since is not None:
        query = query.where(PostRow.created_at >= since)
    if until is not None:
        query = query.where(PostRow.created_at < until)
    return query.order_by(PostRow.created_at, PostRow.platform, PostRow.post_id)


_RAW = {name: NullType() for name in (*_POST_FIELDS, "id")}


def _raw(fields: tuple[str, ...]) -> list[Any]:
    return [type_coerce(getattr(PostRow, name), _RAW[name]) for name in fields]


def raw_post_columns() -> list[Any]:
    """The columns ``post_from_row`` reads, as the driver gives them: SQLAlchemy's per-value
    JSON and time processing cost three times the rest of a read."""
    return _raw(_POST_FIELDS)


def link_post_columns() -> list[Any]:
    """The columns ``linked_post_from_row`` reads, as the driver gives them."""
    return _raw(_LINK_FIELDS)
