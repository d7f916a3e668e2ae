"""Twitter readers: twarc2 JSONL (API v2 pages or flattened tweets) and API v1.1 statuses."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import orjson

from detector.ingest.fields import (
    FieldError,
    clean_id,
    client_name,
    language,
    optional_id,
    parse_count,
    parse_iso_time,
    parse_v1_time,
    strip_hash,
    unstorable,
)
from detector.ingest.jsonlines import BadJson, json_array, json_lines
from detector.records import Account, Post, Record, Rejected

PLATFORM = "twitter"
_V2_REFERENCE = {"retweeted": "repost_of", "replied_to": "reply_to", "quoted": "quote_of"}


class RecordError(ValueError):
    """A record-level problem with the field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _need(obj: Mapping[str, Any], key: str) -> Any:
    value = obj.get(key)
    if value is None or value == "":
        raise RecordError(key, "missing")
    return value


def _field(key: str, parse: Any, value: Any) -> Any:
    try:
        return parse(value)
    except FieldError as exc:
        raise RecordError(key, str(exc)) from exc


def _object(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else empty: hostile dumps put lists or numbers anywhere."""
    return value if isinstance(value, dict) else {}


def _array(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(value: Any) -> str | None:
    """A handle or display name: a string (or a number, as text); anything else is absent."""
    if isinstance(value, str):
        return value or None
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _texts(items: Any, key: str) -> tuple[str, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(str(i[key]) for i in items if isinstance(i, dict) and i.get(key))


# --- API v2 (twarc2) -------------------------------------------------------------------------

def v2_account(user: Mapping[str, Any]) -> Account:
    metrics = _object(user.get("public_metrics"))
    created = user.get("created_at")
    return Account(
        platform=PLATFORM,
        account_id=_field("id", clean_id, user.get("id")),
        handle=_name(user.get("username")),
        name=_name(user.get("name")),
        created_at=_field("created_at", parse_iso_time, created) if created else None,
        followers=parse_count(metrics.get("followers_count")),
        following=parse_count(metrics.get("following_count")),
        posts_count=parse_count(metrics.get("tweet_count")),
    )


def v2_post(tweet: Mapping[str, Any], handles: Mapping[str, str]) -> Post:
    if not isinstance(tweet, dict):
        raise RecordError("data", "a tweet must be a JSON object")
    post_id = _field("id", clean_id, _need(tweet, "id"))
    author = _field("author_id", clean_id, _need(tweet, "author_id"))
    refs: dict[str, str] = {}
    for ref in _array(tweet.get("referenced_tweets")):
        kind = _V2_REFERENCE.get(str(ref.get("type"))) if isinstance(ref, dict) else None
        if kind:
            refs[kind] = _field("referenced_tweets.id", clean_id, ref.get("id"))
    entities = _object(tweet.get("entities"))
    text = tweet.get("text")
    if not isinstance(text, str):
        raise RecordError("text", "missing or not a string")
    embedded = tweet.get("author")
    handle = _name(embedded.get("username")) if isinstance(embedded, dict) else handles.get(author)
    created = _field("created_at", parse_iso_time, _need(tweet, "created_at"))
    # positional, in Post's field order (keywords cost 1.6 us more per post, in the reader that
    # paces an ingest); tests/test_formats_agree.py reads every field back from each format
    return Post(PLATFORM, post_id, author, created, text, handle,
                refs.get("repost_of"), refs.get("reply_to"), refs.get("quote_of"),
                _texts(entities.get("urls"), "expanded_url"),
                tuple(strip_hash(t) for t in _texts(entities.get("hashtags"), "tag")),
                _texts(entities.get("mentions"), "username"),
                language(tweet.get("lang")), client_name(tweet.get("source")))


class _SeenUsers:
    """Users already read unchanged: twarc2 repeats each author on every page they appear in.

    Bounded, so memory stays flat on dumps with millions of accounts.
    """

    LIMIT = 200_000

    def __init__(self) -> None:
        self._seen: dict[str, bytes] = {}

    def is_new(self, user: Mapping[str, Any]) -> bool:
        raw = orjson.dumps(user, option=orjson.OPT_SORT_KEYS)
        key = str(user.get("id"))  # str: a hostile id may be a list, which cannot be a key
        if self._seen.get(key) == raw:
            return False
        if len(self._seen) >= self.LIMIT:
            self._seen.clear()
        self._seen[key] = raw
        return True


def _v2_page(page: Mapping[str, Any], seen: _SeenUsers) -> Iterator[Post | Account | RecordError]:
    includes = _object(page.get("includes"))
    users = [u for u in _array(includes.get("users")) if isinstance(u, dict)]
    handles = {str(u.get("id")): str(u["username"]) for u in users if u.get("username")}
    for user in users:
        if not seen.is_new(user):
            continue
        try:
            yield v2_account(user)
        except RecordError as exc:
            yield RecordError(f"includes.users.{exc.field}", str(exc))
    data = page["data"]
    for tweet in data if isinstance(data, list) else [data]:
        try:
            yield v2_post(tweet, handles)
        except RecordError as exc:
            yield RecordError(f"data.{exc.field}", str(exc))


def _v2_flat(tweet: Mapping[str, Any]) -> Iterator[Post | Account | RecordError]:
    author = tweet.get("author")
    if isinstance(author, dict):
        try:
            yield v2_account(author)
        except RecordError as exc:
            yield RecordError(f"author.{exc.field}", str(exc))
    try:
        yield v2_post(tweet, {})
    except RecordError as exc:
        yield exc


def read_twarc2(stream: BinaryIO, source: str) -> Iterator[Record]:
    """Read twarc2 JSONL: one API v2 response page per line, or one flattened tweet per line."""
    seen = _SeenUsers()
    for line, obj in json_lines(stream, source):
        if isinstance(obj, BadJson):
            yield Rejected(source, line, "(json)", str(obj))
            continue
        if not isinstance(obj, dict) or ("data" not in obj and "author_id" not in obj):
            yield Rejected(source, line, "data", "expected an API v2 page with 'data' or a tweet")
            continue
        items = _v2_page(obj, seen) if "data" in obj else _v2_flat(obj)
        for item in items:
            if isinstance(item, RecordError):
                yield Rejected(source, line, item.field, str(item))
                continue
            problem = unstorable(item)
            yield Rejected(source, line, *problem) if problem else item


# --- API v1.1 --------------------------------------------------------------------------------

def v1_account(user: Mapping[str, Any]) -> Account:
    created = user.get("created_at")
    return Account(
        platform=PLATFORM,
        account_id=_field("user.id_str", clean_id, user.get("id_str") or user.get("id")),
        handle=_name(user.get("screen_name")),
        name=_name(user.get("name")),
        created_at=_field("user.created_at", parse_v1_time, created) if created else None,
        followers=parse_count(user.get("followers_count")),
        following=parse_count(user.get("friends_count")),
        posts_count=parse_count(user.get("statuses_count")),
    )


def _v1_text(status: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    extended = status.get("extended_tweet")
    if isinstance(extended, dict) and isinstance(extended.get("full_text"), str):
        return extended["full_text"], _object(extended.get("entities") or status.get("entities"))
    text = status.get("full_text", status.get("text"))
    if not isinstance(text, str):
        raise RecordError("full_text", "missing: expected 'full_text' or 'text'")
    return text, _object(status.get("entities"))


def _nested_id(status: Mapping[str, Any], key: str) -> str | None:
    nested = status.get(key)
    if isinstance(nested, dict):
        found: str | None = _field(f"{key}.id_str", optional_id,
                                   nested.get("id_str") or nested.get("id"))
        return found
    return None


class _V1Users:
    """The last ``Account`` read per user: v1.1 embeds the author in every status, and most
    repeats are identical. Keyed by the fields that change; bounded."""

    LIMIT = 200_000

    def __init__(self) -> None:
        self._cache: dict[tuple[object, ...], Account] = {}

    def account(self, user: Mapping[str, Any]) -> Account:
        key = (user.get("id_str"), user.get("id"), user.get("screen_name"), user.get("name"),
               user.get("created_at"), user.get("followers_count"), user.get("friends_count"),
               user.get("statuses_count"))
        try:
            found = self._cache.get(key)
        except TypeError:  # a list or object where a value belongs: not cacheable, still read
            return v1_account(user)
        if found is None:
            found = v1_account(user)
            if len(self._cache) >= self.LIMIT:
                self._cache.clear()
            self._cache[key] = found
        return found


def v1_post(status: Mapping[str, Any], users: _V1Users | None = None) -> tuple[Post, Account]:
    if "id_str" not in status and "id" not in status:
        raise RecordError("id_str", "missing")
    post_id = _field("id_str", clean_id, status.get("id_str") or status.get("id"))
    user = status.get("user")
    if not isinstance(user, dict):
        raise RecordError("user", "missing: every status needs its 'user' object")
    account = users.account(user) if users is not None else v1_account(user)
    text, entities = _v1_text(status)
    quote = _nested_id(status, "quoted_status") or _field(
        "quoted_status_id_str", optional_id, status.get("quoted_status_id_str"))
    post = Post(
        platform=PLATFORM,
        post_id=post_id,
        account_id=account.account_id,
        handle=account.handle,
        created_at=_field("created_at", parse_v1_time, _need(status, "created_at")),
        text=text,
        repost_of=_nested_id(status, "retweeted_status"),
        reply_to=_field("in_reply_to_status_id_str", optional_id,
                        status.get("in_reply_to_status_id_str")),
        quote_of=quote,
        urls=_texts(entities.get("urls"), "expanded_url"),
        hashtags=_texts(entities.get("hashtags"), "text"),
        mentions=_texts(entities.get("user_mentions"), "screen_name"),
        lang=language(status.get("lang")),
        client=client_name(status.get("source")),
    )
    return post, account


def _v1_records(elements: Iterator[tuple[int, Any]], source: str) -> Iterator[Record]:
    users = _V1Users()
    for line, obj in elements:
        if isinstance(obj, BadJson):
            yield Rejected(source, line, "(json)", str(obj))
            continue
        if not isinstance(obj, dict):
            yield Rejected(source, line, "(json)", "expected a status object")
            continue
        try:
            post, account = v1_post(obj, users)
        except RecordError as exc:
            yield Rejected(source, line, exc.field, str(exc))
            continue
        problem = unstorable(account) or unstorable(post)
        if problem:
            yield Rejected(source, line, *problem)
            continue
        yield account
        yield post


def read_v1(stream: BinaryIO, source: str) -> Iterator[Record]:
    """Read API v1.1 statuses, as JSON Lines or as one JSON array."""
    head = stream.peek(64).lstrip(b"\xef\xbb\xbf \t\r\n")  # type: ignore[attr-defined]
    elements = json_array(stream, source) if head.startswith(b"[") else json_lines(stream, source)
    return _v1_records(elements, source)
