"""Hostile dumps (issue 7): every reader gives records and rejections, or a named error; never a
crash, a hang or unbounded memory, and a bad file changes nothing already stored.

Property tests (Hypothesis, derandomized so CI is deterministic) and a hand-made case for every
item of the issue. ``bench/fuzz_readers.py`` runs the same checks at volume.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from detector.errors import CibError, CorruptDump, UnknownDumpFormat
from detector.ingest import ColumnMapping, jsonlines, read_dump, tables
from detector.ingest.fields import FieldError, clean_id, list_cell, parse_count, parse_iso_time
from detector.load import IngestOptions, ingest_file
from detector.records import Account, Post, Record, Rejected
from detector.store.reader import dataset_digest

PROPERTY = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow])
SECONDS = 10.0
"""Time bound for reading one small hostile file with one reader (they take milliseconds)."""

# --- seeds: one small, good dump per format ------------------------------------------------------

USER = {"id": "2244994945", "username": "dev", "name": "Dev",
        "public_metrics": {"followers_count": 5, "following_count": 1, "tweet_count": 9}}


def tweet(i: int = 0, **fields: object) -> dict[str, object]:
    return {"id": str(1460323737035677698 + i), "author_id": "2244994945", "text": f"hello {i}",
            "created_at": "2021-11-15T19:08:05.000Z", "lang": "en", **fields}


def status(i: int = 0, **fields: object) -> dict[str, object]:
    return {"id_str": str(850006245121695744 + i), "created_at": "Thu Apr 06 15:24:15 +0000 2017",
            "text": f"status {i}", "user": {"id_str": "6253282", "screen_name": "api"}, **fields}


def jsonl(*objects: object) -> bytes:
    return b"".join(json.dumps(o).encode() + b"\n" for o in objects)


MAPPING = ColumnMapping({"post_id": "id", "account_id": "user", "created_at": "date", "text": "body"})
SEEDS: dict[str, bytes] = {
    "twarc2": jsonl({"data": [tweet(0), tweet(1)], "includes": {"users": [USER]}}),
    "flat": jsonl({**tweet(2), "author": USER}),
    "v1": jsonl(status(0), status(1)),
    "v1-array": json.dumps([status(0), status(1)]).encode(),
    "ioarchive": b"tweetid,userid,user_screen_name,tweet_time,tweet_text,hashtags\n"
                 b"1460323737035677698,42,bob,2021-11-15 19:08,hello,['x']\n",
    "coortweet": b"object_id,account_id,content_id,timestamp_share\n123,42,456,1600000000\n",
    "ira": b"external_author_id,author_id,publish_date,content,retweet\n42,bob,10/10/2016 8:46,hi,0\n",
    "mapped": b"id;user;date;body\n1;2;2021-01-01 10:00;hi\n",
}
READERS: list[tuple[str | None, ColumnMapping | None]] = [
    (None, None), ("twarc2", None), ("v1", None), ("ioarchive", None), ("coortweet", None),
    ("ira", None), ("csv", MAPPING)]
READER_IDS = ["sniffed", "twarc2", "v1", "ioarchive", "coortweet", "ira", "mapped"]
HOSTILE_TEXT = [
    "=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", "+1-2", "a\x00b", "\x01\x07\x1b[31m\x7f",
    "\u202eevil\u202c", "\u200f\u2067x\u2069", "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "\U0001f3f3\ufe0f\u200d\U0001f308", "\r", "\ufeff", "", " ", "nan", "[", "['a', {[]: 1}]",
    "1970-01-01T00:00:00Z", "2100-12-31T23:59:59Z", "2101-01-01 00:00", "0001-01-01T00:00:00+05:00",
    "Thu Jan 01 00:00:00 +0000 1970", "-1", "123456789012345678901234567890", "1.23E+18",
]


# --- the property every reader keeps ----------------------------------------------------------

def read_or_error(path: Path, fmt: str | None = None,
                  mapping: ColumnMapping | None = None) -> list[Record] | CibError:
    """All records, or the ``CibError`` raised; any other exception fails the test."""
    started = time.monotonic()
    try:
        result: list[Record] | CibError = list(read_dump(path, fmt, mapping))
    except CibError as exc:
        assert path.name.removesuffix(".gz") in str(exc), f"the error does not name the file: {exc}"
        result = exc
    assert time.monotonic() - started < SECONDS, "reading took too long"
    if not isinstance(result, CibError):
        for record in result:
            if isinstance(record, Rejected):
                assert record.source.startswith(path.name.removesuffix(".gz")) and record.line >= 1
                assert record.field and record.message
            else:
                assert "\x00" not in repr(record), "a NUL reached a record"
    return result


def every_reader(path: Path) -> dict[str, list[Record] | CibError]:
    return {name: read_or_error(path, fmt, mapping)
            for name, (fmt, mapping) in zip(READER_IDS, READERS, strict=True)}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def zipped(data: bytes, name: str = "dump.jsonl") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


@PROPERTY
@given(data=st.binary(max_size=3000))
def test_random_bytes_every_reader(workdir: Path, data: bytes) -> None:
    every_reader(write(workdir, "random.bin", data))


@PROPERTY
@given(seed=st.sampled_from(sorted(SEEDS)), cut=st.floats(0, 1), flips=st.lists(
    st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6),
    insert=st.sampled_from(HOSTILE_TEXT), wrap=st.sampled_from(["", ".gz", ".zip"]))
def test_mutated_seeds_every_reader(workdir: Path, seed: str, cut: float,
                                    flips: list[tuple[float, int]], insert: str, wrap: str) -> None:
    data = bytearray(SEEDS[seed])
    for where, value in flips:
        data[int(where * (len(data) - 1))] = value
    at = int(cut * len(data))
    mutated = bytes(data[:at]) + insert.encode() + bytes(data[at:])
    packed = {"": mutated, ".gz": gzipped(mutated), ".zip": zipped(mutated)}[wrap]
    if wrap and cut < 0.5:  # damage the container too
        packed = packed[: int(len(packed) * (0.5 + cut))]
    every_reader(write(workdir, f"{seed}.txt{wrap}", packed))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10 ** 30), 10 ** 30) | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from(HOSTILE_TEXT),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8)
TWEET_FIELDS = ["id", "author_id", "text", "created_at", "lang", "source", "entities",
                "referenced_tweets", "author", "public_metrics"]
STATUS_FIELDS = ["id_str", "id", "user", "created_at", "text", "full_text", "extended_tweet",
                 "entities", "retweeted_status", "quoted_status", "source", "lang",
                 "in_reply_to_status_id_str"]


def _replace(obj: dict[str, object], path: list[str], value: object) -> dict[str, object]:
    head, *rest = path
    inner = obj.get(head)
    return {**obj, head: _replace(inner, rest, value) if rest and isinstance(inner, dict) else value}


@PROPERTY
@given(field=st.sampled_from([*TWEET_FIELDS, "includes", "includes.users", "data"]),
       user_field=st.sampled_from(["id", "username", "name", "created_at", "public_metrics"]),
       value=JSON_VALUES)
def test_hostile_json_values_twarc2(workdir: Path, field: str, user_field: str, value: object) -> None:
    page: dict[str, object] = {"data": [tweet(0)], "includes": {"users": [USER]}}
    if field == "includes.users":
        page = {**page, "includes": {"users": [{**USER, user_field: value}]}}
    elif field in ("includes", "data"):
        page = {**page, field: value}
    else:
        page = {**page, "data": [tweet(0, **{field: value})]}
    path = write(workdir, "page.jsonl", jsonl(page, {**tweet(1, **{field: value}), "author": USER}))
    result = read_or_error(path, "twarc2")
    assert not isinstance(result, CibError)


@PROPERTY
@given(field=st.sampled_from([*STATUS_FIELDS, "user.id_str", "user.screen_name",
                                              "user.followers_count", "user.created_at"]),
       value=JSON_VALUES, array=st.booleans())
def test_hostile_json_values_v1(workdir: Path, field: str, value: object, array: bool) -> None:
    hostile = _replace(status(0), field.split("."), value)
    data = json.dumps([hostile, status(1)]).encode() if array else jsonl(hostile, status(1))
    result = read_or_error(write(workdir, "statuses.json", data), "v1")
    assert not isinstance(result, CibError)
    assert any(isinstance(r, Post) for r in result), "the good status after it was lost"


CSV_CELLS = st.text(st.characters(blacklist_categories=["Cs"]), max_size=40) | st.sampled_from(HOSTILE_TEXT)


@PROPERTY
@given(seed=st.sampled_from(["ioarchive", "coortweet", "ira", "mapped"]), column=st.integers(0, 9),
       cell=CSV_CELLS, quoted=st.booleans())
def test_hostile_csv_cells(workdir: Path, seed: str, column: int, cell: str, quoted: bool) -> None:
    header, row = SEEDS[seed].decode().splitlines()
    delimiter = ";" if seed == "mapped" else ","
    cells = row.split(delimiter)
    cells[column % len(cells)] = '"' + cell.replace('"', '""') + '"' if quoted else cell
    data = f"{header}\n{delimiter.join(cells)}\n{row}\n".encode()
    fmt, mapping = ("csv", MAPPING) if seed == "mapped" else (seed, None)
    result = read_or_error(write(workdir, f"{seed}.csv", data), fmt, mapping)
    assert not isinstance(result, CibError)
    assert any(isinstance(r, Post) for r in result), "the good row after it was lost"


# --- hand-made cases, one per item of the issue -------------------------------------------------

def rejections(result: list[Record] | CibError) -> list[Rejected]:
    assert not isinstance(result, CibError), result
    return [r for r in result if isinstance(r, Rejected)]


def posts(result: list[Record] | CibError) -> list[Post]:
    assert not isinstance(result, CibError), result
    return [r for r in result if isinstance(r, Post)]


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_truncated_and_corrupted_gzip_is_a_corrupt_dump(tmp_path: Path, seed: str) -> None:
    packed = gzipped(SEEDS[seed] * 20)
    truncated = write(tmp_path, f"{seed}.gz", packed[: len(packed) * 2 // 3])
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0xFF
    corrupted = write(tmp_path, f"{seed}-bad.gz", bytes(flipped))
    for path in (truncated, corrupted):
        for fmt, mapping in READERS:
            result = read_or_error(path, fmt, mapping)
            assert isinstance(result, CibError)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_truncated_and_corrupted_zip_is_refused(tmp_path: Path, seed: str) -> None:
    packed = zipped(SEEDS[seed] * 20)
    for cut in (10, 40, len(packed) // 2, len(packed) - 30):
        path = write(tmp_path, f"{seed}-{cut}.zip", packed[:cut])
        assert isinstance(read_or_error(path), CibError)
    local_header = bytearray(packed)
    local_header[8] = 99  # an unknown compression method
    every_reader(write(tmp_path, f"{seed}-method.zip", bytes(local_header)))
    truncated_member = packed.replace(b"PK\x01\x02", b"PK\x01\x02", 1)
    truncated_member = truncated_member[:30] + truncated_member[60:]  # a header cut short
    every_reader(write(tmp_path, f"{seed}-header.zip", truncated_member))


def test_a_zip_member_with_a_damaged_header_is_a_corrupt_dump(tmp_path: Path) -> None:
    """Reproducer from the fuzzer: ``archive.open`` raised a bare ``BadZipFile``."""
    packed = bytearray(zipped(SEEDS["v1"]))
    packed[26:28] = (60000).to_bytes(2, "little")  # the member's name is longer than the file
    with pytest.raises(CorruptDump, match=r"dump.zip!dump.jsonl: the zip member is damaged"):
        list(read_dump(write(tmp_path, "dump.zip", bytes(packed))))


def test_a_zip_directory_with_an_unknown_version_is_a_corrupt_dump(tmp_path: Path) -> None:
    """Reproducer from the fuzzer: ``zipfile.ZipFile`` raised ``NotImplementedError``."""
    packed = bytearray(zipped(SEEDS["flat"]))
    directory = packed.index(b"PK\x01\x02")
    packed[directory + 6] = 235  # "version needed to extract": 23.5
    with pytest.raises(CorruptDump, match=r"dump.zip: the zip archive is damaged \(zip file version"):
        list(read_dump(write(tmp_path, "dump.zip", bytes(packed))))


DEEP = b"[" * 100_000 + b"]" * 100_000


@pytest.mark.parametrize(("name", "data"), [
    ("deep.jsonl", b'{"data": ' + DEEP + b"}\n" + SEEDS["twarc2"]),
    ("deep-v1.jsonl", SEEDS["v1"] + b'{"id_str": "1", "x": ' + DEEP + b"}\n"),
    ("deep.json", b'[{"id_str": "1", "user": {}, "x": ' + DEEP + b"}]"),
    ("deep-cell.csv", b"tweetid,userid,tweet_time,tweet_text,hashtags\n1,2,2021-01-01 10:00,a,\"['"
     + b"[" * 100_000 + b"']\"\n"),
    ("deep-only.json", DEEP),
])
def test_deep_nesting_is_bounded_and_never_a_recursion_error(tmp_path: Path, name: str,
                                                             data: bytes) -> None:
    path = write(tmp_path, name, data)
    tracemalloc.start()
    try:
        every_reader(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * len(data) + (8 << 20)


def test_deep_array_in_a_v1_array_is_a_named_error(tmp_path: Path) -> None:
    """Reproducer: the stdlib decoder raised ``RecursionError`` out of the reader."""
    path = write(tmp_path, "deep.json", b'[{"id_str": "1", "user": {}, "x": ' + DEEP + b"}]")
    with pytest.raises(CorruptDump, match=r"deep.json, line 1: JSON nested too deeply"):
        list(read_dump(path, "v1"))


def test_a_30000_digit_number_in_a_v1_array_is_a_named_error(tmp_path: Path) -> None:
    """Reproducer: ``int()`` refuses more than 4,300 digits with a bare ``ValueError``."""
    path = write(tmp_path, "big.json", b'[{"id_str": "1", "n": ' + b"7" * 30_000 + b"}]")
    with pytest.raises(CorruptDump, match=r"big.json, line 1: invalid JSON"):
        list(read_dump(path, "v1"))


def _peak(read: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        read()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_10_mb_single_line_is_read_in_bounded_memory(tmp_path: Path) -> None:
    big = "x" * (10 << 20)
    data = jsonl({**tweet(0), "text": big}, tweet(1))
    path = write(tmp_path, "big.jsonl", data)
    peak = _peak(lambda: posts(read_or_error(path)))
    assert peak < 20 * len(data)
    row = f"1,2,bob,2021-01-01 10:00,{big},[]\n".encode()
    csv_path = write(tmp_path, "big.csv", SEEDS["ioarchive"] + row)
    assert len(posts(read_or_error(csv_path))) == 2
    garbage = write(tmp_path, "garbage.jsonl", SEEDS["v1"] + b"{" * (10 << 20) + b"\n" + SEEDS["v1"])
    result = read_or_error(garbage)
    assert [r.line for r in rejections(result)] == [3] and len(posts(result)) == 4


def test_a_10_mb_element_of_a_v1_array_is_read_in_bounded_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reproducer: an element with a string longer than the 1 MiB read was refused as
    "Unterminated string" instead of reading on."""
    data = json.dumps([status(0, text="y" * (10 << 20)), status(1)]).encode()
    path = write(tmp_path, "big.json", data)
    result: list[Record] = []
    peak = _peak(lambda: result.extend(read_dump(path, "v1")))
    assert [len(p.text) for p in posts(result)] == [10 << 20, 8] and peak < 20 * len(data)
    monkeypatch.setattr(jsonlines, "MAX_LINE_BYTES", 1 << 20)
    with pytest.raises(CorruptDump, match=r"big.json, line 1: an element of the JSON array is "
                                          r"longer than 1 MiB"):
        list(read_dump(path, "v1"))


def test_a_line_longer_than_a_record_may_be_is_rejected_unread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reproducer: a line was read whole, however long (a 1 GB file with no newline)."""
    monkeypatch.setattr(jsonlines, "MAX_LINE_BYTES", 1 << 20)
    path = write(tmp_path, "long.jsonl", SEEDS["v1"] + b"a" * (24 << 20) + b"\n" + SEEDS["v1"])
    result: list[Record] = []
    peak = _peak(lambda: result.extend(read_dump(path)))
    (rejected,) = rejections(result)
    assert (rejected.line, rejected.field) == (3, "(json)")
    assert "24.0 MiB; at most 1 MiB per record" in rejected.message
    assert [p.post_id for p in posts(result)] == [status(0)["id_str"], status(1)["id_str"]] * 2
    assert peak < 8 << 20  # the buffers, not the 24 MiB line
    no_newline = write(tmp_path, "endless.jsonl", SEEDS["twarc2"] + b"b" * (8 << 20))
    assert [r.line for r in rejections(read_or_error(no_newline))] == [2]


def test_a_csv_line_longer_than_allowed_rejects_its_row_unread(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "MAX_LINE_BYTES", 1 << 20)
    header, row = SEEDS["ioarchive"].splitlines()
    data = header + b"\n" + row + b"\n" + b"9,9,b,2021-01-01 10:00," + b"z" * (24 << 20) + b"\n" + row + b"\n"
    path = write(tmp_path, "long.csv", data)
    result: list[Record] = []
    peak = _peak(lambda: result.extend(read_dump(path)))
    (rejected,) = rejections(result)
    assert (rejected.line, rejected.field) == (3, "(row)") and "per line" in rejected.message
    assert len(posts(result)) == 2 and peak < 8 << 20


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_invalid_utf8_and_nul_bytes_reject_by_line(tmp_path: Path, seed: str) -> None:
    lines = SEEDS[seed].splitlines(keepends=True)
    for junk in (b"\xff\xfe\xc3(", b"\x00", b"\xed\xa0\x80"):
        hostile = lines[-1].replace(b"e", junk, 1)
        after = lines if seed in ("twarc2", "flat", "v1") else lines[1:]  # no second CSV header
        data = b"".join(lines) + hostile + b"".join(after)
        every_reader(write(tmp_path, f"{seed}.dump", data))


def test_invalid_utf8_in_a_csv_row_is_rejected_at_its_line(tmp_path: Path) -> None:
    header, row = SEEDS["ioarchive"].splitlines()
    data = b"\n".join([header, row, row.replace(b"hello", b"h\xffi"), row]) + b"\n"
    path = write(tmp_path, "bad.csv", data)
    result = read_or_error(path)
    assert [(r.line, r.field) for r in rejections(result)] == [(3, "(encoding)")]


@pytest.mark.parametrize("text_value", [
    "=cmd|' /C calc'!A0", "\u202eevil\u202c \u2066x\u2069", "\x01\x07\x1b[31m\x7f",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 \U0001f3f3\ufe0f\u200d\U0001f308",
])
def test_hostile_text_is_kept_verbatim_as_data(tmp_path: Path, text_value: str) -> None:
    """Formula prefixes, bidi overrides, control characters and emoji are a post's text: kept
    exactly (quoting them is the business of whatever exports CSV for a spreadsheet)."""
    path = write(tmp_path, "t.jsonl", jsonl(tweet(0, text=text_value)))
    assert [p.text for p in posts(read_or_error(path))] == [text_value]
    quoted = '"' + text_value.replace('"', '""') + '"'
    csv_path = write(tmp_path, "t.csv", SEEDS["ioarchive"].replace(b"hello", quoted.encode()))
    assert [p.text for p in posts(read_or_error(csv_path))] == [text_value]


def test_nul_in_a_field_rejects_the_record_not_the_file(tmp_path: Path) -> None:
    """Reproducer: PostgreSQL refused the whole batch (``DataError``) for one NUL character."""
    path = write(tmp_path, "nul.jsonl", jsonl(tweet(0, text="a\x00b"), tweet(1)))
    result = read_or_error(path)
    assert [(r.line, r.field) for r in rejections(result)] == [(1, "text")]
    assert len(posts(result)) == 1
    csv_path = write(tmp_path, "nul.csv", SEEDS["mapped"] + b"5;6;2021-01-01 10:00;a\x00b\n")
    assert [(r.line, r.field) for r in rejections(read_or_error(csv_path, "csv", MAPPING))] == [(3, "text")]


def test_over_long_names_reject_the_record(tmp_path: Path) -> None:
    """Reproducer: a 300-character handle or app name failed the PostgreSQL insert of its batch."""
    path = write(tmp_path, "long.jsonl", jsonl(
        {**tweet(0), "author": {"id": "7", "username": "h" * 300}}, tweet(1, source="c" * 300),
        status(2, source="<a>" + "c" * 300 + "</a>"), tweet(3)))
    assert [(r.line, r.field) for r in rejections(read_or_error(path, "twarc2"))] == [
        (1, "handle"), (1, "handle"), (2, "client"), (3, "data")]
    assert len(posts(read_or_error(path, "twarc2"))) == 1


def test_a_hostile_source_is_not_searched_in_quadratic_time(tmp_path: Path) -> None:
    """Reproducer: ``'<a>' * 40_000`` as a tweet's ``source`` took 74 s in the anchor search."""
    path = write(tmp_path, "src.jsonl", jsonl(tweet(0, source="<a>" * 3_000_000), tweet(1)))
    started = time.monotonic()
    result = read_or_error(path)
    assert time.monotonic() - started < 5
    assert [(r.line, r.field) for r in rejections(result)] == [(1, "client")]
    assert len(posts(result)) == 1


def test_messages_quote_only_a_little_of_a_hostile_value(tmp_path: Path) -> None:
    """A 1 MB time or a 100 kB header is named, not copied whole into the message."""
    (rejected,) = rejections(read_or_error(write(tmp_path, "t.jsonl",
                                                 jsonl(tweet(0, created_at="x" * (1 << 20))))))
    assert rejected.field == "created_at" and len(rejected.message) < 200
    for fmt, mapping in READERS:
        error = read_or_error(write(tmp_path, "h.csv", b"a," * 50_000 + b"\n1\n"), fmt, mapping)
        messages = [str(error)] if isinstance(error, CibError) else [str(r) for r in rejections(error)]
        assert messages and max(map(len, messages)) < 1000


@pytest.mark.parametrize(("created", "accepted"), [
    ("1970-01-01T00:00:00Z", False), ("2100-12-31T23:59:59Z", True), ("2101-01-01T00:00:00Z", False),
    ("0001-01-01T00:00:00+05:00", False), ("9999-12-31T23:59:59-05:00", False), (5, False),
    (None, False), ([2021], False),
])
def test_dates_outside_2000_2100_are_rejected_by_field(tmp_path: Path, created: object,
                                                        accepted: bool) -> None:
    """Reproducers: year 1 or 9999 with an offset raised ``OverflowError``, a number
    ``AttributeError``."""
    path = write(tmp_path, "dates.jsonl", jsonl(tweet(0, created_at=created)))
    result = read_or_error(path)
    assert len(posts(result)) == accepted
    assert [r.field for r in rejections(result)] == ([] if accepted else ["created_at"])


@pytest.mark.parametrize(("value", "fmt"), [
    ("Thu Jan 01 00:00:00 +0000 1970", "v1"), ("Mon Jan 01 00:00:00 +0500 0001", "v1"),
    ("Fri Dec 31 23:59:59 -0500 9999", "v1"), ("0", "coortweet"), ("-90000000000", "coortweet"),
    ("4133980800", "coortweet"), ("1e400", "coortweet"),  # 2101-01-01
])
def test_hostile_times_in_other_formats(tmp_path: Path, value: str, fmt: str) -> None:
    if fmt == "v1":
        data = jsonl(status(0, created_at=value))
    else:
        data = SEEDS["coortweet"].replace(b"1600000000", value.encode())
    result = read_or_error(write(tmp_path, f"t.{fmt}", data), fmt)
    assert len(rejections(result)) == 1 and not posts(result)


@pytest.mark.parametrize(("value", "mapping_format"), [("\u00b2", "auto"), ("abc", "unix_ms"),
                                                       ("-1", "unix_ms"), ("9" * 400, "auto")])
def test_mapped_times_that_are_not_numbers_are_rejected(tmp_path: Path, value: str,
                                                        mapping_format: str) -> None:
    """Reproducer: ``float('²')`` and unix_ms ``float('abc')`` raised a bare ``ValueError``."""
    mapping = ColumnMapping(MAPPING.columns, time_format=mapping_format)
    path = write(tmp_path, "t.csv", f"id;user;date;body\n1;2;{value};x\n".encode())
    assert [(r.line, r.field) for r in rejections(read_or_error(path, "csv", mapping))] == [(2, "date")]


@pytest.mark.parametrize(("post_id", "expected"), [
    ("123456789012345678901234567890", "123456789012345678901234567890"),  # a string: kept whole
    (123456789012345678901234567890, None),   # a JSON number of 30 digits: a float, refused
    (-5, None), ("-5", "-5"), ([1], None), ({"a": 1}, None), (True, None), (1.5e300, None),
])
def test_negative_and_30_digit_ids(tmp_path: Path, post_id: object, expected: str | None) -> None:
    path = write(tmp_path, "ids.jsonl", jsonl(tweet(0, id=post_id)))
    result = read_or_error(path)
    assert [p.post_id for p in posts(result)] == ([expected] if expected else [])
    assert [r.field for r in rejections(result)] == ([] if expected else ["id"])


@pytest.mark.parametrize("hostile", [
    {"referenced_tweets": 5}, {"referenced_tweets": [{"type": [1], "id": "3"}]}, {"entities": [1]},
    {"source": 5}, {"lang": {"a": 1}}, {"author": {"username": {"a": 1}, "id": "7"}},
])
def test_wrong_json_types_in_optional_fields_are_ignored(tmp_path: Path,
                                                          hostile: dict[str, object]) -> None:
    """Reproducers: each raised ``TypeError`` or ``AttributeError`` out of the twarc2 reader."""
    result = read_or_error(write(tmp_path, "t.jsonl", jsonl(tweet(0, **hostile))))
    assert len(posts(result)) == 1


@pytest.mark.parametrize("page", [
    {"data": [tweet(0)], "includes": [1]}, {"data": [tweet(0)], "includes": {"users": 5}},
    {"data": [tweet(0)], "includes": {"users": [{"id": [1], "username": "x"}]}},
    {"data": [tweet(0)], "includes": {"users": [{**USER, "public_metrics": [1]}]}},
])
def test_wrong_json_types_in_twarc2_includes(tmp_path: Path, page: dict[str, object]) -> None:
    result = read_or_error(write(tmp_path, "p.jsonl", jsonl(page)))
    assert len(posts(result)) == 1


@pytest.mark.parametrize("hostile", [
    {"user": {"id_str": [1]}}, {"entities": [1]}, {"created_at": 5},
    {"user": {"id_str": "6", "followers_count": 10 ** 30}}, {"source": ["a"]},
])
def test_wrong_json_types_in_v1_statuses(tmp_path: Path, hostile: dict[str, object]) -> None:
    """Reproducers: an unhashable user id broke the user cache (``TypeError``), entities as a
    list and a numeric time raised ``AttributeError``."""
    statuses = [status(0, **hostile), status(1)]
    for data in (jsonl(*statuses), json.dumps(statuses).encode()):
        result = read_or_error(write(tmp_path, "s.json", data), "v1")
        assert len(posts(result)) + len(rejections(result)) == 2


def test_infinity_and_lone_surrogates_in_a_v1_array(tmp_path: Path) -> None:
    """Reproducers: the stdlib decoder reads ``Infinity`` (``OverflowError`` in a count) and a
    lone ``\\ud800``, which no database stores as UTF-8."""
    data = (b'[{"id_str": "1", "user": {"id_str": "2", "followers_count": Infinity}, "text": "t", '
            b'"created_at": "Wed Oct 19 21:45:12 +0000 2011"}, '
            b'{"id_str": "3", "user": {"id_str": "2"}, "text": "\\ud800", '
            b'"created_at": "Wed Oct 19 21:45:12 +0000 2011"}, '
            b'{"id_str": "4", "user": {"id_str": "2"}, "text": "\\ud83d\\ude00", '
            b'"created_at": "Wed Oct 19 21:45:12 +0000 2011"}]')
    result = read_or_error(write(tmp_path, "s.json", data), "v1")
    assert [p.text for p in posts(result)] == ["t", "\U0001f600"]
    assert [a.followers for a in result if isinstance(a, Account)] == [None, None]
    assert [(r.line, r.field) for r in rejections(result)] == [(1, "(json)")]


@pytest.mark.parametrize("header", [b"tweetid,userid\rx,tweet_time,tweet_text", b'"tweetid,userid'])
def test_a_header_with_a_lone_cr_or_open_quote_is_refused_by_name(tmp_path: Path, header: bytes) -> None:
    """Reproducer: ``csv.Error`` (new-line character seen in unquoted field) out of sniffing."""
    path = write(tmp_path, "h.csv", header + b"\n1,2,3,4\n")
    for fmt, mapping in READERS:
        result = read_or_error(path, fmt, mapping)
        assert isinstance(result, CibError) or not posts(result)


def test_field_parsers_raise_only_field_errors() -> None:
    """Reproducers for the parsers themselves."""
    assert parse_count("1.5e400") is None and parse_count(float("inf")) is None
    assert parse_count(1 << 64) is None
    for parse, value in ((parse_iso_time, "0001-01-01T00:00:00+05:00"), (parse_iso_time, 5),
                         (list_cell, "['a', {[]: 1}]"), (clean_id, [1]), (clean_id, -1)):
        with pytest.raises(FieldError):
            parse(value)  # type: ignore[operator]


def test_duplicate_ids_with_different_content_keep_the_first(tmp_path: Path, sqlite: Engine) -> None:
    path = write(tmp_path, "dup.jsonl", jsonl(tweet(0, text="first"), tweet(0, text="second"),
                                              tweet(1), tweet(1, text="other")))
    report = ingest_file(sqlite, path, IngestOptions(parallel=False))
    assert (report.status, report.read, report.stored, report.duplicates) == ("complete", 4, 2, 2)
    with sqlite.connect() as connection:
        stored = dict(connection.execute(text("SELECT post_id, text FROM posts")).all())
    assert stored[str(tweet(0)["id"])] == "first"


# --- nothing already stored changes -------------------------------------------------------------

GOOD_POSTS = [tweet(i, text=f"good post {i}") for i in range(30)]


def digest(engine: Engine, dataset_id: int) -> str:
    """A digest of the good dataset's posts, their accounts and the dataset's row."""
    return dataset_digest(engine, dataset_id)


def hostile_files(folder: Path) -> Iterator[Path]:
    """One hostile file per item of the issue, each reusing the good dataset's ids."""
    clash = [{**t, "text": "changed", "author_id": "2244994945"} for t in GOOD_POSTS[:5]]
    cases = {
        "random.bin": bytes(range(256)) * 40,
        "truncated.jsonl.gz": gzipped(jsonl(*clash) * 50)[:-40],
        "corrupted.jsonl.gz": gzipped(jsonl(*clash) * 50)[:100] + b"\x00" * 50,
        "truncated.zip": zipped(jsonl(*clash))[:-30],
        "deep.jsonl": b'{"data": ' + DEEP + b"}\n",
        "deep.json": b'[{"id_str": "1", "user": {}, "x": ' + DEEP + b"}]",
        "long.jsonl": jsonl({**tweet(99), "text": "y" * (10 << 20)}),
        "utf8.jsonl": jsonl(*clash[:2]) + b'{"data": {"text": "\xff\xfe"}}\n',
        "nul.jsonl": jsonl({**clash[0], "text": "a\x00b"}),
        "injection.csv": SEEDS["ioarchive"].replace(b"hello", b"=cmd|' /C calc'!A0"),
        "control.jsonl": jsonl({**clash[0], "text": "\x1b[31m\u202e\U0001f468\u200d\U0001f469"}),
        "dates.jsonl": jsonl(*[{**t, "created_at": d} for t, d in zip(
            clash, ["1970-01-01T00:00:00Z", "2100-12-31T00:00:00Z", "2101-01-01T00:00:00Z"],
            strict=False)]),
        "ids.jsonl": jsonl({**clash[0], "id": -5}, {**clash[1], "id": "1" * 30},
                           {**clash[2], "id": 10 ** 29}),
        "duplicates.jsonl": jsonl(*clash, *clash),
    }
    for name, data in cases.items():
        yield write(folder, name, data)


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Engine]:
    from detector.store import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'cib.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def _check_nothing_changed(engine: Engine, folder: Path) -> None:
    good = write(folder, "good.jsonl", jsonl({"data": GOOD_POSTS, "includes": {"users": [USER]}}))
    good_id = ingest_file(engine, good, IngestOptions(parallel=False)).dataset_id
    assert good_id is not None
    before = digest(engine, good_id)
    for path in hostile_files(folder):
        try:
            ingest_file(engine, path, IngestOptions(parallel=False))
        except CibError as exc:
            assert path.name.removesuffix(".gz") in str(exc)
        assert digest(engine, good_id) == before, f"{path.name} changed what was stored"
        with engine.connect() as connection:
            partial = connection.execute(text(
                "SELECT count(*) FROM posts JOIN datasets ON posts.dataset_id = datasets.id "
                "WHERE datasets.status <> 'complete'")).scalar_one()
            failed_complete = connection.execute(text(
                "SELECT count(*) FROM datasets WHERE status = 'complete' AND error IS NOT NULL"
            )).scalar_one()
        assert (partial, failed_complete) == (0, 0), path.name


def test_hostile_files_change_nothing_stored_sqlite(sqlite: Engine, tmp_path: Path) -> None:
    _check_nothing_changed(sqlite, tmp_path)


@pytest.mark.postgres
def test_hostile_files_change_nothing_stored_postgres(postgres_url: str, tmp_path: Path) -> None:
    from detector.store import make_engine, migrate

    engine = make_engine(postgres_url)
    migrate(engine)
    try:
        _check_nothing_changed(engine, tmp_path)
    finally:
        engine.dispose()


def test_a_file_failing_midway_leaves_no_partial_posts(sqlite: Engine, tmp_path: Path) -> None:
    good = write(tmp_path, "good.jsonl", jsonl(*GOOD_POSTS))
    good_id = ingest_file(sqlite, good, IngestOptions(parallel=False)).dataset_id
    assert good_id is not None
    before = digest(sqlite, good_id)
    new = [tweet(1000 + i, text=f"{i} " + "new " * 200) for i in range(3000)]  # > one 1 MiB read
    path = write(tmp_path, "midway.jsonl.gz", gzipped(jsonl(*GOOD_POSTS, *new))[:-200])
    with pytest.raises(CorruptDump, match=r"midway\.jsonl"):
        ingest_file(sqlite, path, IngestOptions(parallel=False, batch_size=10))
    assert digest(sqlite, good_id) == before
    with sqlite.connect() as connection:
        rows = connection.execute(text(
            "SELECT status, (SELECT count(*) FROM posts WHERE dataset_id = datasets.id) "
            "FROM datasets WHERE name = 'midway.jsonl.gz'")).all()
    assert [tuple(r) for r in rows] == [("failed", 0)]


def test_a_file_failing_midway_leaves_accounts_as_they_were(sqlite: Engine, tmp_path: Path) -> None:
    good = write(tmp_path, "good.jsonl", jsonl({"data": GOOD_POSTS, "includes": {"users": [USER]}}))
    good_id = ingest_file(sqlite, good, IngestOptions(parallel=False)).dataset_id
    assert good_id is not None
    before = digest(sqlite, good_id)
    renamed = {"data": [tweet(500)], "includes": {"users": [{**USER, "username": "someone-else"}]}}
    path = write(tmp_path, "midway.jsonl.gz",
                 gzipped(jsonl(renamed, *[tweet(1000 + i, text=f"{i} " + "new " * 200)
                                          for i in range(3000)]))[:-200])
    with pytest.raises(CorruptDump):
        ingest_file(sqlite, path, IngestOptions(parallel=False, batch_size=10))
    assert digest(sqlite, good_id) == before


def test_unknown_format_message_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(UnknownDumpFormat, match=r"image\.png"):
        list(read_dump(write(tmp_path, "image.png", b"\x89PNG\r\n\x1a\n" + bytes(100))))
