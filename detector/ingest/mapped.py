"""Any other CSV, read through a column mapping given on the command line or in a small file."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from detector.errors import BadMapping
from detector.ingest.fields import (
    clean_id,
    list_cell,
    optional_id,
    parse_iso_time,
    parse_unix_time,
    parse_v1_time,
    strip_hash,
)
from detector.ingest.tables import Row, cell, read_header, read_rows, require_columns
from detector.records import Post, Record

REQUIRED = ("post_id", "account_id", "created_at")
OPTIONAL = ("text", "handle", "repost_of", "reply_to", "quote_of", "urls", "hashtags",
            "mentions", "lang", "client")
TIME_FORMATS = ("auto", "iso", "unix", "unix_ms", "twitter")
EXAMPLE = "post_id=id,account_id=user_id,created_at=date,text=message"


@dataclass(frozen=True)
class ColumnMapping:
    """Which CSV column feeds which ``Post`` field; ``platform`` is a constant for the whole file."""

    columns: Mapping[str, str]
    platform: str = "generic"
    time_format: str = "auto"
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [f for f in REQUIRED if f not in self.columns]
        if missing:
            raise BadMapping(f"the mapping must name a column for {', '.join(missing)}; "
                             f"e.g. --map {EXAMPLE}")
        unknown = [f for f in self.columns if f not in REQUIRED + OPTIONAL]
        if unknown:
            raise BadMapping(f"unknown field(s) {', '.join(unknown)} in the mapping; "
                             f"fields are {', '.join(REQUIRED + OPTIONAL)}")
        if self.time_format not in TIME_FORMATS:
            raise BadMapping(f"time_format {self.time_format!r} is not one of "
                             f"{', '.join(TIME_FORMATS)}")


def parse_mapping_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """``["post_id=id,account_id=user", "text=body"]`` -> ``{"post_id": "id", ...}``."""
    result: dict[str, str] = {}
    for chunk in pairs:
        for pair in filter(None, (p.strip() for p in chunk.split(","))):
            name, sep, column = pair.partition("=")
            if not sep or not name.strip() or not column.strip():
                raise BadMapping(f"{pair!r} is not FIELD=COLUMN; e.g. --map {EXAMPLE}")
            result[name.strip()] = column.strip()
    return result


def load_mapping(path: Path | None, pairs: Iterable[str] = (), platform: str | None = None,
                 time_format: str | None = None) -> ColumnMapping:
    """Build a mapping from a TOML/JSON file (``[columns]``, ``platform``, ``time_format``),
    overridden by ``FIELD=COLUMN`` pairs from the command line."""
    spec: dict[str, object] = {}
    if path is not None:
        spec = _read_mapping_file(path)
    columns = dict(spec.get("columns", {}))  # type: ignore[call-overload]
    columns.update(parse_mapping_pairs(pairs))
    return ColumnMapping(
        columns=columns,
        platform=platform or str(spec.get("platform", "generic")),
        time_format=time_format or str(spec.get("time_format", "auto")),
    )


def _read_mapping_file(path: Path) -> dict[str, object]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadMapping(f"cannot read the mapping file {path}: {exc.strerror}") from exc
    try:
        spec = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise BadMapping(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("columns", {}), dict):
        raise BadMapping(f"{path}: expected a table 'columns' of FIELD = \"COLUMN\"")
    return spec


def _auto_time(text: str) -> datetime:
    value = text.strip()
    if value.replace(".", "", 1).isdigit() and value.isascii():  # not '²', which float() refuses
        seconds = float(value)
        return parse_unix_time(seconds / 1000 if seconds > 1e11 else seconds)
    if value[:3].isalpha():
        return parse_v1_time(value)
    return parse_iso_time(value)


def _milliseconds(text: str) -> float | str:
    """Unix milliseconds as seconds; what is not a number is passed on for its error message."""
    try:
        return float(text) / 1000
    except ValueError:
        return text


_TIME_PARSERS = {
    "auto": _auto_time,
    "iso": parse_iso_time,
    "unix": parse_unix_time,
    "unix_ms": lambda v: parse_unix_time(_milliseconds(v)),
    "twitter": parse_v1_time,
}


class MappedConverter:
    def __init__(self, mapping: ColumnMapping) -> None:
        self._columns = mapping.columns
        self._platform = mapping.platform
        self._time = _TIME_PARSERS[mapping.time_format]

    def _get(self, row: Row, name: str) -> str:
        column = self._columns.get(name)
        return row.get(column, "") if column else ""

    def _optional_id(self, row: Row, name: str) -> str | None:
        column = self._columns.get(name)
        return cell(row, column, optional_id) if column else None  # type: ignore[return-value]

    def _list(self, row: Row, name: str) -> tuple[str, ...]:
        column = self._columns.get(name)
        return cell(row, column, list_cell) if column else ()  # type: ignore[return-value]

    def __call__(self, row: Row) -> Iterator[Record]:
        columns = self._columns
        yield Post(
            platform=self._platform,
            post_id=str(cell(row, columns["post_id"], clean_id)),
            account_id=str(cell(row, columns["account_id"], clean_id)),
            created_at=cell(row, columns["created_at"], self._time),  # type: ignore[arg-type]
            text=self._get(row, "text"),
            handle=self._get(row, "handle") or None,
            repost_of=self._optional_id(row, "repost_of"),
            reply_to=self._optional_id(row, "reply_to"),
            quote_of=self._optional_id(row, "quote_of"),
            urls=self._list(row, "urls"),
            hashtags=tuple(strip_hash(t) for t in self._list(row, "hashtags")),
            mentions=self._list(row, "mentions"),
            lang=self._get(row, "lang") or None,
            client=self._get(row, "client") or None,
        )


def read_mapped(stream: BinaryIO, source: str, mapping: ColumnMapping) -> Iterator[Record]:
    """Read a CSV whose columns ``mapping`` names."""
    require_columns(read_header(stream, source), mapping.columns.values(), source, "mapped")
    return read_rows(stream, source, MappedConverter(mapping))
