"""Write posts back out in the ingest formats: for the simulator, tests and benchmarks.

Each writer takes posts (and what is known of their accounts) and a text file object, and writes
what the corresponding collector would: twarc2 JSONL pages, API v1.1 statuses, the
information-operations archive CSV, CooRTweet's four columns.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TextIO

import orjson

from detector.ingest.fields import TWITTER_EPOCH_MS
from detector.records import Account, Post

WRITABLE = ("twarc2", "v1", "v1-array", "ioarchive", "coortweet")
IOARCHIVE_HEADER = (
    "tweetid", "userid", "user_display_name", "user_screen_name", "user_reported_location",
    "user_profile_description", "user_profile_url", "follower_count", "following_count",
    "account_creation_date", "account_language", "tweet_language", "tweet_text", "tweet_time",
    "tweet_client_name", "in_reply_to_userid", "in_reply_to_tweetid", "quoted_tweet_tweetid",
    "is_retweet", "retweet_userid", "retweet_tweetid", "latitude", "longitude", "quote_count",
    "reply_count", "like_count", "retweet_count", "hashtags", "urls", "user_mentions",
    "poll_choices")
_V2_TYPES = (("repost_of", "retweeted"), ("quote_of", "quoted"), ("reply_to", "replied_to"))


def snowflake(moment: datetime, sequence: int = 0) -> str:
    """A Twitter-style id whose embedded time is ``moment`` (to the millisecond)."""
    ms = int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS
    return str((ms << 22) | (sequence & 0x3FFFFF))


def _source(client: str | None) -> str:
    return f'<a href="https://example.invalid/app" rel="nofollow">{client}</a>' if client else ""


def _account(post: Post, accounts: Mapping[str, Account]) -> Account:
    return accounts.get(post.account_id) or Account(post.platform, post.account_id, post.handle)


def _v2_user(account: Account) -> dict[str, Any]:
    user: dict[str, Any] = {"id": account.account_id, "username": account.handle or "",
                            "name": account.name or account.handle or ""}
    if account.created_at:
        user["created_at"] = _v2_time(account.created_at)
    user["public_metrics"] = {"followers_count": account.followers or 0,
                              "following_count": account.following or 0,
                              "tweet_count": account.posts_count or 0}
    return user


def _v2_time(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _v2_tweet(post: Post) -> dict[str, Any]:
    tweet: dict[str, Any] = {
        "id": post.post_id, "author_id": post.account_id, "text": post.text,
        "created_at": _v2_time(post.created_at),
        "source": post.client or "", "lang": post.lang or "und",
        "entities": {"urls": [{"expanded_url": u, "url": "https://t.co/x"} for u in post.urls],
                     "hashtags": [{"tag": h} for h in post.hashtags],
                     "mentions": [{"username": m} for m in post.mentions]},
    }
    refs = [{"type": kind, "id": getattr(post, field)} for field, kind in _V2_TYPES
            if getattr(post, field)]
    if refs:
        tweet["referenced_tweets"] = refs
    return tweet


def write_twarc2(posts: Iterable[Post], out: TextIO, accounts: Mapping[str, Account] = {},
                 page_size: int = 100) -> None:
    """One API v2 response page per line, ``includes.users`` holding the page's authors."""
    stream = iter(posts)
    while page := list(islice(stream, page_size)):
        users = {p.account_id: _v2_user(_account(p, accounts)) for p in page}
        body = {"data": [_v2_tweet(p) for p in page], "includes": {"users": list(users.values())},
                "meta": {"result_count": len(page)}}
        out.write(orjson.dumps(body).decode() + "\n")


def _v1_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")


def _v1_user(account: Account) -> dict[str, Any]:
    user: dict[str, Any] = {"id": int(account.account_id) if account.account_id.isdigit() else 0,
                            "id_str": account.account_id, "screen_name": account.handle or "",
                            "name": account.name or account.handle or "",
                            "followers_count": account.followers or 0,
                            "friends_count": account.following or 0,
                            "statuses_count": account.posts_count or 0}
    if account.created_at:
        user["created_at"] = _v1_time(account.created_at)
    return user


def _v1_status(post: Post, accounts: Mapping[str, Account]) -> dict[str, Any]:
    status: dict[str, Any] = {
        "created_at": _v1_time(post.created_at), "id_str": post.post_id,
        "full_text": post.text, "truncated": False, "source": _source(post.client),
        "user": _v1_user(_account(post, accounts)), "lang": post.lang or "und",
        "in_reply_to_status_id_str": post.reply_to,
        "entities": {"urls": [{"expanded_url": u, "url": "https://t.co/x"} for u in post.urls],
                     "hashtags": [{"text": h} for h in post.hashtags],
                     "user_mentions": [{"screen_name": m} for m in post.mentions]},
    }
    if post.repost_of:
        status["retweeted_status"] = {"id_str": post.repost_of}
    if post.quote_of:
        status["quoted_status_id_str"] = post.quote_of
        status["is_quote_status"] = True
    return status


def write_v1(posts: Iterable[Post], out: TextIO, accounts: Mapping[str, Account] = {},
             array: bool = False) -> None:
    """API v1.1 statuses, one per line, or (``array``) as one JSON array."""
    lines = (orjson.dumps(_v1_status(p, accounts)).decode() for p in posts)
    if not array:
        for line in lines:
            out.write(line + "\n")
        return
    out.write("[\n")
    for index, line in enumerate(lines):
        out.write((",\n" if index else "") + line)
    out.write("\n]\n")


def _py_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(repr(v) for v in values) + "]" if values else ""


def _ioarchive_row(post: Post, account: Account) -> list[str]:
    values = {
        "tweetid": post.post_id, "userid": post.account_id,
        "user_display_name": account.name or "", "user_screen_name": post.handle or "",
        "follower_count": str(account.followers or 0),
        "following_count": str(account.following or 0),
        "account_creation_date": account.created_at.strftime("%Y-%m-%d") if account.created_at else "",
        "tweet_language": post.lang or "", "tweet_text": post.text,
        "tweet_time": post.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        "tweet_client_name": post.client or "", "in_reply_to_tweetid": post.reply_to or "",
        "quoted_tweet_tweetid": post.quote_of or "",
        "is_retweet": "True" if post.repost_of else "False",
        "retweet_tweetid": post.repost_of or "", "hashtags": _py_list(post.hashtags),
        "urls": _py_list(post.urls), "user_mentions": _py_list(post.mentions),
    }
    return [values.get(column, "") for column in IOARCHIVE_HEADER]


def write_ioarchive(posts: Iterable[Post], out: TextIO,
                    accounts: Mapping[str, Account] = {}) -> None:
    """The information-operations archive layout; ``tweet_time`` to the minute, as published."""
    writer = csv.writer(out)  # "\r\n" ends rows, so a CR inside a cell gets quoted
    writer.writerow(IOARCHIVE_HEADER)
    writer.writerows(_ioarchive_row(p, _account(p, accounts)) for p in posts)


def write_coortweet(posts: Iterable[Post], out: TextIO,
                    accounts: Mapping[str, Account] = {}) -> None:
    """CooRTweet's input: reposts (or shared links) as ``object_id, account_id, content_id, ts``."""
    writer = csv.writer(out)  # "\r\n" ends rows, so a CR inside a cell gets quoted
    writer.writerow(("object_id", "account_id", "content_id", "timestamp_share"))
    for post in posts:
        shared = post.repost_of or (post.urls[0] if post.urls else None)
        if shared:
            writer.writerow((shared, post.account_id, post.post_id,
                             int(post.created_at.timestamp())))


def write_dump(fmt: str, posts: Iterable[Post], out: TextIO,
               accounts: Mapping[str, Account] = {}) -> None:
    """Write ``posts`` as ``fmt`` (one of ``WRITABLE``)."""
    writers = {"twarc2": write_twarc2, "v1": write_v1, "ioarchive": write_ioarchive,
               "coortweet": write_coortweet}
    if fmt == "v1-array":
        write_v1(posts, out, accounts, array=True)
    elif fmt in writers:
        writers[fmt](posts, out, accounts)
    else:
        raise ValueError(f"cannot write format {fmt!r}; choose one of {', '.join(WRITABLE)}")


