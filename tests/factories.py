"""Tiny hand-made posts with known answers, shared by the tests, and what they read back."""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, select

from detector.dumps import snowflake, write_dump
from detector.records import Account, Post
from detector.store.schema import LookupBandRow, LookupTextRow

T0 = datetime(2011, 10, 19, 21, 45, 12, 250000, tzinfo=UTC)


def post(n: int, *, account: int = 1, seconds: float = 0, text: str = "hello", **fields: object) -> Post:
    """Post number ``n`` by account ``account``, ``seconds`` after T0, with a snowflake id."""
    moment = T0 + timedelta(seconds=seconds)
    return Post(platform="twitter", post_id=snowflake(moment, n), account_id=str(1000 + account),
                handle=f"user{account}", created_at=moment, text=text, **fields)  # type: ignore[arg-type]


def sample_posts() -> list[Post]:
    """Six posts covering an original, a retweet, a reply, a quote, links, tags and an app."""
    original = post(1, account=1, text="Vote for Jean! #debat #2012 https://t.co/a",
                    urls=("https://example.org/jean",), hashtags=("debat", "2012"),
                    client="Twitter for iPhone", lang="fr")
    return [
        original,
        post(2, account=2, seconds=30, text="RT @user1: Vote for Jean! #debat",
             repost_of=original.post_id, hashtags=("debat",), mentions=("user1",)),
        post(3, account=3, seconds=61.5, text="@user1 non merci", reply_to=original.post_id,
             mentions=("user1",), client="Twitter Web App"),
        post(4, account=2, seconds=3600, text="Look at this", quote_of=original.post_id),
        post(5, account=4, seconds=7200, text="Ünïcödé ✓ \"quoted\", comma\nnew line"),
        post(6, account=1, seconds=86400, text=""),
    ]


def accounts_of(posts: Sequence[Post]) -> dict[str, Account]:
    return {p.account_id: Account(p.platform, p.account_id, p.handle, name=f"Name {p.handle}",
                                  created_at=datetime(2010, 5, 1, tzinfo=UTC), followers=10,
                                  following=20, posts_count=30) for p in posts}


def render(fmt: str, posts: Sequence[Post]) -> str:
    out = io.StringIO()
    write_dump(fmt, posts, out, accounts_of(posts))
    return out.getvalue()


def write_file(path: Path, fmt: str, posts: Sequence[Post], compress: bool = False) -> Path:
    data = render(fmt, posts).encode()
    if compress:
        path.write_bytes(gzip.compress(data, mtime=0))
    else:
        path.write_bytes(data)
    return path


def many_posts_text(count: int, fmt: str = "v1") -> str:
    """A dump of ``count`` distinct posts by 17 accounts, one per second."""
    return render(fmt, [post(n, account=n % 17, seconds=n, text=f"message {n}") for n in range(count)])


def index_contents(engine: Engine) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The text-lookup index's rows: (text key, post) and (band key, text key), sorted."""
    with engine.connect() as c:
        texts = c.execute(select(LookupTextRow.text_key, LookupTextRow.post_ref)
                          .order_by(LookupTextRow.text_key, LookupTextRow.post_ref)).all()
        bands = c.execute(select(LookupBandRow.band_key, LookupBandRow.text_key)
                          .order_by(LookupBandRow.band_key, LookupBandRow.text_key)).all()
    return [(int(a), int(b)) for a, b in texts], [(int(a), int(b)) for a, b in bands]
