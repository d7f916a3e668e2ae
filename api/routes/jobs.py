"""Jobs: the state and counts of uploads and deletions being processed."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from api.auth import DB, Reader
from api.errors import not_found
from api.routes.common import Limit, Offset, errors
from api.schemas import Job, Page
from detector.store.jobs import get_job, list_jobs

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.get("", response_model=Page[Job], responses=errors(), summary="Jobs, newest first")
def jobs(_key: Reader, engine: DB,
         state: Annotated[Literal["queued", "running", "done", "failed"] | None, Query(
             description="Only jobs in this state.")] = None,
         limit: Limit = 50, offset: Offset = 0) -> Page[Job]:
    """Uploads and deletions, newest first, with their state, stage, percent and counts."""
    items, total = list_jobs(engine, state=state, limit=limit, offset=offset)
    return Page[Job](items=[Job.model_validate(j) for j in items], total=total, limit=limit,
                     offset=offset)


@router.get("/{job_id}", response_model=Job, responses=errors(404), summary="One job's progress")
def job(_key: Reader, engine: DB, job_id: Annotated[int, Path(
        ge=1, le=2**31 - 1, description="As returned by the upload or deletion.")]) -> Job:
    """State (`queued`, `running`, `done`, `failed`), stage, percent and counts: records read,
    posts stored, duplicates, rejected. Poll it until the state is `done` or `failed`."""
    found = get_job(engine, job_id)
    if found is None:
        raise not_found("job", job_id)
    return Job.model_validate(found)
