"""Stream JSON objects from JSON Lines or from one big JSON array, with their line numbers."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import orjson

from detector.errors import CorruptDump

MAX_LINE_BYTES = 16 << 20
"""The longest record (a JSON line, or one element of a JSON array) read. A longer line is
rejected as a record and skipped without being held in memory; a twarc2 page of 100 tweets with
its users is well under 2 MB."""
_CHUNK = 1 << 20
_SURROGATE = ("\\ud", "\\uD")  # the start of a \uD800-\uDFFF escape, which may stand alone


class BadJson(ValueError):
    """One line that is not a JSON object."""


def json_lines(stream: BinaryIO, source: str) -> Iterator[tuple[int, Any]]:
    """Yield ``(line_number, parsed_object | BadJson)`` for each non-blank line."""
    number = 0
    while raw := stream.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            size = len(raw) + (0 if raw.endswith(b"\n") else skip_line(stream))
            yield number, BadJson(f"line is {size / (1 << 20):.1f} MiB; at most "
                                  f"{MAX_LINE_BYTES >> 20} MiB per record (skipped unread)")
            continue
        line = raw.strip()
        if not line:
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, BadJson(f"not valid JSON ({exc})")


def skip_line(stream: BinaryIO) -> int:
    """Read to the end of the current line in chunks, keeping none of it; the bytes skipped."""
    skipped = 0
    while chunk := stream.readline(_CHUNK):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _lone_surrogate(buffer: str, start: int, end: int) -> BadJson | None:
    """The stdlib decoder accepts a lone surrogate escape (``"\\ud800"``), which no database
    can store as UTF-8; orjson refuses it, so an element that has such escapes is checked."""
    if all(buffer.find(escape, start, end) < 0 for escape in _SURROGATE):
        return None
    try:
        orjson.loads(buffer[start:end])
    except orjson.JSONDecodeError as exc:
        return BadJson(f"not valid JSON ({exc})")
    return None


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
        except RecursionError as exc:  # 100k levels of '[': no safe place to resume either
            raise CorruptDump(f"{source}, line {line}: JSON nested too deeply in the array") from exc
        except json.JSONDecodeError as exc:
            # an element cut by the end of the buffer: an unterminated string reports where the
            # string starts, not where the buffer ends, so a long text needs reading on too
            cut = (exc.pos >= len(buffer) - 6 or exc.msg.startswith("Unterminated string")
                   or len(buffer) - pos < _CHUNK)
            if cut and not eof:
                if len(buffer) - pos >= MAX_LINE_BYTES:
                    raise CorruptDump(f"{source}, line {line}: an element of the JSON array is "
                                      f"longer than {MAX_LINE_BYTES >> 20} MiB") from exc
                if more():
                    continue
            where = line + buffer.count("\n", pos, exc.pos)
            raise CorruptDump(f"{source}, line {where}: invalid JSON in the array ({exc.msg})") from exc
        except ValueError as exc:  # a number of more than 4,300 digits
            raise CorruptDump(f"{source}, line {line}: invalid JSON in the array ({exc})") from exc
        yield line, _lone_surrogate(buffer, pos, end) or element
        line += buffer.count("\n", pos, end)
        pos = end
