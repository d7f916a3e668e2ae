"""Tell a dump's format from its first bytes, and refuse what is not a dump with a reason."""

from __future__ import annotations

import orjson

from detector.errors import EmptyDump, UnknownDumpFormat
from detector.ingest.csvformats import COORTWEET_COLUMNS, IOARCHIVE_COLUMNS, IRA_COLUMNS
from detector.ingest.tables import header_columns

PEEK = 1 << 16
FORMATS = ("twarc2", "v1", "ioarchive", "coortweet", "ira", "csv")
EXPECTED = ("expected twarc2 JSONL, Twitter API v1.1 JSON/JSONL, an information-operations "
            "archive CSV, a CooRTweet or IRA CSV, or any CSV with --map FIELD=COLUMN")
_MAGIC = {
    b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
    b"%PDF": "a PDF document", b"BZh": "a bzip2 file (decompress it or use gzip)",
    b"\xfd7zXZ": "an xz file (decompress it or use gzip)", b"Rar!": "a RAR archive (use zip)",
    b"7z\xbc\xaf": "a 7-Zip archive (use zip)", b"\x28\xb5\x2f\xfd": "a zstd file (use gzip)",
    b"SQLite format 3": "an SQLite database",
}


def _binary_kind(head: bytes) -> str | None:
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    sample = head[:4096]
    # a NUL inside one CSV cell is hostile text, not a binary file; in the header it is binary
    if b"\x00" in sample.split(b"\n", 1)[0] or sample.count(b"\x00") * 100 > len(sample):
        return "binary data (it contains NUL bytes)"
    return None


def _json_kind(obj: object) -> str | None:
    if not isinstance(obj, dict):
        return None
    if "data" in obj:
        return "twarc2"
    if "id_str" in obj and "user" in obj:
        return "v1"
    if "id" in obj and "author_id" in obj and "text" in obj:
        return "twarc2"
    return None


def _keys_kind(prefix: bytes) -> str | None:
    """Judge a first line we could not see whole by the keys it starts with."""
    if b'"id_str"' in prefix and b'"user"' in prefix:
        return "v1"
    if b'"data"' in prefix or b'"author_id"' in prefix:
        return "twarc2"
    return None


def _jsonl_format(head: bytes, name: str) -> str:
    first, newline, _ = head.partition(b"\n")
    if not newline and len(head) >= PEEK:
        # a first line longer than the peek: judge it by the keys it starts with
        kind = _keys_kind(first[:PEEK])
        if kind is None:
            raise UnknownDumpFormat(f"{name}: JSON with unrecognized keys; {EXPECTED}")
        return kind
    try:
        obj = orjson.loads(first)
    except orjson.JSONDecodeError as exc:
        raise UnknownDumpFormat(f"{name}, line 1: not valid JSON ({exc}); {EXPECTED}") from exc
    kind = _json_kind(obj)
    if kind is None:
        shape = ", ".join(list(obj)[:8])[:200] if isinstance(obj, dict) else type(obj).__name__
        raise UnknownDumpFormat(
            f"{name}: JSON of another shape (keys: {shape}); expected twarc2 pages with 'data' "
            "or Twitter API v1.1 statuses with 'id_str' and 'user'")
    return kind


def _array_format(head: bytes, name: str) -> str:
    prefix = head[:1 << 16]
    if b'"id_str"' in prefix or b'"user"' in prefix:
        return "v1"
    if prefix.lstrip(b"[ \t\r\n").startswith(b"]"):
        raise EmptyDump(f"{name}: an empty JSON array; expected statuses")
    raise UnknownDumpFormat(
        f"{name}: a JSON array, but not of Twitter API v1.1 statuses (no 'id_str' or 'user')")


def _csv_format(head: bytes, name: str) -> str:
    line = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").split("\r", 1)[0]
    columns = set(header_columns(line, name))
    for fmt, needed in (("ioarchive", IOARCHIVE_COLUMNS), ("coortweet", COORTWEET_COLUMNS),
                        ("ira", IRA_COLUMNS)):
        if columns.issuperset(needed):
            return fmt
    shown = (", ".join(sorted(columns)[:10]) or line)[:200]  # a hostile header is 64 kB long
    raise UnknownDumpFormat(
        f"{name}: not a known layout (first line: {shown}); {EXPECTED}. For another CSV, name "
        "its columns: --map post_id=COL,account_id=COL,created_at=COL,text=COL")


def sniff_format(head: bytes, name: str) -> str:
    """The format of a dump whose first bytes (decompressed) are ``head``."""
    binary = _binary_kind(head)
    if binary:
        raise UnknownDumpFormat(f"{name}: this is {binary}, not a dump; {EXPECTED}")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text:
        raise EmptyDump(f"{name}: the file holds only whitespace; {EXPECTED}")
    if text[:1] == b"<":
        raise UnknownDumpFormat(f"{name}: this is HTML or XML (a web page?), not a dump; {EXPECTED}")
    if text[:1] == b"[":
        return _array_format(text, name)
    if text[:1] == b"{":
        return _jsonl_format(text, name)
    return _csv_format(text, name)
