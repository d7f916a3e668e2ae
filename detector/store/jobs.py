"""Jobs asked for over the API: created queued, claimed by one worker, heartbeats, finished.

A claim is one conditional UPDATE, so a job delivered twice by the queue runs once; a ``running``
job whose heartbeat is older than the lease lost its worker and can be claimed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Table, and_, func, or_, select, update

from detector.store.schema import JobRow

JOBS: Table = JobRow.__table__  # type: ignore[assignment]
KINDS = ("ingest", "delete", "detect", "purge")
STATES = ("queued", "running", "done", "failed")


@dataclass(frozen=True)
class Job:
    id: int
    kind: str
    state: str
    stage: str
    filename: str | None
    path: str | None
    size_bytes: int
    format: str | None
    dataset_id: int | None
    detection_id: int | None
    read: int
    stored: int
    duplicates: int
    rejected: int
    bytes_done: int
    percent: float
    attempts: int
    error_code: str | None
    error: str | None
    owner: str | None
    worker: str | None
    created_at: datetime
    started_at: datetime | None
    heartbeat_at: datetime | None
    finished_at: datetime | None


def _now() -> datetime:
    return datetime.now(UTC)


def _job(row: Any) -> Job:
    return Job(**{k: v for k, v in JobRow(**row._mapping).__dict__.items() if not k.startswith("_")})


def create_job(engine: Engine, kind: str, *, filename: str | None = None, path: str | None = None,
               size_bytes: int = 0, fmt: str | None = None, dataset_id: int | None = None,
               owner: str | None = None) -> Job:
    """A new ``queued`` job."""
    assert kind in KINDS, kind
    values = dict(kind=kind, state="queued", stage="queued", filename=filename, path=path,
                  size_bytes=size_bytes, format=fmt, dataset_id=dataset_id, detection_id=None,
                  read=0, stored=0, duplicates=0, rejected=0, bytes_done=0, percent=0.0,
                  attempts=0, error_code=None, error=None, owner=owner, worker=None,
                  created_at=_now(), started_at=None, heartbeat_at=None, finished_at=None)
    with engine.begin() as c:
        key = c.execute(JOBS.insert().values(**values)).inserted_primary_key
        assert key is not None
        return _job(c.execute(select(JOBS).where(JOBS.c.id == key[0])).one())


def get_job(engine: Engine, job_id: int) -> Job | None:
    with engine.connect() as c:
        row = c.execute(select(JOBS).where(JOBS.c.id == job_id)).first()
    return _job(row) if row else None


def list_jobs(engine: Engine, *, state: str | None = None, limit: int = 50,
              offset: int = 0) -> tuple[list[Job], int]:
    """Newest first, and how many there are in all."""
    where = [JOBS.c.state == state] if state else []
    with engine.connect() as c:
        total = c.execute(select(func.count()).select_from(JOBS).where(*where)).scalar_one()
        rows = c.execute(select(JOBS).where(*where).order_by(JOBS.c.id.desc())
                         .limit(limit).offset(offset))
        return [_job(r) for r in rows], int(total)


def pending_jobs(engine: Engine, kind: str) -> int:
    """How many jobs of ``kind`` are queued or running."""
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(JOBS).where(
            JOBS.c.kind == kind, JOBS.c.state.in_(("queued", "running")))).scalar_one())


def _claimable(lease: timedelta, now: datetime) -> Any:
    c = JOBS.c
    return or_(c.state == "queued", and_(c.state == "running", c.heartbeat_at < now - lease))


def claim_job(engine: Engine, job_id: int, worker: str, lease: timedelta) -> Job | None:
    """Take the job for ``worker`` if it is queued or its last worker's lease ran out."""
    now = _now()
    c_ = JOBS.c
    with engine.begin() as c:
        result = c.execute(update(JOBS).where(c_.id == job_id, _claimable(lease, now)).values(
            state="running", worker=worker, attempts=c_.attempts + 1, heartbeat_at=now,
            started_at=func.coalesce(c_.started_at, now), error=None, error_code=None))
        if not result.rowcount:
            return None
        return _job(c.execute(select(JOBS).where(c_.id == job_id)).one())


def update_job(engine: Engine, job_id: int, worker: str, **values: Any) -> bool:
    """Record progress (and a heartbeat) while ``worker`` still holds the job."""
    c_ = JOBS.c
    with engine.begin() as c:
        result = c.execute(update(JOBS).where(c_.id == job_id, c_.worker == worker,
                                              c_.state == "running")
                           .values(heartbeat_at=_now(), **values))
    return bool(result.rowcount)


def finish_job(engine: Engine, job_id: int, worker: str, state: str, **values: Any) -> bool:
    assert state in ("done", "failed"), state
    return update_job(engine, job_id, worker, state=state, finished_at=_now(), **values)


def jobs_to_resume(engine: Engine, lease: timedelta, *, dead_workers: frozenset[str] = frozenset(),
                   queued_for: timedelta = timedelta(seconds=30)) -> list[int]:
    """Jobs to hand to the queue again: queued for a while (the enqueue may have been lost),
    running past their lease, or running on a worker known to be dead."""
    now = _now()
    c_ = JOBS.c
    stuck = or_(and_(c_.state == "queued", c_.created_at < now - queued_for),
                and_(c_.state == "running", c_.heartbeat_at < now - lease))
    if dead_workers:
        stuck = or_(stuck, and_(c_.state == "running", c_.worker.in_(sorted(dead_workers))))
    with engine.connect() as c:
        return list(c.execute(select(c_.id).where(stuck).order_by(c_.id)).scalars())


def release_job(engine: Engine, job_id: int) -> None:
    """Put a job whose worker is known dead back to ``queued`` so it can be claimed at once."""
    c_ = JOBS.c
    with engine.begin() as c:
        c.execute(update(JOBS).where(c_.id == job_id, c_.state == "running")
                  .values(state="queued", worker=None))


def finished_uploads(engine: Engine) -> list[str]:
    """Upload paths of the ingest jobs that are done or failed (their files should be gone)."""
    c_ = JOBS.c
    with engine.connect() as c:
        return list(c.execute(select(c_.path).where(
            c_.kind == "ingest", c_.state.in_(("done", "failed")), c_.path.is_not(None))).scalars())


def running_workers(engine: Engine) -> set[str]:
    c_ = JOBS.c
    with engine.connect() as c:
        return set(c.execute(select(c_.worker).where(c_.state == "running",
                                                     c_.worker.is_not(None))).scalars())
