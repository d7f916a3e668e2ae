"""Ingest: stream any supported dump into ``Post``/``Account`` records, rejecting bad ones by line."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from detector.errors import BadMapping, UnknownDumpFormat
from detector.ingest.csvformats import read_coortweet, read_ioarchive, read_ira
from detector.ingest.mapped import ColumnMapping, load_mapping, read_mapped
from detector.ingest.opener import MAX_RATIO, Member, ReadMeter, open_members
from detector.ingest.sniff import FORMATS, PEEK, sniff_format
from detector.ingest.twitter import read_twarc2, read_v1
from detector.records import Record

__all__ = ["FORMATS", "MAX_RATIO", "ColumnMapping", "DumpPart", "ReadMeter", "load_mapping",
           "open_dump", "read_dump",
           "read_stream", "sniff_format"]

_READERS: dict[str, Callable[[BinaryIO, str], Iterator[Record]]] = {
    "twarc2": read_twarc2,
    "v1": read_v1,
    "ioarchive": read_ioarchive,
    "coortweet": read_coortweet,
    "ira": read_ira,
}


@dataclass(frozen=True)
class DumpPart:
    """One file (or archive member) of a dump, its format, and its records as a stream."""

    name: str
    format: str
    records: Iterator[Record]


def read_stream(stream: BinaryIO, name: str, fmt: str | None = None,
                mapping: ColumnMapping | None = None) -> DumpPart:
    """Sniff (unless ``fmt`` is given) and read one decompressed, buffered binary stream."""
    if fmt is None and mapping is None:
        head = stream.peek(PEEK)  # type: ignore[attr-defined]
        if b"\n" not in head and len(head) < PEEK:
            # a small buffer may show less than the first line: look through a bigger one
            wider: Any = io.BufferedReader(stream, buffer_size=1 << 20)
            stream, head = wider, wider.peek(PEEK)
        fmt = sniff_format(head, name)
    elif fmt is None:
        fmt = "csv"
    if fmt == "csv":
        if mapping is None:
            raise BadMapping("--format csv needs a column mapping: "
                             "--map post_id=COL,account_id=COL,created_at=COL,text=COL")
        return DumpPart(name, fmt, read_mapped(stream, name, mapping))
    if fmt not in _READERS:
        raise UnknownDumpFormat(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    return DumpPart(name, fmt, _READERS[fmt](stream, name))


def _member_part(member: Member, fmt: str | None, mapping: ColumnMapping | None) -> DumpPart:
    return read_stream(member.stream, member.name, fmt, mapping)


def open_dump(path: Path, fmt: str | None = None, mapping: ColumnMapping | None = None, *,
              max_ratio: float = MAX_RATIO, meter: ReadMeter | None = None) -> Iterator[DumpPart]:
    """Yield each part of the dump at ``path`` (one, or one per zip member), in order.

    Each part's records must be consumed before asking for the next part. ``meter`` reports how
    far into the file reading got; content expanding beyond ``max_ratio`` is refused.
    """
    for member in open_members(path, max_ratio=max_ratio, meter=meter):
        yield _member_part(member, fmt, mapping)


def read_dump(path: Path, fmt: str | None = None,
              mapping: ColumnMapping | None = None) -> Iterator[Record]:
    """All records of the dump at ``path``, parts chained."""
    for part in open_dump(path, fmt, mapping):
        yield from part.records
