"""Small pure parsers for the fields dumps carry: ids, times, list cells, client names."""

from __future__ import annotations

import ast
import re
from datetime import UTC, datetime, timedelta

TWITTER_EPOCH_MS = 1288834974657
# Snowflake ids began in November 2010; older sequential ids stayed below ~3e10.
SNOWFLAKE_MIN = 1 << 40
_MONTHS = {m: i for i, m in enumerate(
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"], start=1)}
_ANCHOR = re.compile(r"<a\b[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_FLOATY = re.compile(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$|^\d+\.\d+$")
MIN_TIME = datetime(2000, 1, 1, tzinfo=UTC)


class FieldError(ValueError):
    """A field value that cannot be parsed; the reader adds file, line and field name."""


def clean_id(value: object) -> str:
    """Return an id as a string, refusing the float forms that spreadsheets produce."""
    if type(value) is str and value.isdigit() and len(value) <= 128:
        return value  # the common case, checked first: ids are decimal strings
    if value is None:
        raise FieldError("missing id")
    if isinstance(value, bool):
        raise FieldError(f"id is a boolean ({value})")
    if isinstance(value, float):
        raise FieldError(f"id {value!r} is a float: its digits are lost; export ids as text")
    text = str(value).strip()
    if not text:
        raise FieldError("empty id")
    if _FLOATY.match(text):
        raise FieldError(f"id {text!r} looks like a float (a spreadsheet rounded it); "
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
    value = text.strip()
    if not value:
        raise FieldError("empty time")
    try:
        moment = datetime.fromisoformat(value)  # Python 3.11 reads a trailing Z
    except ValueError as exc:
        raise FieldError(f"time {text!r} is not ISO 8601 (expected e.g. 2011-10-19 21:45:12)") from exc
    if moment.tzinfo is not UTC:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return _check_range(moment)


def parse_v1_time(text: str) -> datetime:
    """Parse Twitter API v1.1's ``Wed Oct 19 21:45:12 +0000 2011``."""
    parts = text.split()
    try:
        _, month, day, clock, offset, year = parts
        hour, minute, second = (int(p) for p in clock.split(":"))
        sign = -1 if offset[0] == "-" else 1
        shift = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
        moment = datetime(int(year), _MONTHS[month], int(day), hour, minute, second, tzinfo=UTC)
    except (ValueError, KeyError, IndexError) as exc:
        raise FieldError(f"time {text!r} is not like 'Wed Oct 19 21:45:12 +0000 2011'") from exc
    return _check_range(moment - shift)


def parse_unix_time(value: object) -> datetime:
    """Parse Unix seconds (int, or a string of digits, optionally with a fraction)."""
    try:
        seconds = float(str(value).strip())
    except ValueError as exc:
        raise FieldError(f"time {value!r} is not Unix seconds") from exc
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise FieldError(f"time {value!r} is not a finite number")
    if not -1e11 < seconds < 1e11:
        raise FieldError(f"time {value!r} is outside 2000-2100 as Unix seconds")
    return _check_range(datetime.fromtimestamp(seconds, tz=UTC))


def exact_time(post_id: str, coarse: datetime, precision: timedelta) -> datetime:
    """Refine a coarse time with the post's snowflake time when both agree within ``precision``."""
    fine = snowflake_time(post_id)
    if fine is not None and timedelta(0) <= fine - coarse < precision:
        return fine
    return coarse


def client_name(source: str | None) -> str | None:
    """The app name in Twitter's ``source``: ``<a href=...>Twitter for iPhone</a>`` or plain text."""
    if not source:
        return None
    match = _ANCHOR.search(source)
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
            except (ValueError, SyntaxError) as exc:
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
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def parse_bool(value: object) -> bool:
    """``true``/``1``/``yes`` (any case) are true; everything else is false."""
    return str(value).strip().lower() in ("true", "1", "yes", "t", "y")


def language(value: object) -> str | None:
    """A language code; Twitter's ``und`` (undetermined) and empty values are ``None``."""
    text = str(value).strip() if value is not None else ""
    return None if text in ("", "und", "None") else text


def strip_hash(tag: str) -> str:
    return tag[1:] if tag.startswith("#") else tag
