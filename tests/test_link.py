from __future__ import annotations

from datetime import timedelta

import pytest

from detector.link import LinkParams, co_action_events, hashtag_key, normalize_url
from tests.factories import post


@pytest.mark.parametrize("url, expected", [
    ("https://www.Example.org/a/?utm_source=x&id=3#top", "example.org/a?id=3"),
    ("http://example.org/a", "example.org/a"),
    ("https://example.org/a?b=2&a=1", "example.org/a?a=1&b=2"),   # parameter order is noise
    ("https://t.co/AbC", "t.co/AbC"),                              # paths keep their case
])
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_hashtag_key_needs_two_distinct_tags() -> None:
    assert hashtag_key(["Vote", "#vote"]) is None
    assert hashtag_key(["B", "a", "b"]) == "a b"


def test_reposts_of_one_post_cut_into_bursts() -> None:
    # five accounts repost post 1 within 40 s, then two more an hour later, one alone later still
    posts = [post(100 + n, account=n, seconds=n * 10, repost_of="1") for n in range(5)]
    posts += [post(200, account=7, seconds=3600, repost_of="1"),
              post(201, account=8, seconds=3620, repost_of="1"),
              post(202, account=9, seconds=9000, repost_of="1")]
    events = list(co_action_events(posts, {}, LinkParams(), signals=["repost"]))
    # three occasions (pauses of over 30 minutes); the last has one post and no event
    assert [(e.size, e.key_posts, e.key_accounts, e.occasion) for e in events] == [
        (5, 5, 5, 0), (2, 2, 2, 1)]
    assert events[0].end - events[0].start == timedelta(seconds=40)
    assert events[0].concentration == 1.0


def test_one_account_repeating_itself_is_no_event() -> None:
    posts = [post(n, account=1, seconds=n, text="same words again and again") for n in range(4)]
    groups = {i: "t0" for i in range(4)}
    assert list(co_action_events(posts, groups, LinkParams(), signals=["text"])) == []


def test_each_account_counts_once_per_event_with_its_first_post() -> None:
    posts = [post(1, account=1, seconds=0, urls=("https://x.org/a",)),
             post(2, account=1, seconds=5, urls=("https://x.org/a?utm_medium=tw",)),
             post(3, account=2, seconds=9, urls=("http://www.x.org/a/",))]
    (event,) = co_action_events(posts, {}, LinkParams(), signals=["link"])
    assert [(p.account[1], p.post_id) for p in event.participants] == [
        ("1001", posts[0].post_id), ("1002", posts[2].post_id)]


def test_reposts_do_not_count_as_link_or_hashtag_pushes() -> None:
    shared = dict(urls=("https://x.org/a",), hashtags=("a", "b"))
    posts = [post(1, account=1, seconds=0, repost_of="9", **shared),  # type: ignore[arg-type]
             post(2, account=2, seconds=1, repost_of="9", **shared)]  # type: ignore[arg-type]
    signals = {e.signal for e in co_action_events(posts, {}, LinkParams())}
    assert signals == {"repost"}


def test_text_events_follow_the_groups_given() -> None:
    posts = [post(n, account=n, seconds=n * 30, text=f"relay text {n}") for n in range(4)]
    groups = {0: "t0", 1: "t0", 2: "t0"}          # post 3 is not a near-duplicate
    (event,) = co_action_events(posts, groups, LinkParams(), signals=["text"])
    assert event.size == 3 and event.key == "t0"
