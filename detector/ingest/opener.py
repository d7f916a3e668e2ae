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

from detector.errors import CorruptDump, EmptyDump

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
EMPTY_ZIP_MAGIC = b"PK\x05\x06"
CHUNK = 1 << 20


@dataclass(frozen=True)
class Member:
    """One readable stream of a dump: the file itself, its gunzipped content or one zip member."""

    name: str
    stream: BinaryIO


class _Guarded(io.RawIOBase):
    """A raw stream that turns decompression failures into ``CorruptDump`` naming the file."""

    def __init__(self, inner: BinaryIO, name: str) -> None:
        self._inner = inner
        self._name = name
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
        return n


def _guard(inner: BinaryIO, name: str) -> io.BufferedReader:
    return io.BufferedReader(_Guarded(inner, name), buffer_size=CHUNK)


def _zip_members(path: Path, archive: zipfile.ZipFile) -> Iterator[Member]:
    names = [i.filename for i in archive.infolist() if not i.is_dir()]
    names = [n for n in names if not n.startswith("__MACOSX/") and not n.rsplit("/", 1)[-1].startswith(".")]
    if not names:
        raise EmptyDump(f"{path.name}: the zip archive holds no files; zip the dump file itself")
    for name in sorted(names):
        with archive.open(name) as raw:
            label = f"{path.name}!{name}"
            yield from _members_of(_guard(raw, label), label, path)  # type: ignore[arg-type]


def _members_of(stream: io.BufferedReader, name: str, path: Path) -> Iterator[Member]:
    head = stream.peek(4)[:4]
    if not head:
        raise EmptyDump(f"{name}: the file is empty; expected a dump of posts")
    if head.startswith(GZIP_MAGIC):
        with gzip.GzipFile(fileobj=stream, mode="rb") as unzipped:
            inner = _guard(unzipped, name)  # type: ignore[arg-type]
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


def open_members(path: Path) -> Iterator[Member]:
    """Yield the readable streams inside ``path``; each is valid only until the next is asked for."""
    with _opened(path) as handle:
        buffered = _guard(handle, path.name)
        head = buffered.peek(4)[:4]
        if head.startswith(ZIP_MAGIC) or head.startswith(EMPTY_ZIP_MAGIC):
            try:
                archive = zipfile.ZipFile(handle)
            except zipfile.BadZipFile as exc:
                raise CorruptDump(f"{path.name}: the zip archive is damaged ({exc})") from exc
            with archive:
                yield from _zip_members(path, archive)
            return
        yield from _members_of(buffered, path.name, path)
