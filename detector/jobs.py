"""Run one job asked for over the API: ingest an upload or delete a dataset, then detect again.

The queue (``api.worker``) only delivers job ids; everything a job does, and the progress it
reports, is here, over the library. A job is claimed before it runs, so a job delivered twice
runs once, and one cut off by a crash is claimed again after its lease and redone from the start:
ingest is idempotent (posts are unique, the dataset row is reused), detection is one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from detector.detect import DetectParams
from detector.errors import CibError
from detector.ingest import MAX_RATIO
from detector.load import IngestOptions, IngestReport, ingest_file
from detector.model import Scorer
from detector.pipeline import DEFAULT, run_detection
from detector.privacy import Pseudonymizer
from detector.refresh import WarmCache
from detector.store.jobs import Job, claim_job, finish_job, finished_uploads, update_job
from detector.store.queries import delete_dataset
from detector.store.relations import count_posts
from detector.store.retention import purge_before

log = logging.getLogger("cib.jobs")

READING_SHARE = 80.0
"""Percent of a job's progress given to reading and storing; detection (which also indexes the
texts for lookups) takes the rest."""


@dataclass(frozen=True)
class JobSettings:
    """How jobs run. ``parallel_reader`` False leaves the second core to the API's readers."""

    lease: timedelta = timedelta(seconds=60)
    heartbeat_s: float = 10.0
    max_ratio: float = MAX_RATIO
    parallel_reader: bool | None = False
    detect: DetectParams = field(default_factory=lambda: DEFAULT)
    scorer: Scorer | None = None     # loaded once at start; None: the rule scores
    pseudonymizer: Pseudonymizer | None = None   # uploads' accounts get keyed pseudonyms
    retention: timedelta | None = None           # purge jobs remove posts older than this
    incremental: bool = False                    # detection keeps and updates its cache
    warm: WarmCache | None = None                # ... kept loaded between jobs (see refresh)


def worker_name() -> str:
    """``host:pid``: who holds a job, so a restarted worker on the same host can tell it is dead."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _Heartbeat:
    """Touches the job every few seconds while a long step (detection) gives no progress."""

    def __init__(self, engine: Engine, job_id: int, worker: str, every_s: float) -> None:
        self._args = (engine, job_id, worker)
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"cib-heartbeat-{job_id}", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(self._every):
            try:
                update_job(*self._args)
            except Exception:  # a missed beat is not fatal; the lease is several beats long
                log.warning("heartbeat of job %s failed", self._args[1], exc_info=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _ingest(engine: Engine, job: Job, worker: str, settings: JobSettings) -> IngestReport:
    assert job.path is not None
    size = max(job.size_bytes, 1)

    def on_batch(report: IngestReport, position: int) -> None:
        update_job(engine, job.id, worker, stage="reading", dataset_id=report.dataset_id,
                   read=report.read, stored=report.stored, duplicates=report.duplicates,
                   rejected=report.rejected, bytes_done=position,
                   percent=round(min(position / size, 1.0) * READING_SHARE, 1))

    options = IngestOptions(fmt=job.format, max_ratio=settings.max_ratio,
                            parallel=settings.parallel_reader, pseudonymizer=settings.pseudonymizer)
    update_job(engine, job.id, worker, stage="reading")
    report = ingest_file(engine, Path(job.path), options, on_batch=on_batch)
    update_job(engine, job.id, worker, stage="reading", dataset_id=report.dataset_id,
               read=report.read, stored=report.stored, duplicates=report.duplicates,
               rejected=report.rejected, bytes_done=job.size_bytes, percent=READING_SHARE)
    return report


def _detect(engine: Engine, job: Job, worker: str, settings: JobSettings) -> int:
    update_job(engine, job.id, worker, stage="detecting", percent=READING_SHARE + 5)
    detection_id, _ = run_detection(engine, settings.detect, scorer=settings.scorer,
                                    incremental=settings.incremental, warm=settings.warm)
    return detection_id


def _run(engine: Engine, job: Job, worker: str, settings: JobSettings) -> dict[str, object]:
    if job.kind == "ingest":
        report = _ingest(engine, job, worker, settings)
        # the same file again: nothing new to detect on, unless this job stored it in an attempt
        # cut off before its detection (the job row kept the dataset it was writing)
        if report.status == "skipped" and report.dataset_id != job.dataset_id:
            return {"stage": "skipped", "dataset_id": report.dataset_id, "read": report.read}
    elif job.kind == "delete":
        assert job.dataset_id is not None
        update_job(engine, job.id, worker, stage="deleting")
        removed = delete_dataset(engine, job.dataset_id)
        update_job(engine, job.id, worker, stage="deleting", stored=removed or 0,
                   percent=READING_SHARE)
    elif job.kind == "purge":
        if settings.retention is None:
            return {"stage": "skipped"}
        update_job(engine, job.id, worker, stage="purging")
        purged = purge_before(engine, datetime.now(UTC) - settings.retention)
        update_job(engine, job.id, worker, stage="purging", stored=purged.posts, percent=READING_SHARE)
        if not (purged.posts or purged.detections) or not count_posts(engine):
            return {"stage": "done"}
    return {"stage": "done", "detection_id": _detect(engine, job, worker, settings)}


def _discard_upload(job: Job) -> None:
    """Remove the uploaded file, and its folder if that is now empty."""
    if job.path:
        path = Path(job.path)
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()


def discard_finished_uploads(engine: Engine) -> int:
    """Remove the uploads of finished jobs still on disk (a worker killed between finishing a job
    and removing its file leaves it behind); returns how many were removed."""
    left = [Path(p) for p in finished_uploads(engine) if Path(p).exists()]
    for path in left:
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            path.parent.rmdir()
    return len(left)


def execute_job(engine: Engine, job_id: int, settings: JobSettings = JobSettings(),
                worker: str | None = None) -> Job | None:
    """Claim and run a job; None when it is not claimable (done, or held by a live worker).

    Failures named by the library (a damaged dump, a dataset being written) fail the job with
    their code and message; anything else fails it as ``internal_error`` and is logged.
    """
    worker = worker or worker_name()
    job = claim_job(engine, job_id, worker, settings.lease)
    if job is None:
        return None
    with _Heartbeat(engine, job.id, worker, settings.heartbeat_s):
        try:
            outcome = _run(engine, job, worker, settings)
        except CibError as exc:
            finish_job(engine, job.id, worker, "failed", stage="failed", error_code=exc.code,
                       error=str(exc))
        except Exception as exc:
            log.exception("job %s failed", job.id)
            finish_job(engine, job.id, worker, "failed", stage="failed",
                       error_code="internal_error", error=f"the job failed unexpectedly: {exc!r}")
        else:
            finish_job(engine, job.id, worker, "done", percent=100.0, **outcome)
    if job.kind == "ingest":
        _discard_upload(job)
    return job
