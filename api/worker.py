"""The job queue: huey over an SQLite file (embedded default) or Redis (deployment).

The queue carries job ids only; the job table (``detector.store.jobs``) holds state and progress,
so a job survives a restart of either process: at start and every minute, the worker hands back to
the queue the jobs that were queued for a while or whose worker died (see ``resume_jobs``).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey, crontab
from sqlalchemy import Engine

from api.settings import Settings
from detector.jobs import JobSettings, discard_finished_uploads, execute_job
from detector.model import load_scorer
from detector.privacy import load_key
from detector.refresh import WarmCache
from detector.store.jobs import (
    create_job,
    get_job,
    jobs_to_resume,
    pending_jobs,
    release_job,
    running_workers,
)
from detector.store.retention import purge_before

log = logging.getLogger("cib.worker")


def job_settings(settings: Settings) -> JobSettings:
    """The key file is read here, at start: a missing or bad key stops the worker with its reason."""
    key = load_key(settings.pseudonym_key_file) if settings.pseudonym_key_file else None
    retention = timedelta(days=settings.retention_days) if settings.retention_days else None
    return JobSettings(lease=timedelta(seconds=settings.job_lease_s),
                       heartbeat_s=min(settings.heartbeat_s, settings.job_lease_s / 4),
                       max_ratio=settings.max_ratio,
                       scorer=load_scorer(settings.model_path, log.warning),
                       pseudonymizer=key, retention=retention, incremental=settings.incremental,
                       warm=WarmCache() if settings.incremental else None)


def queue_purge(engine: Engine, enqueue: Callable[[int], object], retention: timedelta | None) -> int | None:
    """Queue a purge job when retention is set and something is old enough to go; its id, or None."""
    if retention is None:
        return None
    due = purge_before(engine, datetime.now(UTC) - retention, dry_run=True)
    if not (due.posts or due.detections) or pending_jobs(engine, "purge"):
        return None
    job = create_job(engine, "purge", owner="retention")
    enqueue(job.id)
    log.info("queued purge job %s: %s posts older than %s", job.id, due.posts, retention)
    return job.id


def _huey(queue_url: str, name: str) -> Huey:
    if queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=queue_url, results=False)
    path = Path(queue_url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(path), results=False)


@dataclass
class JobQueue:
    """``enqueue(job_id)`` from the API; the same object runs the jobs in ``cib worker``."""

    huey: Huey
    enqueue: Callable[[int], object]
    resume: Callable[[], list[int]]


def _dead_here(workers: set[str]) -> frozenset[str]:
    """Workers of this host whose process is gone (a SIGKILL, a crash, a reboot)."""
    host = socket.gethostname()
    dead = set()
    for name in workers:
        worker_host, _, pid = name.rpartition(":")
        if worker_host == host and pid.isdigit() and not _alive(int(pid)):
            dead.add(name)
    return frozenset(dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def resume_jobs(engine: Engine, enqueue: Callable[[int], object], lease: timedelta) -> list[int]:
    """Hand back to the queue the jobs that lost their worker or their queue message."""
    dead = _dead_here(running_workers(engine))
    ids = jobs_to_resume(engine, lease, dead_workers=dead)
    for job_id in ids:
        job = get_job(engine, job_id)
        if job is not None and job.worker in dead:  # claimable at once, not after the lease
            release_job(engine, job_id)
        enqueue(job_id)
    if ids:
        log.info("resumed jobs %s", ids)
    return ids


def make_queue(settings: Settings, engine: Engine) -> JobQueue:
    huey = _huey(settings.queue_url, settings.queue_name)
    config = job_settings(settings)

    @huey.task(name="cib.run_job")  # type: ignore[untyped-decorator]
    def run_job(job_id: int) -> None:
        execute_job(engine, job_id, config)

    def resume() -> list[int]:
        return resume_jobs(engine, run_job, config.lease)

    @huey.periodic_task(crontab(minute="*"), name="cib.resume_jobs")  # type: ignore[untyped-decorator]
    def resume_every_minute() -> None:
        resume()

    @huey.periodic_task(crontab(minute="7"), name="cib.retention")  # type: ignore[untyped-decorator]
    def purge_every_hour() -> None:
        queue_purge(engine, run_job, config.retention)

    return JobQueue(huey, run_job, resume)


def run_worker(settings: Settings, engine: Engine) -> None:
    """Run jobs until interrupted (SIGINT finishes the current job, SIGTERM stops now)."""
    queue = make_queue(settings, engine)
    queue.resume()
    discard_finished_uploads(engine)
    queue_purge(engine, queue.enqueue, job_settings(settings).retention)
    consumer = queue.huey.create_consumer(workers=1, worker_type="thread", periodic=True,
                                          initial_delay=0.1, max_delay=1.0,
                                          check_worker_health=True)
    consumer.run()
