"""CSV layouts: the information-operations archive, CooRTweet, the IRA (FiveThirtyEight) file."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from functools import lru_cache
from typing import BinaryIO

from detector.ingest.fields import (
    FieldError,
    clean_id,
    exact_time,
    language,
    list_cell,
    optional_id,
    parse_bool,
    parse_count,
    parse_iso_time,
    parse_unix_time,
    shown,
    strip_hash,
)
from detector.ingest.tables import CellError, Row, cell, read_header, read_rows, require_columns
from detector.records import Account, Post, Record

TWITTER = "twitter"
MINUTE = timedelta(minutes=1)

IOARCHIVE_COLUMNS = ("tweetid", "userid", "tweet_time", "tweet_text")
COORTWEET_COLUMNS = ("object_id", "account_id", "content_id", "timestamp_share")
IRA_COLUMNS = ("external_author_id", "author_id", "publish_date", "content")

_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
_MENTION = re.compile(r"(?<!\w)@(\w{1,15})")
_URL = re.compile(r"https?://\S+")
_LANGUAGES = {"english": "en", "russian": "ru", "ukrainian": "uk", "german": "de",
              "bulgarian": "bg", "uzbek": "uz", "serbian": "sr", "macedonian": "mk",
              "french": "fr", "spanish": "es", "italian": "it", "arabic": "ar"}


# --- information-operations archive ------------------------------------------------------------

@lru_cache(maxsize=16384)
def _minute(text: str) -> datetime:
    """``tweet_time`` values repeat (minute precision, rows in time order): parse each once."""
    return parse_iso_time(text)


@lru_cache(maxsize=16384)
def _date_or_none(text: str) -> datetime | None:
    try:
        return parse_iso_time(text) if text.strip() else None
    except FieldError:
        return None


def _ioarchive_post(row: Row, post_id: str, account_id: str, handle: str | None) -> Post:
    column = "tweet_time"
    try:
        coarse = _minute(row.get("tweet_time", ""))
        created = exact_time(post_id, coarse, MINUTE) if coarse.second == 0 else coarse
        column = "retweet_tweetid"
        repost_of = optional_id(row.get("retweet_tweetid"))
        column = "in_reply_to_tweetid"
        reply_to = optional_id(row.get("in_reply_to_tweetid"))
        column = "quoted_tweet_tweetid"
        quote_of = optional_id(row.get("quoted_tweet_tweetid"))
        column = "urls"
        urls = list_cell(row.get("urls"))
        column = "hashtags"
        hashtags = tuple(strip_hash(t) for t in list_cell(row.get("hashtags")))
        column = "user_mentions"
        mentions = list_cell(row.get("user_mentions"))
    except FieldError as exc:
        raise CellError(column, str(exc)) from exc
    return Post(platform=TWITTER, post_id=post_id, account_id=account_id, handle=handle,
                created_at=created, text=row.get("tweet_text", ""), repost_of=repost_of,
                reply_to=reply_to, quote_of=quote_of, urls=urls, hashtags=hashtags,
                mentions=mentions, lang=language(row.get("tweet_language")),
                client=row.get("tweet_client_name") or None)


def ioarchive_record(row: Row) -> Iterator[Record]:
    """One archive row: its account, then its post. ``tweet_time`` is refined by the snowflake id."""
    post_id = str(cell(row, "tweetid", clean_id))
    account_id = str(cell(row, "userid", clean_id))
    handle = row.get("user_screen_name") or None
    post = _ioarchive_post(row, post_id, account_id, handle)
    yield Account(
        platform=TWITTER, account_id=account_id, handle=handle,
        name=row.get("user_display_name") or None,
        created_at=_date_or_none(row.get("account_creation_date", "")),
        followers=parse_count(row.get("follower_count")),
        following=parse_count(row.get("following_count")),
    )
    yield post


def read_ioarchive(stream: BinaryIO, source: str) -> Iterator[Record]:
    """Read the information-operations archive CSV (``tweetid, userid, tweet_time, ...``)."""
    require_columns(read_header(stream, source), IOARCHIVE_COLUMNS, source, "information-operations archive")
    return read_rows(stream, source, ioarchive_record)


# --- CooRTweet --------------------------------------------------------------------------------

def coortweet_record(row: Row) -> Iterator[Record]:
    """``content_id`` is the share, ``object_id`` what it shares: a URL, or else a reposted post.

    One share can name several objects (a retweet of a quote tweet appears once per object in
    CooRTweet's own data), so a row's post id is ``content_id/object_id``: every row is kept,
    as CooRTweet counts it, and reading the file again still adds nothing.
    """
    shared = str(cell(row, "object_id", clean_id))
    content = str(cell(row, "content_id", clean_id))
    is_url = shared.startswith(("http://", "https://"))
    yield Post(
        platform=TWITTER,
        post_id=f"{content}/{shared}"[:128],
        account_id=str(cell(row, "account_id", clean_id)),
        created_at=cell(row, "timestamp_share", parse_unix_time),  # type: ignore[arg-type]
        repost_of=None if is_url else shared,
        urls=(shared,) if is_url else (),
    )


def read_coortweet(stream: BinaryIO, source: str) -> Iterator[Record]:
    """Read CooRTweet's input layout: ``object_id, account_id, content_id, timestamp_share``."""
    require_columns(read_header(stream, source), COORTWEET_COLUMNS, source, "CooRTweet")
    return read_rows(stream, source, coortweet_record)


# --- IRA tweets (Linvill & Warren, FiveThirtyEight) --------------------------------------------

def _ira_time(text: str) -> datetime:
    """``2016-10-10 08:46:00`` or FiveThirtyEight's original ``10/10/2016 8:46``."""
    if "/" not in text:
        return parse_iso_time(text)
    try:
        return parse_iso_time(datetime.strptime(text.strip(), "%m/%d/%Y %H:%M").isoformat())
    except ValueError as exc:
        raise FieldError(f"time {shown(text)} is not like 10/10/2016 8:46") from exc


class IraIds:
    """Stable post ids for a file without them: a hash of author, minute, text and repeat number.

    The same account sometimes posted the same text twice in one minute; the repeat number keeps
    both, and stays the same when the same file is read again.
    """

    def __init__(self) -> None:
        self._seen: dict[bytes, int] = {}

    def __call__(self, author: str, minute: str, text: str) -> str:
        key = hashlib.blake2b(f"{author}\x1f{minute}\x1f{text}".encode(), digest_size=12).digest()
        repeat = self._seen.get(key, 0)
        self._seen[key] = repeat + 1
        return f"ira-{key.hex()}" + (f"-{repeat}" if repeat else "")


def repost_key(text: str) -> str:
    """The file names no retweeted post: identify it by its text, the best key it offers."""
    return "ira-text-" + hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def ira_converter() -> IraConverter:
    return IraConverter(IraIds())


class IraConverter:
    def __init__(self, ids: IraIds) -> None:
        self._ids = ids

    def __call__(self, row: Row) -> Iterator[Record]:
        account_id = str(cell(row, "external_author_id", clean_id))
        handle = row.get("author_id") or None
        text = row.get("content", "")
        created = cell(row, "publish_date", _ira_time)
        language = (row.get("language") or "").strip()
        reposted = parse_bool(row.get("retweet", "")) and row.get("post_type", "R") != "Q"
        yield Account(platform=TWITTER, account_id=account_id, handle=handle,
                      followers=parse_count(row.get("followers")),
                      following=parse_count(row.get("following")),
                      posts_count=parse_count(row.get("updates")))
        yield Post(
            platform=TWITTER,
            post_id=self._ids(account_id, row.get("publish_date", ""), text),
            account_id=account_id, handle=handle,
            created_at=created,  # type: ignore[arg-type]
            text=text,
            repost_of=repost_key(text) if reposted else None,
            urls=tuple(_URL.findall(text)),
            hashtags=tuple(_HASHTAG.findall(text)),
            mentions=tuple(_MENTION.findall(text)),
            lang=_LANGUAGES.get(language.lower(), language or None),
        )


def read_ira(stream: BinaryIO, source: str) -> Iterator[Record]:
    """Read the IRA tweets CSV (``author_id, external_author_id, publish_date, content, ...``).

    It has no tweet ids, retweet targets or entities: ids are derived (see ``IraIds``), a retweet
    (``retweet`` = 1, ``post_type`` R) points at a key made from its text (``repost_key``), and
    hashtags, mentions and links are taken from the text.
    """
    require_columns(read_header(stream, source), IRA_COLUMNS, source, "IRA tweets")
    return read_rows(stream, source, ira_converter())
