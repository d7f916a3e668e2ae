"""Small pure parsers for the fields dumps carry: ids, times, list cells, client names."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta

from detector.records import Account, Post

TWITTER_EPOCH_MS = 1288834974657
# Snowflake ids began in November 2010; older sequential ids stayed below ~3e10.
SNOWFLAKE_MIN = 1 << 40
_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}
_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_FLOATY = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$|^\d+\.\d+$")
MIN_TIME = datetime(2000, 1, 1, tzinfo=UTC)
MAX_LANGUAGE = 32
"""Longest language code kept (BCP 47 tags are far shorter; the store's column holds 32)."""
MAX_NAME = 255
"""Longest handle or posting-app name a record may carry (the store's columns hold 255)."""
MAX_SOURCE = 2048
"""How much of Twitter's ``source`` is searched for the app name's anchor."""
MAX_COUNT = (1 << 63) - 1
"""Largest follower or post count kept (a 64-bit column); a larger one is unknown."""


class FieldError(ValueError):
    """A field value that cannot be parsed; the reader adds file, line and field name."""


def shown(value: object, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters: a hostile 10 MB cell stays out of messages."""
    text = repr(value) if not isinstance(value, str) or len(value) <= limit else repr(value[:limit])
    return text if len(text) <= limit else text[:limit - 3] + "..."


def clean_id(value: object) -> str:
    """Return an id as a string, refusing the float forms that spreadsheets produce."""
    if type(value) is str and value.isdigit() and len(value) <= 128:
        return value  # the common case, checked first: ids are decimal strings
    if value is None:
        raise FieldError("missing id")
    if isinstance(value, bool):
        raise FieldError(f"id is a boolean ({value})")
    if isinstance(value, float):
        raise FieldError(f"id {shown(value)} is a float: its digits are lost; export ids as text")
    if isinstance(value, int) and value < 0:
        raise FieldError(f"id {value} is negative")
    if isinstance(value, dict | list):
        raise FieldError(f"id is a JSON {'object' if isinstance(value, dict) else 'array'}, "
                         "not a string or number")
    text = str(value).strip()
    if not text:
        raise FieldError("empty id")
    if _FLOATY.match(text):
        raise FieldError(f"id {shown(text)} looks like a float (a spreadsheet rounded it); "
                         "export ids as text")
    if len(text) > 128:
        raise FieldError(f"id is {len(text)} characters long; at most 128 are accepted")
    return text


def optional_id(value: object) -> str | None:
    """Like ``clean_id`` but empty cells, ``None`` and ``"0"`` mean absent."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "0", "None", "nan")):
        return None
    return clean_id(value)


def snowflake_time(post_id: str) -> datetime | None:
    """The creation time encoded in a Twitter snowflake id, or ``None`` for older ids."""
    if not post_id.isdigit() or len(post_id) > 20:
        return None
    number = int(post_id)
    if number < SNOWFLAKE_MIN or number >= 1 << 63:
        return None
    return datetime.fromtimestamp(((number >> 22) + TWITTER_EPOCH_MS) / 1000, tz=UTC)


def _check_range(moment: datetime) -> datetime:
    if not 2000 <= moment.year <= 2100:
        raise FieldError(f"time {moment.isoformat()} is outside 2000-2100")
    return moment


def parse_iso_time(text: str) -> datetime:
    """Parse ``2011-10-19T21:45:12.000Z``, ``2011-10-19 21:45[:12]`` (UTC when no offset)."""
    if not isinstance(text, str):
        raise FieldError(f"time {shown(text)} is not a string like 2011-10-19T21:45:12Z")
    value = text.strip()
    if not value:
        raise FieldError("empty time")
    try:
        moment = datetime.fromisoformat(value)  # Python 3.11 reads a trailing Z
    except ValueError as exc:
        raise FieldError(f"time {shown(text)} is not ISO 8601 (expected e.g. 2011-10-19 21:45:12)") from exc
    if moment.tzinfo is not UTC:
        try:
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        except OverflowError as exc:  # year 1 or 9999 shifted past the calendar's ends
            raise FieldError(f"time {shown(text)} is outside 2000-2100") from exc
    return _check_range(moment)


def parse_v1_time(text: str) -> datetime:
    """Parse Twitter API v1.1's ``Wed Oct 19 21:45:12 +0000 2011``."""
    if not isinstance(text, str):
        raise FieldError(f"time {shown(text)} is not a string like 'Wed Oct 19 21:45:12 +0000 2011'")
    parts = text.split()
    try:
        _, month, day, clock, offset, year = parts
        hour, minute, second = (int(p) for p in clock.split(":"))
        sign = -1 if offset[0] == "-" else 1
        shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
        moment = datetime(int(year), _MONTHS[month], int(day), hour, minute, second, tzinfo=UTC)
    except (ValueError, KeyError, IndexError) as exc:
        raise FieldError(f"time {shown(text)} is not like 'Wed Oct 19 21:45:12 +0000 2011'") from exc
    try:
        return _check_range(moment - shift)
    except OverflowError as exc:
        raise FieldError(f"time {shown(text)} is outside 2000-2100") from exc


def parse_unix_time(value: object) -> datetime:
    """Parse Unix seconds (int, or a string of digits, optionally with a fraction)."""
    try:
        seconds = float(str(value).strip())
    except ValueError as exc:
        raise FieldError(f"time {shown(value)} is not Unix seconds") from exc
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise FieldError(f"time {shown(value)} is not a finite number")
    if not 0 <= seconds < 1e11:
        raise FieldError(f"time {shown(value)} is outside 2000-2100 as Unix seconds")
    return _check_range(datetime.fromtimestamp(seconds, tz=UTC))


def exact_time(post_id: str, coarse: datetime, precision: timedelta) -> datetime:
    """Refine a coarse time with the post's snowflake time when both agree within ``precision``."""
    fine = snowflake_time(post_id)
    if fine is not None and timedelta(0) <= fine - coarse < precision:
        return fine
    return coarse


def client_name(source: str | None) -> str | None:
    """The app name in Twitter's ``source``: ``<a href=...>Twitter for iPhone</a>`` or plain text."""
    if not source or not isinstance(source, str):
        return None
    # the anchor search is quadratic on hostile text ('<a>' * 40,000 took 74 s); real sources
    # are under 300 characters
    match = _ANCHOR.search(source[:MAX_SOURCE])
    name = (match.group(1) if match else source).strip()
    return name or None


_QUOTED = re.compile(r"'([^'\\]*)'|\"([^\"\\]*)\"")
_LIST_GLUE = re.compile(r"[\[\],\s]*")


def _simple_list(text: str) -> tuple[str, ...] | None:
    """``['a', "b"]`` without escapes, 20x faster than ``ast.literal_eval``; else ``None``."""
    if "\\" in text:
        return None
    if text[:2] == "['" and text[-2:] == "']":  # the archive's usual ['a', 'b']
        parts = text[2:-2].split("', '")
        if not any("'" in p for p in parts):
            return tuple(v for p in parts if (v := p.strip()))
    items = _QUOTED.findall(text)
    if not _LIST_GLUE.fullmatch(_QUOTED.sub("", text)):
        return None
    return tuple(v for a, b in items if (v := (a or b).strip()))


def list_cell(cell: str | None) -> tuple[str, ...]:
    """Parse a list cell: ``['a', 'b']``, ``[a, b]``, ``a,b`` or empty."""
    if cell is None:
        return ()
    text = cell.strip()
    if text in ("", "[]", "None", "nan"):
        return ()
    if text.startswith("[") != text.endswith("]"):
        raise FieldError(f"list {cell[:60]!r} has unbalanced brackets")
    if text.startswith("["):
        if "'" in text or '"' in text:
            simple = _simple_list(text)
            if simple is not None:
                return simple
            try:
                parsed = ast.literal_eval(text)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
                # TypeError: an unhashable key such as {[]: 1}; the others: nesting too deep
                raise FieldError(f"list {cell[:60]!r} is not a Python list literal") from exc
            if isinstance(parsed, list):
                return tuple(str(v).strip() for v in parsed if str(v).strip())
        text = text[1:-1]
    return tuple(p.strip().strip("'\"") for p in text.split(",") if p.strip().strip("'\""))


def parse_count(value: object) -> int | None:
    """A non-negative count, or ``None`` when absent or unreadable."""
    if value is None or value == "":
        return None
    try:
        number = int(float(value)) if isinstance(value, str) and "." in value else int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError, OverflowError):  # OverflowError: 1e400, Infinity
        return None
    return number if 0 <= number <= MAX_COUNT else None


def parse_bool(value: object) -> bool:
    """``true``/``1``/``yes`` (any case) are true; everything else is false."""
    return str(value).strip().lower() in ("true", "1", "yes", "t", "y")


def language(value: object) -> str | None:
    """A language code; Twitter's ``und`` (undetermined), empty values, and what cannot be a
    code (not a string, longer than ``MAX_LANGUAGE`` characters) are ``None``."""
    text = str(value).strip() if isinstance(value, str | int) else ""
    return None if text in ("", "und", "None") or len(text) > MAX_LANGUAGE else text


def _nul(values: dict[str, object]) -> tuple[str, str] | None:
    for name, value in values.items():
        texts = value if isinstance(value, tuple) else (value,)
        if any(isinstance(t, str) and "\x00" in t for t in texts):
            return name, "contains a NUL character (0x00), which the database cannot store"
    return None


def unstorable(record: Post | Account) -> tuple[str, str] | None:
    """``(field, problem)`` when a parsed record holds what no store can keep, else ``None``.

    Readers reject such a record by line, as any other bad field, instead of letting the
    database refuse a whole batch (PostgreSQL refuses NUL characters and over-long names).
    """
    if record.handle is not None and len(record.handle) > MAX_NAME:
        return "handle", f"is {len(record.handle)} characters long; at most {MAX_NAME} are accepted"
    if isinstance(record, Account):
        if "\x00" not in "".join((record.account_id, record.handle or "", record.name or "")):
            return None
        values: dict[str, object] = {"account_id": record.account_id, "handle": record.handle,
                                     "name": record.name}
    else:
        if record.client is not None and len(record.client) > MAX_NAME:
            return "client", f"is {len(record.client)} characters long; at most {MAX_NAME} are accepted"
        # one scan of everything first: this runs for every post, and NUL is rare
        if "\x00" not in "".join((record.post_id, record.account_id, record.text,
                                   record.handle or "", record.repost_of or "",
                                   record.reply_to or "", record.quote_of or "", record.lang or "",
                                   record.client or "", *record.urls, *record.hashtags,
                                   *record.mentions)):
            return None
        values = {"post_id": record.post_id, "account_id": record.account_id, "text": record.text,
                  "handle": record.handle, "repost_of": record.repost_of, "reply_to": record.reply_to,
                  "quote_of": record.quote_of, "urls": record.urls, "hashtags": record.hashtags,
                  "mentions": record.mentions, "lang": record.lang, "client": record.client}
    return _nul(values)


def strip_hash(tag: str) -> str:
    return tag[1:] if tag.startswith("#") else tag
