"""Datasets: upload a dump (a job parses, stores and detects), list, show, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.auth import DB, Admin, Reader, Uploader
from api.errors import ApiError, from_library, not_found
from api.routes.common import JOB_CREATED, Limit, Offset, errors
from api.schemas import Dataset, Job, Page
from api.uploads import discard, probe, receive
from detector.errors import DumpError
from detector.store import queries
from detector.store.jobs import create_job

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
DatasetId = Annotated[int, Path(ge=1, le=2**31 - 1, description="As listed by GET /v1/datasets.")]
Format = Literal["twarc2", "v1", "ioarchive", "coortweet", "ira"]
UPLOAD_BODY = {"requestBody": {"required": True, "description": (
    "The dump, as the raw body (any Content-Type, e.g. application/gzip) or as the first file "
    "field of a multipart form. twarc2 JSONL, Twitter API v1.1 JSON/JSONL, the information-"
    "operations archive CSV, CooRTweet CSV, the IRA CSV; plain, .gz or .zip."),
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                "multipart/form-data": {"schema": {"type": "object", "properties": {
                    "file": {"type": "string", "format": "binary"}}}}}}}


def _job_response(response: Response, job: Job) -> Job:
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return job


@router.post("", status_code=202, response_model=Job, responses=errors(400, 413, 415) | JOB_CREATED,
             summary="Upload a dump; a background job stores it and re-runs detection",
             openapi_extra=UPLOAD_BODY)
async def upload(request: Request, response: Response, key: Uploader, engine: DB,
                 filename: Annotated[str | None, Query(max_length=255, description=(
                     "The file's name, for a raw-body upload (a form's own name wins)."))] = None,
                 format: Annotated[Format | None, Query(description=(
                     "The format, when sniffing should not decide."))] = None) -> Job:
    """Streams the file to disk (size limit, 413 beyond), checks it is a dump (415 if not a format
    we read, 422 if empty or damaged, 413 for a decompression bomb), then answers 202 with a job:
    poll `GET /v1/jobs/{id}` until it is `done`, then read campaigns and accounts."""
    settings = request.app.state.settings
    received = await receive(request, settings.upload_dir, settings.max_upload_bytes, filename)
    try:
        await run_in_threadpool(probe, received.path, format, settings.max_ratio)
    except DumpError as exc:
        discard(received.path)
        message = str(exc) if str(exc).startswith(received.filename) else f"{received.filename}: {exc}"
        raise ApiError(*_dump_status(exc), message) from None
    job = await run_in_threadpool(create_job, engine, "ingest", filename=received.filename,
                                  path=str(received.path), size_bytes=received.size, fmt=format,
                                  owner=key.name)
    request.app.state.queue.enqueue(job.id)
    return _job_response(response, Job.model_validate(job))


def _dump_status(exc: DumpError) -> tuple[int, str]:
    error = from_library(exc)
    return error.status, error.code


@router.get("", response_model=Page[Dataset], responses=errors(), summary="Datasets, newest first")
def list_datasets(_key: Reader, engine: DB,
                  status: Annotated[Literal["running", "complete", "failed", "interrupted"] | None,
                                    Query(description="Only datasets in this state.")] = None,
                  limit: Limit = 50, offset: Offset = 0) -> Page[Dataset]:
    """Every ingested file (uploaded or from `cib ingest`), with its counts: records read, posts
    stored, duplicates and rejected records."""
    return Page[Dataset].model_validate(queries.list_datasets(engine, status=status, limit=limit,
                                                              offset=offset))


@router.get("/{dataset_id}", response_model=Dataset, responses=errors(404),
            summary="One dataset, with its first rejected records")
def get_dataset(_key: Reader, engine: DB, dataset_id: DatasetId) -> Dataset:
    """A dataset's counts and state, and its first rejected records, each with its file, line,
    field and reason, so the file can be fixed."""
    found = queries.get_dataset(engine, dataset_id)
    if found is None:
        raise not_found("dataset", dataset_id)
    return Dataset.model_validate(found)


@router.delete("/{dataset_id}", status_code=202, response_model=Job,
               responses=errors(404, 409) | JOB_CREATED,
               summary="Delete a dataset and its posts; detection runs again (admin)")
def delete_dataset(request: Request, response: Response, key: Admin, engine: DB,
                   dataset_id: DatasetId) -> Job:
    """Removes the dataset's posts (and their lookup entries) in a background job, then re-runs
    detection without them. Posts are owned by the dataset that first stored them."""
    found = queries.get_dataset(engine, dataset_id, rejections_limit=0)
    if found is None:
        raise not_found("dataset", dataset_id)
    if found.status == "running":
        raise ApiError(409, "dataset_busy", f"dataset {dataset_id} is still being ingested; "
                       "delete it when its job has finished")
    job = create_job(engine, "delete", dataset_id=dataset_id, owner=key.name)
    request.app.state.queue.enqueue(job.id)
    return _job_response(response, Job.model_validate(job))
