"""What is not a dump is refused before anything is read into the database, with a reason."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import pytest

from detector.errors import CorruptDump, DumpError, EmptyDump, MissingColumns, UnknownDumpFormat
from detector.ingest import open_dump, read_dump
from detector.ingest.sniff import sniff_format
from tests.factories import render, sample_posts

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize("fmt", ["twarc2", "v1", "v1-array", "ioarchive", "coortweet"])
def test_sniff_every_written_format(fmt: str) -> None:
    expected = {"v1-array": "v1"}.get(fmt, fmt)
    assert sniff_format(render(fmt, sample_posts()).encode(), "x") == expected


@pytest.mark.parametrize("name, content, error, message", [
    ("empty.jsonl", b"", EmptyDump, "empty"),
    ("blank.csv", b"  \n\n", EmptyDump, "whitespace"),
    ("photo.jsonl", PNG, UnknownDumpFormat, "PNG image"),
    ("page.json", b"<!DOCTYPE html><html><body>Rate limit</body></html>", UnknownDumpFormat, "HTML"),
    ("other.jsonl", json.dumps({"name": "x", "value": 1}).encode(), UnknownDumpFormat,
     "another shape"),
    ("numbers.json", b"[1, 2, 3]", UnknownDumpFormat, "not of Twitter API v1.1"),
    ("nothing.json", b"[]", EmptyDump, "empty JSON array"),
    ("broken.jsonl", b'{"data": [', UnknownDumpFormat, "not valid JSON"),
    ("people.csv", b"name,age\nann,3\n", UnknownDumpFormat, "--map"),
    ("db.sqlite", b"SQLite format 3\x00" + b"\x00" * 100, UnknownDumpFormat, "SQLite"),
    ("zeros.bin", b"\x00\x01\x02" * 100, UnknownDumpFormat, "NUL"),
])
def test_not_a_dump_is_refused_with_a_reason(tmp_path: Path, name: str, content: bytes,
                                             error: type[DumpError], message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(error, match=message) as caught:
        list(read_dump(path))
    assert name in str(caught.value)


def test_truncated_gzip_is_corrupt(tmp_path: Path) -> None:
    data = gzip.compress(render("twarc2", sample_posts() * 50).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDump, match="truncated or damaged"):
        list(read_dump(path))


def test_empty_gzip_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "nothing.csv.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(EmptyDump):
        list(read_dump(path))


def test_zip_members_are_read_in_order(tmp_path: Path) -> None:
    path = tmp_path / "dump.zip"
    posts = sample_posts()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("b/second.json", render("v1-array", posts[3:]))
        archive.writestr("a/first.jsonl", render("twarc2", posts[:3]))
        archive.writestr("__MACOSX/._junk", b"\x00\x05")
    parts = [(p.name, p.format, len([r for r in p.records if hasattr(r, "text")]))
             for p in open_dump(path)]
    assert parts == [("dump.zip!a/first.jsonl", "twarc2", 3), ("dump.zip!b/second.json", "v1", 3)]


def test_empty_zip(tmp_path: Path) -> None:
    path = tmp_path / "empty.zip"
    with zipfile.ZipFile(path, "w"):
        pass
    with pytest.raises(EmptyDump, match="no files"):
        list(read_dump(path))


def test_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(CorruptDump, match="no such file"):
        list(read_dump(tmp_path / "nope.jsonl"))


def test_forced_format_that_does_not_fit(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text(render("coortweet", sample_posts()))
    with pytest.raises(MissingColumns, match="tweetid"):
        list(read_dump(path, fmt="ioarchive"))


def test_csv_with_bom_and_tabs(tmp_path: Path) -> None:
    text = render("coortweet", sample_posts()).replace(",", "\t")
    path = tmp_path / "x.tsv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert len(list(read_dump(path))) == 2      # the link and the repost: what was shared


def test_sniff_a_twarc2_page_longer_than_the_peek() -> None:
    from detector.dumps import write_twarc2

    out = io.StringIO()
    write_twarc2(sample_posts() * 500, out, page_size=3000)
    page = out.getvalue().split("\n")[0]
    assert len(page) > 1 << 16
    assert sniff_format(page.encode()[: 1 << 16], "big.jsonl") == "twarc2"


def test_stream_reading_matches_file_reading() -> None:
    from detector.ingest import read_stream

    data = render("v1", sample_posts()).encode()
    part = read_stream(io.BufferedReader(io.BytesIO(data)), "mem.jsonl")  # type: ignore[arg-type]
    assert part.format == "v1" and len(list(part.records)) == 12


def test_sniff_through_a_small_buffer() -> None:
    """A reader with the default 8 KB buffer peeks less than one twarc2 page."""
    from detector.dumps import write_twarc2
    from detector.ingest import read_stream

    out = io.StringIO()
    write_twarc2(sample_posts() * 50, out, page_size=300)
    data = out.getvalue().encode()
    part = read_stream(io.BufferedReader(io.BytesIO(data)), "small-buffer.jsonl")  # type: ignore[arg-type]
    assert part.format == "twarc2" and sum(1 for r in part.records if hasattr(r, "text")) == 300
