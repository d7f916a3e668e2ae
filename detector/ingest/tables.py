"""Stream CSV rows with physical line numbers, rejecting rows with bad encoding or shape."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from detector.errors import MissingColumns, UnknownDumpFormat
from detector.ingest.fields import FieldError
from detector.records import Record, Rejected

MAX_FIELD_CHARS = 10 << 20
csv.field_size_limit(MAX_FIELD_CHARS)

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
    bad_lines: set[int]
    line: int = 0           # the physical line (counted by '\n') the csv reader last took


_LONE_CR = re.compile(r"(?<=\r)(?!\n)")


def _decode(raw: bytes, number: int, state: _Decoded) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        state.bad_lines.add(number)
        return raw.decode("utf-8", errors="replace")


def _text_lines(stream: BinaryIO, state: _Decoded) -> Iterator[str]:
    """Decoded lines, split as ``open(newline="")`` would (a lone CR ends a line too)."""
    for number, raw in enumerate(stream, start=1):
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        state.line = number
        text = _decode(raw, number, state)
        if "\r" in text[:-2]:
            yield from _LONE_CR.split(text)
        else:
            yield text


def sniff_delimiter(header: str) -> str:
    """The delimiter that splits the header line into the most columns."""
    return max(",\t;|", key=header.count)


def read_header(stream: BinaryIO, source: str) -> list[str]:
    """The column names of a CSV stream, without consuming it."""
    first = stream.peek(1 << 16).split(b"\n", 1)[0]  # type: ignore[attr-defined]
    text = first.decode("utf-8-sig", errors="replace").rstrip("\r")
    if not text.strip():
        raise UnknownDumpFormat(f"{source}: the first line is empty; expected a CSV header")
    return [c.strip() for c in next(csv.reader([text], delimiter=sniff_delimiter(text)))]


def require_columns(header: Sequence[str], needed: Iterable[str], source: str, kind: str) -> None:
    missing = [c for c in needed if c not in header]
    if missing:
        raise MissingColumns(
            f"{source}: a {kind} CSV needs the columns {', '.join(missing)}; "
            f"the header has {', '.join(header[:12])}{' ...' if len(header) > 12 else ''}")


def _shape_error(row: list[str], width: int) -> str | None:
    if len(row) == width:
        return None
    return f"has {len(row)} fields where the header has {width}"


def read_rows(stream: BinaryIO, source: str, convert: Convert) -> Iterator[Record]:
    """Convert each data row with ``convert``; bad rows become ``Rejected`` with their line."""
    state = _Decoded(set())
    lines = _text_lines(stream, state)
    first = next(lines, "")
    delimiter = sniff_delimiter(first)
    header = [c.strip() for c in next(csv.reader([first], delimiter=delimiter))]
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
            continue
        start, previous = previous + 1, state.line
        if not values:
            continue
        yield from _row_records(values, header, source, (start, previous), state, convert)


def _row_records(values: list[str], header: list[str], source: str, lines: tuple[int, int],
                 state: _Decoded, convert: Convert) -> Iterator[Record]:
    line = lines[0]
    if state.bad_lines and any(n in state.bad_lines for n in range(lines[0], lines[1] + 1)):
        yield Rejected(source, line, "(encoding)", "not valid UTF-8")
        return
    shape = _shape_error(values, len(header))
    if shape:
        yield Rejected(source, line, "(row)", shape)
        return
    try:
        yield from list(convert(dict(zip(header, values, strict=True))))
    except CellError as exc:
        yield Rejected(source, line, exc.column, str(exc))
