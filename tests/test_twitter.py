from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from detector.ingest.twitter import read_twarc2, read_v1
from detector.records import Account, Post, Rejected


def stream(text: str) -> io.BufferedReader:
    return io.BufferedReader(io.BytesIO(text.encode()))  # type: ignore[arg-type]


PAGE = {
    "data": [
        {"id": "1001", "author_id": "7", "text": "RT @b: hi", "created_at": "2021-01-06T18:00:01.000Z",
         "referenced_tweets": [{"type": "retweeted", "id": "900"}],
         "entities": {"urls": [{"expanded_url": "https://ex.org/a", "url": "https://t.co/1"}],
                      "hashtags": [{"tag": "Stop"}], "mentions": [{"username": "b"}]},
         "source": "Twitter for Android", "lang": "en"},
        {"id": "1002", "author_id": "8", "text": "@a no", "created_at": "2021-01-06T18:00:02.000Z",
         "referenced_tweets": [{"type": "replied_to", "id": "1001"}, {"type": "quoted", "id": "5"}]},
    ],
    "includes": {"users": [{"id": "7", "username": "a", "name": "A",
                            "created_at": "2020-01-01T00:00:00.000Z",
                            "public_metrics": {"followers_count": 3, "following_count": 4,
                                               "tweet_count": 5}},
                           {"id": "8", "username": "c"}]},
}


def test_twarc2_page_gives_accounts_and_posts() -> None:
    records = list(read_twarc2(stream(json.dumps(PAGE) + "\n"), "t.jsonl"))
    accounts = [r for r in records if isinstance(r, Account)]
    posts = [r for r in records if isinstance(r, Post)]
    assert [a.handle for a in accounts] == ["a", "c"]
    assert accounts[0].followers == 3 and accounts[0].created_at == datetime(2020, 1, 1, tzinfo=UTC)
    first, second = posts
    assert first.repost_of == "900" and first.handle == "a"
    assert first.urls == ("https://ex.org/a",) and first.hashtags == ("Stop",)
    assert first.mentions == ("b",) and first.client == "Twitter for Android"
    assert first.created_at == datetime(2021, 1, 6, 18, 0, 1, tzinfo=UTC)
    assert second.reply_to == "1001" and second.quote_of == "5" and second.handle == "c"


def test_twarc2_flattened_tweet_with_author() -> None:
    tweet = dict(PAGE["data"][1], author={"id": "8", "username": "c"})  # type: ignore[arg-type]
    records = list(read_twarc2(stream(json.dumps(tweet)), "flat.jsonl"))
    assert [type(r).__name__ for r in records] == ["Account", "Post"]
    assert records[1].handle == "c"  # type: ignore[union-attr]


def test_twarc2_bad_records_name_line_and_field() -> None:
    bad_time = dict(PAGE["data"][1], created_at="tomorrow")  # type: ignore[arg-type]
    float_id = dict(PAGE["data"][1], id=1.5e18)  # type: ignore[arg-type]
    lines = [json.dumps(PAGE), "{not json", json.dumps({"data": [bad_time, float_id]}),
             json.dumps({"meta": {}}), ""]
    records = list(read_twarc2(stream("\n".join(lines)), "t.jsonl"))
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert [(r.line, r.field) for r in rejected] == [
        (2, "(json)"), (3, "data.created_at"), (3, "data.id"), (4, "data")]
    assert "float" in rejected[2].message
    assert str(rejected[1]).startswith("t.jsonl, line 3, field 'data.created_at'")
    assert sum(isinstance(r, Post) for r in records) == 2


STATUS = {
    "created_at": "Wed Oct 19 21:45:12 +0000 2011", "id": 127000000000000001,
    "id_str": "127000000000000001", "text": "short…",
    "extended_tweet": {"full_text": "the full text #Hollande",
                       "entities": {"hashtags": [{"text": "Hollande"}], "urls": [],
                                    "user_mentions": []}},
    "source": '<a href="http://twitpop.fr" rel="nofollow">Twitpop</a>',
    "user": {"id": 42, "id_str": "42", "screen_name": "soutien42", "name": "S",
             "created_at": "Tue Oct 18 10:00:00 +0000 2011", "followers_count": 2,
             "friends_count": 9, "statuses_count": 1},
    "retweeted_status": {"id_str": "126999999999999999", "user": {"id_str": "1"}},
    "quoted_status_id_str": "5", "in_reply_to_status_id_str": None, "lang": "fr",
}


def test_v1_status_prefers_extended_text_and_nested_ids() -> None:
    records = list(read_v1(stream(json.dumps(STATUS)), "v1.jsonl"))
    account, post = records
    assert isinstance(account, Account) and account.following == 9
    assert isinstance(post, Post)
    assert post.text == "the full text #Hollande" and post.hashtags == ("Hollande",)
    assert post.repost_of == "126999999999999999" and post.quote_of == "5"
    assert post.reply_to is None and post.client == "Twitpop"
    assert post.created_at == datetime(2011, 10, 19, 21, 45, 12, tzinfo=UTC)


def test_v1_array_streams_elements_with_lines() -> None:
    second = dict(STATUS, id_str="127000000000000002", created_at="bad")
    text = "[\n" + json.dumps(STATUS) + ",\n" + json.dumps(second) + "\n]"
    records = list(read_v1(stream(text), "v1.json"))
    rejected = [r for r in records if isinstance(r, Rejected)]
    assert len([r for r in records if isinstance(r, Post)]) == 1
    assert [(r.line, r.field) for r in rejected] == [(3, "created_at")]


def test_v1_status_without_user_is_rejected() -> None:
    status = {k: v for k, v in STATUS.items() if k != "user"}
    (rejected,) = list(read_v1(stream(json.dumps(status)), "v1.jsonl"))
    assert isinstance(rejected, Rejected) and rejected.field == "user"


def test_v1_truncated_array_is_a_clear_error() -> None:
    from detector.errors import CorruptDump

    with pytest.raises(CorruptDump, match="not closed"):
        list(read_v1(stream("[" + json.dumps(STATUS) + ","), "cut.json"))
    with pytest.raises(CorruptDump, match="line 2"):
        list(read_v1(stream("[" + json.dumps(STATUS) + ",\n{\"id_str\": }]"), "bad.json"))
