"""Receive an upload: streamed to disk in chunks (raw body or multipart), under a size limit,
then probed (format sniffed, first records parsed, decompression ratio checked) before a job is made."""

from __future__ import annotations

import contextlib
import itertools
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import ParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from api.errors import ApiError
from detector.errors import BadRecord
from detector.ingest import read_stream
from detector.ingest.opener import RATIO_FLOOR, open_members
from detector.records import Rejected

PROBE_RECORDS = 20
PROBE_BYTES = RATIO_FLOOR + (1 << 20)
"""Decompress this much of each member at upload time, enough for the ratio check to judge."""
MULTIPART_SLACK = 64 << 10
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


@dataclass(frozen=True)
class Received:
    path: Path
    filename: str
    size: int


def safe_filename(name: str | None) -> str:
    """The file's own name for display: no folders, no control characters, never a path."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")[:200]
    return base or "upload"


def _too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the upload is larger than the limit of {limit:,} bytes; "
                    "split the dump or ask the operator to raise CIB_MAX_UPLOAD_BYTES",
                    {"max_bytes": limit})


class _Sink:
    """A file being written, counting bytes against the limit."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit, self.size = path, limit, 0
        self.handle: BinaryIO = path.open("wb")

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.limit:
            raise _too_large(self.limit)
        self.handle.write(data)


class _Form:
    """Callbacks for python-multipart: the first part with a file name goes to the sink; other
    parts are skipped (options travel as query parameters)."""

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.filename: str | None = None
        self._headers: dict[bytes, bytes] = {}
        self._field, self._value = b"", b""
        self._writing = False

    def on_part_begin(self) -> None:
        self._headers, self._writing = {}, False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        filename = options.get(b"filename")
        if filename is not None and self.filename is None:
            self.filename, self._writing = filename.decode("utf-8", "replace") or "upload", True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._writing:
            self.sink.write(data[start:end])

    def on_part_end(self) -> None:
        self._writing = False


def _parser(content_type: str, form: _Form) -> MultipartParser:
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        raise ApiError(400, "bad_request", "a multipart upload needs a boundary in Content-Type")
    callbacks = {name: getattr(form, name) for name in dir(form) if name.startswith("on_")}
    return MultipartParser(boundary, callbacks=callbacks)  # type: ignore[arg-type]


async def receive(request: Request, folder: Path, limit: int, filename: str | None) -> Received:
    """Stream the request body to a new file in ``folder``; multipart takes its first file part."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + MULTIPART_SLACK:
        raise _too_large(limit)
    home = folder / uuid.uuid4().hex  # one folder per upload: its file keeps its own name
    home.mkdir(parents=True)
    sink = _Sink(home / "upload", limit)
    content_type = request.headers.get("content-type", "")
    form = _Form(sink) if content_type.startswith("multipart/form-data") else None
    parser = _parser(content_type, form) if form else None
    try:
        async for chunk in request.stream():
            if parser:
                parser.write(chunk)
            else:
                sink.write(chunk)
        if parser:
            parser.finalize()
    except ClientDisconnect:
        discard(sink.path)
        raise ApiError(400, "bad_request", "the upload was cut off before its end") from None
    except ParseError as exc:
        discard(sink.path)
        raise ApiError(400, "bad_request", f"the multipart form is malformed ({exc}); send the dump "
                       "as a file field, e.g. curl -F file=@tweets.jsonl.gz") from None
    except BaseException:
        discard(sink.path)
        raise
    finally:
        sink.handle.close()
    if form is not None and form.filename is None:
        discard(sink.path)
        raise ApiError(422, "missing_file", "the multipart form has no file part; send the dump "
                       "as a file field, e.g. curl -F file=@tweets.jsonl.gz")
    name = safe_filename(form.filename if form else filename)
    path = sink.path.rename(home / name)
    return Received(path, name, sink.size)


def discard(path: Path) -> None:
    """Remove an upload and its folder."""
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


def probe(path: Path, fmt: str | None, max_ratio: float) -> str:
    """Check an upload is a dump before accepting it: sniff each part's format, parse its first
    records and decompress enough to judge the ratio. Raises the library's named errors."""
    formats = []
    for member in open_members(path, max_ratio=max_ratio):
        part = read_stream(member.stream, member.name, fmt)
        first = list(itertools.islice(part.records, PROBE_RECORDS))
        if 0 < len(first) < PROBE_RECORDS and all(isinstance(r, Rejected) for r in first):
            # the whole part was read and nothing in it is usable (e.g. bytes sent with format=v1)
            raise BadRecord(f"{member.name}: none of its records can be read as {part.format} "
                            f"(first: {first[0]}); check the file and the format")
        formats.append(part.format)
        drained = 0
        while drained < PROBE_BYTES and (chunk := member.stream.read(1 << 20)):
            drained += len(chunk)
    return "+".join(dict.fromkeys(formats))
