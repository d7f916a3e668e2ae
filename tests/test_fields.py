from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from detector.dumps import snowflake
from detector.ingest.fields import (
    FieldError,
    clean_id,
    client_name,
    exact_time,
    list_cell,
    optional_id,
    parse_iso_time,
    parse_unix_time,
    parse_v1_time,
    snowflake_time,
)


@pytest.mark.parametrize("value, expected", [
    ("123", "123"),
    (123, "123"),                      # JSON numbers are fine when they are ints
    (" 42 ", "42"),
    ("a1b2c3", "a1b2c3"),              # hashed ids of anonymized archives
])
def test_clean_id_keeps_strings(value: object, expected: str) -> None:
    assert clean_id(value) == expected


@pytest.mark.parametrize("value", [
    "1.23457E+18",   # Excel's rendering of a tweet id
    "1234.0",        # pandas' float column
    1.2e18,
    "",
    None,
    True,
    "x" * 129,
])
def test_clean_id_refuses_floats_and_empties(value: object) -> None:
    with pytest.raises(FieldError):
        clean_id(value)


@pytest.mark.parametrize("value", ["", "0", None, "None", "nan"])
def test_optional_id_absent(value: object) -> None:
    assert optional_id(value) is None


def test_snowflake_time_matches_twitter_epoch() -> None:
    # 1288834974657 ms is the epoch: id 0 << 22 is that instant
    assert snowflake_time(str(1 << 41)) == datetime.fromtimestamp(
        ((1 << 41 >> 22) + 1288834974657) / 1000, tz=UTC)
    assert snowflake_time("126929298") is None          # a 2010 sequential id
    assert snowflake_time("abc") is None


@given(st.datetimes(min_value=datetime(2011, 1, 1), max_value=datetime(2030, 1, 1)),
       st.integers(0, 4095))
def test_snowflake_round_trip_to_the_millisecond(moment: datetime, sequence: int) -> None:
    aware = moment.replace(tzinfo=UTC)
    decoded = snowflake_time(snowflake(aware, sequence))
    assert decoded is not None
    assert abs(decoded - aware) < timedelta(milliseconds=1)


def test_exact_time_refines_minutes_only_when_consistent() -> None:
    fine = datetime(2016, 10, 19, 21, 45, 12, 345000, tzinfo=UTC)
    minute = fine.replace(second=0, microsecond=0)
    post_id = snowflake(fine)
    assert exact_time(post_id, minute, timedelta(minutes=1)) == snowflake_time(post_id)
    other_minute = minute + timedelta(minutes=5)   # anonymized or wrong id: keep what was given
    assert exact_time(post_id, other_minute, timedelta(minutes=1)) == other_minute


@pytest.mark.parametrize("text, expected", [
    ("2011-10-19T21:45:12.000Z", datetime(2011, 10, 19, 21, 45, 12, tzinfo=UTC)),
    ("2011-10-19 21:45", datetime(2011, 10, 19, 21, 45, tzinfo=UTC)),
    ("2011-10-19T23:45:12+02:00", datetime(2011, 10, 19, 21, 45, 12, tzinfo=UTC)),
])
def test_parse_iso_time(text: str, expected: datetime) -> None:
    assert parse_iso_time(text) == expected


@pytest.mark.parametrize("text", ["", "yesterday", "1970-01-01 00:00", "2101-01-01 00:00"])
def test_parse_iso_time_refuses(text: str) -> None:
    with pytest.raises(FieldError):
        parse_iso_time(text)


def test_parse_v1_time_with_offset() -> None:
    assert parse_v1_time("Wed Oct 19 21:45:12 +0000 2011") == datetime(
        2011, 10, 19, 21, 45, 12, tzinfo=UTC)
    assert parse_v1_time("Wed Oct 19 23:45:12 +0200 2011") == datetime(
        2011, 10, 19, 21, 45, 12, tzinfo=UTC)
    with pytest.raises(FieldError):
        parse_v1_time("Oct 19 2011")


@pytest.mark.parametrize("value", ["abc", "nan", "inf", "-5", "99999999999999"])
def test_parse_unix_time_refuses(value: str) -> None:
    with pytest.raises(FieldError):
        parse_unix_time(value)


@pytest.mark.parametrize("cell, expected", [
    ("['a', 'b']", ("a", "b")),
    ("[a, b]", ("a", "b")),
    ("a,b", ("a", "b")),
    ("", ()),
    ("[]", ()),
    ("['https://x.org/?q=a,b']", ("https://x.org/?q=a,b",)),   # a comma inside a quoted item
])
def test_list_cell(cell: str, expected: tuple[str, ...]) -> None:
    assert list_cell(cell) == expected


@given(st.lists(st.text(min_size=1).filter(lambda s: s.strip() == s), max_size=5))
@example(["it's", 'say "hi"'])
def test_list_cell_reads_python_reprs(items: list[str]) -> None:
    assert list_cell(repr(items)) == tuple(items)


@pytest.mark.parametrize("source, expected", [
    ('<a href="http://twitter.com/download/iphone" rel="nofollow">Twitter for iPhone</a>',
     "Twitter for iPhone"),
    ("web", "web"),
    ("", None),
    (None, None),
])
def test_client_name(source: str | None, expected: str | None) -> None:
    assert client_name(source) == expected
