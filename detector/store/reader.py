"""Read what is stored: counts, datasets, rejections, posts in time order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select

from detector.records import Post, Rejected
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


def _post(row: Any) -> Post:
    return Post(platform=row.platform, post_id=row.post_id, account_id=row.account_id,
                handle=row.handle, created_at=row.created_at, text=row.text,
                repost_of=row.repost_of, reply_to=row.reply_to, quote_of=row.quote_of,
                urls=tuple(row.urls), hashtags=tuple(row.hashtags), mentions=tuple(row.mentions),
                lang=row.lang, client=row.client)


def complete_datasets(engine: Engine) -> list[int]:
    with engine.connect() as c:
        return list(c.execute(select(DatasetRow.id).where(DatasetRow.status == "complete")
                              .order_by(DatasetRow.id)).scalars())


def iter_posts(engine: Engine, since: datetime | None = None, until: datetime | None = None,
               batch: int = 5000) -> Iterator[Post]:
    """Posts of complete datasets in ``[since, until)``, by time then id, streamed in batches."""
    complete = select(DatasetRow.id).where(DatasetRow.status == "complete")
    columns = [getattr(PostRow, name) for name in _POST_FIELDS]
    query = select(*columns).where(PostRow.dataset_id.in_(complete))
    if since is not None:
        query = query.where(PostRow.created_at >= since)
    if until is not None:
        query = query.where(PostRow.created_at < until)
    query = query.order_by(PostRow.created_at, PostRow.platform, PostRow.post_id)
    with engine.connect() as c:
        for row in c.execution_options(yield_per=batch).execute(query):
            yield _post(row)
