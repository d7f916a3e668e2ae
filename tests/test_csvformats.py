from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from detector.errors import BadMapping, MissingColumns
from detector.ingest import load_mapping, read_dump
from detector.ingest.csvformats import read_coortweet, read_ioarchive, read_ira
from detector.ingest.mapped import read_mapped
from detector.records import Account, Post, Rejected

DATA = Path(__file__).parent / "data"
ARCHIVE_HEADER = ("tweetid,userid,user_screen_name,tweet_time,tweet_text,tweet_client_name,"
                  "is_retweet,retweet_tweetid,in_reply_to_tweetid,hashtags,urls,user_mentions,"
                  "account_creation_date,follower_count\n")


def stream(text: str | bytes) -> io.BufferedReader:
    data = text.encode() if isinstance(text, str) else text
    return io.BufferedReader(io.BytesIO(data))  # type: ignore[arg-type]


def posts(records: list) -> list[Post]:  # type: ignore[type-arg]
    return [r for r in records if isinstance(r, Post)]


def test_archive_row_recovers_seconds_from_the_snowflake() -> None:
    # (790000000000000000 >> 22) ms after the Twitter epoch is 2016-10-23 01:20:52.147 UTC
    row = ('790000000000000000,abc123hash,pal,2016-10-23 01:20,"RT @x: hi, all",Twitter Web Client,'
           "True,789999999999999999,,\"['Vote', 'MAGA']\",['https://ex.org'],\"['1', '2']\","
           "2016-01-02,12\n")
    records = list(read_ioarchive(stream(ARCHIVE_HEADER + row), "io.csv"))
    account, post = records
    assert isinstance(account, Account) and account.followers == 12 and account.handle == "pal"
    assert isinstance(post, Post)
    assert post.created_at == datetime(2016, 10, 23, 1, 20, 52, 147000, tzinfo=UTC)
    assert post.repost_of == "789999999999999999" and post.reply_to is None
    assert post.hashtags == ("Vote", "MAGA") and post.urls == ("https://ex.org",)
    assert post.mentions == ("1", "2") and post.text == "RT @x: hi, all"


def test_archive_keeps_the_minute_when_the_id_disagrees() -> None:
    row = "12345,u,pal,2016-10-23 14:15,hi,,False,,,,,,,\n"   # a pre-snowflake id
    (_, post) = list(read_ioarchive(stream(ARCHIVE_HEADER + row), "io.csv"))
    assert isinstance(post, Post)
    assert post.created_at == datetime(2016, 10, 23, 14, 15, tzinfo=UTC)


def test_archive_bad_rows_are_rejected_by_line_and_column() -> None:
    rows = ("1.23E+17,u,pal,2016-10-23 14:15,hi,,False,,,,,,,\n"     # line 2: float id
            "124,u,pal,someday,hi,,False,,,,,,,\n"                    # line 3: bad time
            "125,u,pal,2016-10-23 14:15,\"two\nlines\",,False,,,,,,,\n"  # lines 4-5: fine
            "126,u,pal\n"                                             # line 6: short row
            "127,u,pal,2016-10-23 14:15,hi,,False,,,\"['a'\",,,,\n")  # line 7: bad list
    records = list(read_ioarchive(stream(ARCHIVE_HEADER + rows), "io.csv"))
    rejected = [(r.line, r.field) for r in records if isinstance(r, Rejected)]
    assert rejected == [(2, "tweetid"), (3, "tweet_time"), (6, "(row)"), (7, "hashtags")]
    assert [p.text for p in posts(records)] == ["two\nlines"]


def test_archive_invalid_utf8_rejects_only_that_row() -> None:
    data = (ARCHIVE_HEADER + "124,u,pal,2016-10-23 14:15,ok,,False,,,,,,,\n").encode() + \
        b"125,u,pal,2016-10-23 14:15,\xff\xfe,,False,,,,,,,\n"
    records = list(read_ioarchive(stream(data), "io.csv"))
    assert [(r.line, r.field) for r in records if isinstance(r, Rejected)] == [(3, "(encoding)")]
    assert len(posts(records)) == 1


def test_archive_without_its_columns_is_refused() -> None:
    with pytest.raises(MissingColumns, match="tweet_time"):
        list(read_ioarchive(stream("tweetid,userid,tweet_text\n1,2,3\n"), "io.csv"))


def test_coortweet_real_slice() -> None:
    records = list(read_coortweet(stream((DATA / "coortweet_russian_300.csv").read_bytes()), "c.csv"))
    assert len(records) == 300 and all(isinstance(r, Post) for r in records)
    first = records[0]
    assert isinstance(first, Post)
    assert first.post_id == "114e22f1b2b648528277b76f0b0224e7/85d2d12251a735ce05255061f7f231e2"
    assert first.repost_of == "85d2d12251a735ce05255061f7f231e2"
    assert first.created_at == datetime.fromtimestamp(1623881091, tz=UTC)


def test_coortweet_one_share_of_two_objects_keeps_both_rows() -> None:
    # content 77f7... shares two objects in the real file (lines 23 and 24 of the slice)
    rows = list(read_coortweet(stream((DATA / "coortweet_russian_300.csv").read_bytes()), "c.csv"))
    shares = [p for p in rows if isinstance(p, Post) and p.post_id.startswith("77f7a2d0")]
    assert sorted(p.repost_of for p in shares) == [  # type: ignore[type-var]
        "2afeb8a2e0ae4a0bda0604e6997be3a9", "bb1fe038be0d8fde2ec6b8d5173b0f2b"]
    assert len({p.post_id for p in rows if isinstance(p, Post)}) == 300


def test_coortweet_object_that_is_a_url_becomes_a_link() -> None:
    text = "object_id,account_id,content_id,timestamp_share\nhttps://ex.org/a,u1,p1,1623881091\n"
    (post,) = list(read_coortweet(stream(text), "c.csv"))
    assert isinstance(post, Post) and post.urls == ("https://ex.org/a",) and post.repost_of is None


def test_ira_real_slice_derives_stable_ids_and_entities() -> None:
    data = (DATA / "ira_200.csv").read_bytes()
    first = posts(list(read_ira(stream(data), "ira.csv")))
    again = posts(list(read_ira(stream(data), "ira.csv")))
    assert len(first) == 200 and [p.post_id for p in first] == [p.post_id for p in again]
    assert len({p.post_id for p in first}) == 200
    assert all(p.created_at.tzinfo is UTC for p in first)
    tagged = [p for p in first if "#" in p.text]
    assert tagged and all(p.hashtags for p in tagged)
    reposts = [p for p in first if p.repost_of]
    assert reposts and all(p.repost_of.startswith("ira-text-") for p in reposts)  # type: ignore[union-attr]


def test_ira_same_text_twice_in_one_minute_keeps_both() -> None:
    header = "external_author_id,author_id,publish_date,content,retweet,post_type\n"
    row = "99,troll,2016-10-06 12:00:00,same words,1,R\n"
    records = posts(list(read_ira(stream(header + row + row), "ira.csv")))
    assert len({p.post_id for p in records}) == 2
    assert records[0].repost_of == records[1].repost_of          # one retweeted content


def test_ira_original_date_layout() -> None:
    header = "external_author_id,author_id,publish_date,content\n"
    (post,) = posts(list(read_ira(stream(header + "99,troll,10/6/2016 9:05,hi\n"), "ira.csv")))
    assert post.created_at == datetime(2016, 10, 6, 9, 5, tzinfo=UTC)


def test_mapped_csv_from_pairs_with_unix_times() -> None:
    mapping = load_mapping(None, ["post_id=id,account_id=user", "created_at=t,text=body",
                                  "hashtags=tags"], platform="forum")
    text = "id;user;t;body;tags\n1;u1;1623881091;hello;a,b\n2;u2;1623881091000;hi;\n"
    records = posts(list(read_mapped(stream(text), "m.csv", mapping)))
    assert [p.platform for p in records] == ["forum", "forum"]
    assert records[0].hashtags == ("a", "b")
    assert records[0].created_at == records[1].created_at    # seconds and milliseconds agree


def test_mapping_file_toml(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text('platform = "telegram"\ntime_format = "iso"\n[columns]\npost_id = "msg"\n'
                    'account_id = "channel"\ncreated_at = "date"\ntext = "message"\n')
    mapping = load_mapping(path)
    text = "msg,channel,date,message\n5,news,2022-02-24T04:00:00Z,breaking\n"
    (post,) = posts(list(read_mapped(stream(text), "m.csv", mapping)))
    assert (post.platform, post.post_id, post.text) == ("telegram", "5", "breaking")


@pytest.mark.parametrize("pairs, message", [
    (["post_id=id"], "account_id, created_at"),
    (["post_id=id,account_id=u,created_at=t,colour=c"], "unknown field"),
    (["post_id"], "FIELD=COLUMN"),
])
def test_bad_mappings_say_what_to_write(pairs: list[str], message: str) -> None:
    with pytest.raises(BadMapping, match=message):
        load_mapping(None, pairs)


def test_mapped_csv_missing_mapped_column() -> None:
    mapping = load_mapping(None, ["post_id=id,account_id=user,created_at=when"])
    with pytest.raises(MissingColumns, match="when"):
        list(read_mapped(stream("id,user,time\n1,2,3\n"), "m.csv", mapping))


def test_real_ira_slice_through_read_dump() -> None:
    records = list(read_dump(DATA / "ira_200.csv"))
    assert sum(isinstance(r, Post) for r in records) == 200
    assert not [r for r in records if isinstance(r, Rejected)]
