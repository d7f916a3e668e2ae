"""Ingest a dump file into the store: batches, counts, resumable datasets, all-or-nothing failure.

Reading and parsing run in a child process when the file is large enough to repay it, so that
parsing and the database's own work overlap on two cores; the parent only writes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import queue
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from detector.errors import BadRecord, CibError, CorruptDump
from detector.ingest import MAX_RATIO, ColumnMapping, ReadMeter, open_dump
from detector.privacy import Pseudonymizer, PseudonymKeyError, pseudonymize_account, pseudonymize_post
from detector.records import Account, Post, Rejected
from detector.store import (
    discard_dataset_posts,
    finish_dataset,
    pseudonym_keys,
    resumable_dataset,
    start_dataset,
    write_batch,
)
from detector.store.rows import KnownAccounts, PreparedBatch, prepare_batch

Progress = Callable[[int], None]
"""Called with the number of records read in each batch (the CLI's progress bar)."""
SHOWN_REJECTIONS = 20
PARALLEL_MIN_BYTES = 4 << 20
FIRST_BATCH = 2_000
"""The first batch is at most this big, so that the writer starts while the reader parses on
(10,000 twarc2 posts take the reader about 0.4 s here)."""


@dataclass(frozen=True)
class IngestOptions:
    """How to read and store one file. ``parallel``: None decides by file size.

    ``pseudonymizer``: replace account ids and handles by keyed pseudonyms before storing.
    The text-lookup index is not updated here: each detection does it, with the normal forms
    and signatures it makes anyway (``pipeline.run_detection``).
    """

    fmt: str | None = None
    mapping: ColumnMapping | None = None
    strict: bool = False
    force: bool = False
    batch_size: int = 10_000
    parallel: bool | None = None
    max_ratio: float = MAX_RATIO
    pseudonymizer: Pseudonymizer | None = None


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


def prepared_batches(path: Path, options: IngestOptions, dialect: str) -> Iterator[PreparedBatch]:
    """Read ``path`` and yield batches of rows ready for the database (no database needed)."""
    posts: list[Post] = []
    accounts: list[Account] = []
    rejected: list[Rejected] = []
    known = KnownAccounts()
    formats: list[str] = []
    meter = ReadMeter()
    pseudo = options.pseudonymizer
    limit = min(options.batch_size, FIRST_BATCH)

    def flush() -> PreparedBatch:
        batch = prepare_batch(posts, accounts, rejected, known, dialect)
        batch.formats = tuple(dict.fromkeys(formats))
        batch.position = meter.position()
        posts.clear()
        accounts.clear()
        rejected.clear()
        return batch

    for part in open_dump(path, options.fmt, options.mapping, max_ratio=options.max_ratio,
                          meter=meter):
        formats.append(part.format)
        for record in part.records:
            if isinstance(record, Post):
                posts.append(pseudonymize_post(pseudo, record) if pseudo else record)
            elif isinstance(record, Account):
                accounts.append(pseudonymize_account(pseudo, record) if pseudo else record)
            elif options.strict:
                raise BadRecord(f"{record} (--strict stops at the first bad record)")
            else:
                rejected.append(record)
            if len(posts) + len(rejected) >= limit:
                yield flush()
                limit = options.batch_size
    if posts or rejected or accounts or formats:
        yield flush()


# --- the reader process -------------------------------------------------------------------------

class _ParentGone(Exception):
    pass


def _send(out: Any, item: tuple[str, object], parent: int) -> None:
    """Put ``item``; if the parent died (SIGKILL leaves no one to read), stop instead of hanging."""
    while True:
        try:
            out.put(item, timeout=1)
            return
        except queue.Full:
            if os.getppid() != parent:
                raise _ParentGone from None


def _reader_main(out: Any, path: Path, options: IngestOptions, dialect: str, parent: int) -> None:
    try:
        for batch in prepared_batches(path, options, dialect):
            _send(out, ("batch", batch), parent)
        _send(out, ("done", None), parent)
    except (KeyboardInterrupt, _ParentGone):
        pass
    except CibError as exc:
        _send(out, ("error", exc), parent)
    except Exception as exc:
        _send(out, ("error", CibError(f"{path.name}: the reader failed: {exc!r}")), parent)


def _from_reader(path: Path, options: IngestOptions, dialect: str) -> Iterator[PreparedBatch]:
    """``prepared_batches`` run in a child process, two batches ahead at most."""
    # fork starts in milliseconds; the child only reads the file and never touches the database
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context: Any = multiprocessing.get_context(method)
    channel = context.Queue(maxsize=2)
    reader = context.Process(target=_reader_main,
                             args=(channel, path, options, dialect, os.getpid()),
                             name="cib-reader", daemon=True)
    reader.start()
    try:
        while True:
            kind, payload = _next(channel, reader, path)
            if kind == "done":
                return
            if kind == "error":
                raise payload
            yield payload
    finally:
        if reader.is_alive():
            reader.terminate()
        reader.join(timeout=5)
        channel.close()


def _next(channel: Any, reader: Any, path: Path) -> tuple[str, Any]:
    """The reader's next message, waiting for it as long as the reader lives."""
    while True:
        try:
            return channel.get(timeout=0.5)  # type: ignore[no-any-return]
        except queue.Empty:
            if not reader.is_alive():
                raise CibError(f"{path.name}: the reader process stopped "
                               f"(exit code {reader.exitcode})") from None


# --- the writer (this process) ------------------------------------------------------------------

class _Dataset:
    """Creates the dataset row when the first batch is ready (after sniffing succeeded)."""

    def __init__(self, engine: Engine, path: Path, digest: tuple[str, int], reuse: int | None,
                 pseudonym_key: str | None = None):
        self.engine, self.path, self.digest, self.reuse = engine, path, digest, reuse
        self.pseudonym_key = pseudonym_key
        self.id: int | None = None

    def ensure(self, formats: tuple[str, ...]) -> int:
        if self.id is None:
            self.id = start_dataset(self.engine, name=self.path.name, sha256=self.digest[0],
                                    size_bytes=self.digest[1], fmt="+".join(formats),
                                    reuse=self.reuse, pseudonym_key=self.pseudonym_key)
        return self.id


BatchDone = Callable[["IngestReport", int], None]
"""Called after each stored batch with the running report and the bytes of the file read so far."""


def _store_all(engine: Engine, dataset: _Dataset, batches: Iterator[PreparedBatch],
               report: IngestReport, progress: Progress | None, on_batch: BatchDone | None) -> None:
    for batch in batches:
        result = write_batch(engine, dataset.ensure(batch.formats), batch, report.rejected)
        report.format = "+".join(batch.formats)
        report.read += batch.read
        report.stored += result.stored
        report.duplicates += result.duplicates
        report.rejected += len(batch.rejected)
        room = SHOWN_REJECTIONS - len(report.rejections)
        report.rejections.extend(batch.rejected[:max(room, 0)])
        if progress:
            progress(batch.read)
        if on_batch:
            report.dataset_id = dataset.id
            on_batch(report, batch.position)


def check_pseudonym_key(engine: Engine, pseudonymizer: Pseudonymizer | None) -> str | None:
    """The key id to record, once sure the database holds no dataset stored another way:
    one database, one key (or none), else the same account would be two accounts."""
    key_id = pseudonymizer.key_id if pseudonymizer else None
    others = pseudonym_keys(engine) - {key_id}
    if not others:
        return key_id
    if key_id is None:
        raise PseudonymKeyError("this database holds pseudonymized datasets: give the same key "
                                "(--pseudonymize-key FILE or $CIB_PSEUDONYM_KEY_FILE) to ingest more")
    if None in others:
        raise PseudonymKeyError("this database holds datasets stored without pseudonymization: "
                                "pseudonymize into a new database, or ingest without a key")
    raise PseudonymKeyError("this database holds datasets pseudonymized with another key "
                            f"(key id {sorted(k for k in others if k)[0]}, yours is {key_id}): "
                            "use that key, or a new database")


def _use_reader_process(options: IngestOptions, size: int) -> bool:
    return options.parallel if options.parallel is not None else size >= PARALLEL_MIN_BYTES


def ingest_file(engine: Engine, path: Path, options: IngestOptions = IngestOptions(),
                progress: Progress | None = None, on_batch: BatchDone | None = None) -> IngestReport:
    """Read ``path`` and store its posts. Idempotent: posts already stored are counted as
    duplicates; a file already ingested completely is skipped unless ``options.force``.

    A failure (damaged file, ``--strict`` and a bad record) removes the posts this run added and
    marks the dataset ``failed``; Ctrl-C marks it ``interrupted``; the next run redoes it.
    """
    try:
        digest = file_digest(path) if path.is_file() else ("", 0)
    except OSError as exc:
        raise CorruptDump(f"{path}: cannot read the file ({exc.strerror})") from exc
    previous = resumable_dataset(engine, digest[0]) if digest[0] else None
    if previous is not None and previous.status == "complete" and not options.force:
        return IngestReport(path, "skipped", previous.id, previous.format, previous.read,
                            0, previous.read - previous.rejected, previous.rejected)
    reuse = previous.id if previous is not None and previous.status != "complete" else None
    dataset = _Dataset(engine, path, digest, reuse, check_pseudonym_key(engine, options.pseudonymizer))
    report = IngestReport(path, "running")
    dialect = engine.dialect.name
    batches = (_from_reader(path, options, dialect) if _use_reader_process(options, digest[1])
               else prepared_batches(path, options, dialect))
    try:
        _store_all(engine, dataset, batches, report, progress, on_batch)
    except KeyboardInterrupt:
        if dataset.id is not None:
            finish_dataset(engine, dataset.id, "interrupted", "interrupted by the user")
        raise
    except Exception as exc:  # a damaged file, a database refusing a value: taken back, then raised
        if dataset.id is not None:
            discard_dataset_posts(engine, dataset.id)
            finish_dataset(engine, dataset.id, "failed", str(exc)[:2000])
        raise
    final = finish_dataset(engine, dataset.ensure(tuple((report.format or "").split("+"))),
                           "complete")
    # after a redo, what was stored counts every attempt, not only this one
    report.dataset_id, report.stored, report.duplicates = final.id, final.stored, final.duplicates
    report.status = final.status
    return report
