"""Stream CSV rows with physical line numbers, rejecting rows with bad encoding or shape."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from detector.errors import MissingColumns, UnknownDumpFormat
from detector.ingest.fields import FieldError, unstorable
from detector.ingest.jsonlines import skip_line
from detector.records import Record, Rejected

MAX_FIELD_CHARS = 10 << 20
csv.field_size_limit(MAX_FIELD_CHARS)
MAX_LINE_BYTES = 4 * MAX_FIELD_CHARS
"""The longest physical line read (a field's worst case in UTF-8); a longer one rejects its row
and is skipped without being held in memory."""

Row = Mapping[str, str]
Convert = Callable[[Row], Iterable[Record]]


class CellError(ValueError):
    """A bad cell: the converter names the column it was reading."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


def cell(row: Row, column: str, parse: Callable[[str], object]) -> object:
    """``parse(row[column])``, turning a parse failure into a ``CellError`` for that column."""
    try:
        return parse(row.get(column, ""))
    except FieldError as exc:
        raise CellError(column, str(exc)) from exc


@dataclass
class _Decoded:
    bad_lines: set[int]     # not UTF-8; forgotten once their row is judged, so memory stays flat
    line: int = 0           # the physical line (counted by '\n') the csv reader last took
    long_lines: dict[int, int] = field(default_factory=dict)  # line -> its length in bytes

    def forget(self) -> None:
        self.bad_lines.clear()
        self.long_lines.clear()


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _decode(raw: bytes, number: int, state: _Decoded) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        state.bad_lines.add(number)
        return raw.decode("utf-8", errors="replace")


def _text_lines(stream: BinaryIO, state: _Decoded) -> Iterator[str]:
    """Decoded lines, split as ``open(newline="")`` would (a lone CR ends a line too)."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        state.line = number
        if len(raw) > MAX_LINE_BYTES:
            state.long_lines[number] = len(raw) + (0 if raw.endswith(b"\n") else skip_line(stream))
            yield "\n"
            continue
        text = _decode(raw, number, state)
        if "\r" in text[:-2]:
            yield from _LONE_CR.split(text)
        else:
            yield text


def header_columns(line: str, source: str) -> list[str]:
    """The column names in a header line (up to its first CR or LF)."""
    line = line.split("\n", 1)[0].split("\r", 1)[0]
    try:
        columns = next(csv.reader([line], delimiter=sniff_delimiter(line)), [])
    except csv.Error as exc:
        raise UnknownDumpFormat(f"{source}, line 1: not a CSV header ({exc})") from exc
    return [c.strip() for c in columns]


def sniff_delimiter(header: str) -> str:
    """The delimiter that splits the header line into the most columns."""
    return max(",\t;|", key=header.count)


def read_header(stream: BinaryIO, source: str) -> list[str]:
    """The column names of a CSV stream, without consuming it."""
    first = stream.peek(1 << 16).split(b"\n", 1)[0]  # type: ignore[attr-defined]
    text = first.decode("utf-8-sig", errors="replace").split("\r", 1)[0]
    if not text.strip():
        raise UnknownDumpFormat(f"{source}: the first line is empty; expected a CSV header")
    return header_columns(text, source)


def require_columns(header: Sequence[str], needed: Iterable[str], source: str, kind: str) -> None:
    missing = [c for c in needed if c not in header]
    if missing:
        raise MissingColumns(
            f"{source}: a {kind} CSV needs the columns {', '.join(missing)}; "
            f"the header has {', '.join(header[:12])[:300]}{' ...' if len(header) > 12 else ''}")


def _shape_error(row: list[str], width: int) -> str | None:
    if len(row) == width:
        return None
    return f"has {len(row)} fields where the header has {width}"


def read_rows(stream: BinaryIO, source: str, convert: Convert) -> Iterator[Record]:
    """Convert each data row with ``convert``; bad rows become ``Rejected`` with their line."""
    state = _Decoded(set())
    lines = _text_lines(stream, state)
    first = next(lines, "")
    if state.long_lines:
        raise UnknownDumpFormat(f"{source}, line 1: the header line is longer than "
                                f"{MAX_LINE_BYTES >> 20} MiB; expected a CSV header")
    delimiter = sniff_delimiter(first)
    header = header_columns(first, source)
    reader = csv.reader(lines, delimiter=delimiter)
    previous = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Rejected(source, state.line, "(csv)", str(exc))
            previous = state.line
            state.forget()
            continue
        start, previous = previous + 1, state.line
        if values or state.long_lines:
            yield from _row_records(values, header, source, (start, previous), state, convert)
        state.forget()


def _row_records(values: list[str], header: list[str], source: str, lines: tuple[int, int],
                 state: _Decoded, convert: Convert) -> Iterator[Record]:
    line = lines[0]
    if state.long_lines:
        number, size = next(iter(state.long_lines.items()))
        yield Rejected(source, number, "(row)", f"line is {size / (1 << 20):.1f} MiB; at most "
                       f"{MAX_LINE_BYTES >> 20} MiB per line (skipped unread)")
        return
    if state.bad_lines and any(n in state.bad_lines for n in range(lines[0], lines[1] + 1)):
        yield Rejected(source, line, "(encoding)", "not valid UTF-8")
        return
    shape = _shape_error(values, len(header))
    if shape:
        yield Rejected(source, line, "(row)", shape)
        return
    try:
        records = list(convert(dict(zip(header, values, strict=True))))
    except CellError as exc:
        yield Rejected(source, line, exc.column, str(exc))
        return
    for record in records:
        problem = None if isinstance(record, Rejected) else unstorable(record)
        if problem:
            yield Rejected(source, line, *problem)
            return
    yield from records
