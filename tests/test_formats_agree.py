"""The three Twitter formats of one same dump give the same posts."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from detector.dumps import snowflake
from detector.ingest import read_stream
from detector.records import Post
from tests.factories import render, sample_posts

TWITTER_FORMATS = ("twarc2", "v1", "v1-array", "ioarchive")


def read(fmt: str, posts: list[Post]) -> list[Post]:
    data = render(fmt, posts).encode()
    part = read_stream(io.BufferedReader(io.BytesIO(data)), f"dump.{fmt}")  # type: ignore[arg-type]
    return [r for r in part.records if isinstance(r, Post)]


def comparable(post: Post) -> Post:
    """Times to the second: v1.1 has no milliseconds."""
    from dataclasses import replace

    return replace(post, created_at=post.created_at.replace(microsecond=0))


def test_sample_posts_agree_across_formats() -> None:
    expected = [comparable(p) for p in sample_posts()]
    for fmt in TWITTER_FORMATS:
        assert [comparable(p) for p in read(fmt, sample_posts())] == expected, fmt


def test_twarc2_and_archive_keep_milliseconds() -> None:
    for fmt in ("twarc2", "ioarchive"):
        assert read(fmt, sample_posts())[2].created_at.microsecond == 750000  # T0 + .25 + 61.5 s


_tags = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)
# NUL is left out: no store can keep it, so every reader rejects its record (test_hostile_dumps)
_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=80)


@st.composite
def posts(draw: st.DrawFn) -> list[Post]:
    count = draw(st.integers(1, 8))
    start = datetime(2012, 1, 1, tzinfo=UTC) + timedelta(seconds=draw(st.integers(0, 10**8)))
    result: list[Post] = []
    for n in range(count):
        moment = start + timedelta(milliseconds=draw(st.integers(0, 10**9)))
        earlier = [p.post_id for p in result]
        pick = st.sampled_from(earlier) if earlier else st.none()
        account = draw(st.integers(1, 10**12))
        result.append(Post(
            platform="twitter", post_id=snowflake(moment, n), account_id=str(account),
            handle=f"u{account}",   # one handle per account, as on the platform at one time
            created_at=moment, text=draw(_text),
            repost_of=draw(st.none() | pick), reply_to=draw(st.none() | pick),
            urls=tuple(draw(st.lists(st.from_regex(r"https://[a-z]{1,8}\.org/[a-z0-9]{0,6}",
                                                   fullmatch=True), max_size=2))),
            hashtags=tuple(draw(st.lists(_tags, max_size=3))),
            client=draw(st.none() | st.sampled_from(["Twitter Web App", "Twitpop", "TweetDeck"])),
        ))
    return result


@settings(max_examples=60, deadline=None)
@given(posts())
def test_any_posts_agree_across_formats(generated: list[Post]) -> None:
    expected = [comparable(p) for p in generated]
    for fmt in TWITTER_FORMATS:
        assert [comparable(p) for p in read(fmt, generated)] == expected, fmt
