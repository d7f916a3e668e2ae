"""Open a dump file as one or more binary streams: plain, gzip or zip, sniffed by magic bytes."""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from detector.errors import CorruptDump, DecompressionBomb, EmptyDump

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
CHUNK = 1 << 20
MAX_RATIO = 200.0
"""Decompressed bytes per compressed byte beyond which a file is refused as a decompression bomb.
Tweet dumps compress 5-30x (measured on ../shared/data); bombs of repeated bytes reach 1000x."""
RATIO_FLOOR = 64 << 20
"""The ratio is only judged once this much was decompressed, so small files never trip it."""


class ReadMeter:
    """How far into the file on disk reading got (compressed bytes), for progress in percent."""

    def __init__(self) -> None:
        self._handle: BinaryIO | None = None

    def attach(self, handle: BinaryIO) -> None:
        self._handle = handle

    def position(self) -> int:
        try:
            return self._handle.tell() if self._handle is not None else 0
        except (OSError, ValueError):  # closed already
            return 0


@dataclass(frozen=True)
class Member:
    """One readable stream of a dump: the file itself, its gunzipped content or one zip member."""

    name: str
    stream: BinaryIO


class _Guarded(io.RawIOBase):
    """A raw stream that turns decompression failures into ``CorruptDump`` naming the file."""

    def __init__(self, inner: BinaryIO, name: str, source: _Guarded | None = None,
                 max_ratio: float = MAX_RATIO) -> None:
        self._inner = inner
        self._name = name
        self._source = source
        self._max_ratio = max_ratio
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except (EOFError, gzip.BadGzipFile, zlib.error, zipfile.BadZipFile, OSError) as exc:
            raise CorruptDump(
                f"{self._name}: the compressed data is truncated or damaged ({exc}); "
                "download or copy the file again"
            ) from exc
        n = len(data)
        buffer[:n] = data
        self.consumed += n
        if self._source is not None and self.consumed > RATIO_FLOOR:
            self._check_ratio(self._source.consumed)
        return n

    def _check_ratio(self, compressed: int) -> None:
        if self.consumed > self._max_ratio * max(compressed, 1):
            raise DecompressionBomb(
                f"{self._name}: {self.consumed:,} bytes decompressed from {compressed:,} "
                f"(more than {self._max_ratio:g}x): refused as a decompression bomb; "
                "tweet dumps compress far less, so check the file")


def _guard(inner: BinaryIO, name: str, source: io.BufferedReader | None = None,
           max_ratio: float = MAX_RATIO) -> io.BufferedReader:
    origin = source.raw if source is not None else None
    assert origin is None or isinstance(origin, _Guarded)
    return io.BufferedReader(_Guarded(inner, name, origin, max_ratio), buffer_size=CHUNK)


def _check_declared(path: Path, info: zipfile.ZipInfo, max_ratio: float) -> None:
    """Zip members state their sizes; a member that claims a bomb's ratio is refused unread."""
    if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
        raise DecompressionBomb(
            f"{path.name}!{info.filename}: {info.file_size:,} bytes packed in "
            f"{info.compress_size:,} (more than {max_ratio:g}x): refused as a decompression bomb")


def _zip_members(path: Path, archive: zipfile.ZipFile, max_ratio: float) -> Iterator[Member]:
    infos = [i for i in archive.infolist() if not i.is_dir()]
    infos = [i for i in infos if not i.filename.startswith("__MACOSX/")
             and not i.filename.rsplit("/", 1)[-1].startswith(".")]
    if not infos:
        raise EmptyDump(f"{path.name}: the zip archive holds no files; zip the dump file itself")
    for info in infos:
        _check_declared(path, info, max_ratio)
    for info in sorted(infos, key=lambda i: i.filename):
        label = f"{path.name}!{info.filename}"
        with _open_member(archive, info, label) as raw:
            yield from _members_of(_guard(raw, label), label, path, max_ratio)


def _open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> BinaryIO:
    """Open one member; a damaged header, encryption or an unknown method is ``CorruptDump``."""
    try:
        return archive.open(info)  # type: ignore[return-value]
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise CorruptDump(f"{label}: the zip member is damaged ({exc}); "
                          "download or copy the file again") from exc
    except (NotImplementedError, RuntimeError) as exc:  # a method zipfile lacks; a password
        raise CorruptDump(f"{label}: cannot unpack this zip member ({exc}); "
                          "zip the dump again without encryption, with deflate") from exc


def _members_of(stream: io.BufferedReader, name: str, path: Path,
                max_ratio: float) -> Iterator[Member]:
    head = stream.peek(4)[:4]
    if not head:
        raise EmptyDump(f"{name}: the file is empty; expected a dump of posts")
    if head.startswith(GZIP_MAGIC):
        with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
            inner = _guard(unzipped, name, stream, max_ratio)  # type: ignore[arg-type]
            if not inner.peek(1):
                raise EmptyDump(f"{name}: the gzip file decompresses to nothing; expected a dump")
            yield Member(name.removesuffix(".gz"), inner)
        return
    yield Member(name, stream)


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    try:
        handle = path.open("rb")
    except FileNotFoundError as exc:
        raise CorruptDump(f"{path}: no such file; check the path") from exc
    except IsADirectoryError as exc:
        raise CorruptDump(f"{path}: is a directory; give the dump file itself") from exc
    with handle:
        yield handle


def open_members(path: Path, *, max_ratio: float = MAX_RATIO,
                 meter: ReadMeter | None = None) -> Iterator[Member]:
    """Yield the readable streams inside ``path``; each is valid only until the next is asked for.

    Compressed content expanding more than ``max_ratio`` times raises ``DecompressionBomb``.
    """
    with _opened(path) as handle:
        if meter is not None:
            meter.attach(handle)
        buffered = _guard(handle, path.name)
        head = buffered.peek(4)[:4]
        if head.startswith(ZIP_MAGIC) or head.startswith(EMPTY_ZIP_MAGIC):
            try:
                archive = zipfile.ZipFile(handle)
            except (zipfile.BadZipFile, NotImplementedError, ValueError, EOFError, OSError) as exc:
                # NotImplementedError: a damaged "version needed" field, e.g. "zip file version 23.5"
                raise CorruptDump(f"{path.name}: the zip archive is damaged ({exc})") from exc
            with archive:
                yield from _zip_members(path, archive, max_ratio)
            return
        yield from _members_of(buffered, path.name, path, max_ratio)
