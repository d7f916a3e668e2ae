"""What several routes share: the latest detection, page parameters, error responses for docs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Query, Request
from sqlalchemy import Engine

from api.cache import SnapshotCache
from api.errors import ApiError
from api.schemas import ErrorResponse
from detector.store.detections import latest_detection

T = TypeVar("T")
MAX_PAGE = 500
NO_NUL = r"^[^\x00]*$"
"""For free-text ids: PostgreSQL cannot compare a text holding NUL, so refuse it as invalid (422)."""

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=10_000_000, description="Results to skip (for the next page).")]


def _header(description: str, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "required": True, "schema": {"type": kind}}


HEADERS: dict[int, dict[str, Any]] = {
    401: {"headers": {"WWW-Authenticate": _header("How to authenticate: `Bearer realm=\"cib\"`.")}},
    429: {"headers": {"Retry-After": _header("Seconds to wait before the next request.", "integer")}},
}
"""Headers that error answers always carry, documented so that clients (and schemathesis) check them."""
JOB_CREATED: dict[int | str, dict[str, Any]] = {202: {
    "description": "Accepted: a job will do it; poll it.",
    "headers": {"Location": _header("The job to poll: `/v1/jobs/{id}`.")}}}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text = {400: "Malformed request.", 401: "No API key, an unknown key or a revoked key.",
            403: "The key's scope does not allow this route.", 404: "No such resource.",
            409: "The resource is busy (a dataset still being ingested).",
            413: "Upload larger than the limit, or a decompression bomb.",
            415: "The file is not a dump in a format we read.",
            422: "An invalid parameter (the field is named in the message).",
            429: "Too many requests for this key; see the Retry-After header."}
    return {code: {"model": ErrorResponse, "description": text[code]} | HEADERS.get(code, {})
            for code in codes}


READ_ERRORS = _errors(401, 403, 422, 429)


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    return READ_ERRORS | _errors(*codes)


def cached(request: Request, key: tuple[object, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or the answer it gave before for the same key (which must name the
    detection run or the data snapshot the answer comes from)."""
    cache: SnapshotCache = request.app.state.cache
    return cache.get((request.url.path, *key), compute)


def detection_id(engine: Engine) -> int:
    """The latest detection run, which every read is about (called in the route's body, so that
    invalid parameters are reported first). Looked up on every request (one indexed row): a
    cached id would show a run that a job has just replaced."""
    latest = latest_detection(engine)
    if latest is None:
        raise ApiError(404, "no_detection", "no detection has run yet: upload a dataset "
                       "(POST /v1/datasets) or run `cib detect`")
    return latest.id

