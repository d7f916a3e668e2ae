"""Ingest a dump file into the store: batches, counts, resumable datasets, all-or-nothing failure."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from detector.errors import BadRecord, CibError
from detector.ingest import ColumnMapping, DumpPart, open_dump
from detector.records import Account, Post, Rejected
from detector.store import (
    KnownAccounts,
    discard_dataset_posts,
    finish_dataset,
    resumable_dataset,
    start_dataset,
    write_batch,
)

Progress = Callable[[int], None]
SHOWN_REJECTIONS = 20


@dataclass(frozen=True)
class IngestOptions:
    """How to read and store one file."""

    fmt: str | None = None
    mapping: ColumnMapping | None = None
    strict: bool = False
    force: bool = False
    batch_size: int = 10_000


@dataclass
class IngestReport:
    """What one ingest did; ``status`` is ``complete``, ``skipped`` (already ingested) or ``failed``."""

    path: Path
    status: str
    dataset_id: int | None = None
    format: str | None = None
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejections: list[Rejected] = field(default_factory=list)


def file_digest(path: Path) -> tuple[str, int]:
    """SHA-256 and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


@dataclass
class _Batch:
    posts: list[Post] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.posts) + len(self.rejected)


def _batches(parts: Iterator[DumpPart], size: int, strict: bool,
             formats: list[str]) -> Iterator[_Batch]:
    batch = _Batch()
    for part in parts:
        formats.append(part.format)
        for record in part.records:
            if isinstance(record, Post):
                batch.posts.append(record)
            elif isinstance(record, Account):
                batch.accounts.append(record)
            else:
                if strict:
                    raise BadRecord(f"{record} (--strict stops at the first bad record)")
                batch.rejected.append(record)
            if len(batch) >= size:
                yield batch
                batch = _Batch()
    if len(batch) or batch.accounts:
        yield batch


class _Dataset:
    """Creates the dataset row when the first batch is ready (after sniffing succeeded)."""

    def __init__(self, engine: Engine, path: Path, digest: tuple[str, int], reuse: int | None):
        self.engine, self.path, self.digest, self.reuse = engine, path, digest, reuse
        self.id: int | None = None

    def ensure(self, fmt: str) -> int:
        if self.id is None:
            self.id = start_dataset(self.engine, name=self.path.name, sha256=self.digest[0],
                                    size_bytes=self.digest[1], fmt=fmt, reuse=self.reuse)
        return self.id


def _store_all(engine: Engine, dataset: _Dataset, batches: Iterator[_Batch], formats: list[str],
               report: IngestReport, progress: Progress | None) -> None:
    known = KnownAccounts()
    for batch in batches:
        dataset_id = dataset.ensure("+".join(dict.fromkeys(formats)))
        result = write_batch(engine, dataset_id, posts=batch.posts, accounts=batch.accounts,
                             rejected=batch.rejected, rejected_before=report.rejected, known=known)
        report.read += len(batch)
        report.stored += result.stored
        report.duplicates += result.duplicates
        report.rejected += len(batch.rejected)
        room = SHOWN_REJECTIONS - len(report.rejections)
        report.rejections.extend(batch.rejected[:max(room, 0)])
        if progress:
            progress(len(batch))


def ingest_file(engine: Engine, path: Path, options: IngestOptions = IngestOptions(),
                progress: Progress | None = None) -> IngestReport:
    """Read ``path`` and store its posts. Idempotent: posts already stored are counted as
    duplicates; a file already ingested completely is skipped unless ``options.force``.

    A failure (damaged file, ``--strict`` and a bad record) removes the posts this run added and
    marks the dataset ``failed``; Ctrl-C marks it ``interrupted``; the next run redoes it.
    """
    digest = file_digest(path)
    previous = resumable_dataset(engine, digest[0])
    if previous is not None and previous.status == "complete" and not options.force:
        return IngestReport(path, "skipped", previous.id, previous.format, previous.read,
                            0, previous.read - previous.rejected, previous.rejected)
    reuse = previous.id if previous is not None and previous.status != "complete" else None
    dataset = _Dataset(engine, path, digest, reuse)
    report = IngestReport(path, "running")
    formats: list[str] = []
    try:
        parts = open_dump(path, options.fmt, options.mapping)
        _store_all(engine, dataset, _batches(parts, options.batch_size, options.strict, formats),
                   formats, report, progress)
    except KeyboardInterrupt:
        if dataset.id is not None:
            finish_dataset(engine, dataset.id, "interrupted", "interrupted by the user")
        raise
    except (CibError, OSError, ValueError) as exc:
        if dataset.id is not None:
            discard_dataset_posts(engine, dataset.id)
            finish_dataset(engine, dataset.id, "failed", str(exc))
        raise
    report.format = "+".join(dict.fromkeys(formats))
    report.dataset_id = dataset.ensure(report.format)
    final = finish_dataset(engine, report.dataset_id, "complete")
    # after a redo, what was stored counts every attempt, not only this one
    report.stored, report.duplicates, report.status = final.stored, final.duplicates, final.status
    return report
