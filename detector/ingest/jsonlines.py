"""Stream JSON objects from JSON Lines or from one big JSON array, with their line numbers."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from detector.errors import CorruptDump

MAX_LINE_BYTES = 64 << 20
_CHUNK = 1 << 20


class BadJson(ValueError):
    """One line that is not a JSON object."""


def json_lines(stream: BinaryIO, source: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, parsed_object | BadJson)`` for each non-blank line."""
    for number, raw in enumerate(stream, start=1):
        if len(raw) > MAX_LINE_BYTES:
            yield number, BadJson(f"line is {len(raw) >> 20} MB; at most {MAX_LINE_BYTES >> 20} MB")
            continue
        line = raw.strip()
        if not line:
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, BadJson(f"not valid JSON ({exc})")


def _skip_separators(buffer: str, pos: int) -> int:
    while pos < len(buffer) and buffer[pos] in " \t\r\n,":
        pos += 1
    return pos


def json_array(stream: BinaryIO, source: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, element)`` of a top-level JSON array without loading it whole.

    A syntax error inside the array is fatal (``CorruptDump``): there is no safe place to resume.
    """
    decoder = json.JSONDecoder()
    text = codecs.getincrementaldecoder("utf-8-sig")()
    buffer, pos, line, eof = "", 0, 1, False

    def more() -> bool:
        nonlocal buffer, pos, eof
        chunk = stream.read(_CHUNK)
        try:
            buffer = buffer[pos:] + text.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise CorruptDump(f"{source}: not UTF-8 near line {line} ({exc.reason})") from exc
        pos, eof = 0, not chunk
        return bool(chunk)

    more()
    pos = _skip_separators(buffer, 0)
    if not buffer[pos:pos + 1] == "[":
        raise CorruptDump(f"{source}: expected a JSON array starting with '['")
    line += buffer.count("\n", 0, pos + 1)
    pos += 1
    while True:
        start = _skip_separators(buffer, pos)
        line += buffer.count("\n", pos, start)
        pos = start
        if pos >= len(buffer):
            if not more():
                raise CorruptDump(f"{source}: the JSON array is not closed (file truncated?)")
            continue
        if buffer[pos] == "]":
            return
        try:
            element, end = decoder.raw_decode(buffer, pos)
        except json.JSONDecodeError as exc:
            near_end = exc.pos >= len(buffer) - 1 or len(buffer) - pos < _CHUNK
            if not eof and near_end and len(buffer) - pos < MAX_LINE_BYTES and more():
                continue
            where = line + buffer.count("\n", pos, exc.pos)
            raise CorruptDump(f"{source}, line {where}: invalid JSON in the array ({exc.msg})") from exc
        yield line, element
        line += buffer.count("\n", pos, end)
        pos = end
