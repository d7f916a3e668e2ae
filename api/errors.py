"""One error shape for every failure: ``{"error": {"code", "message", "detail"}}``, never a trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from detector.errors import CibError

log = logging.getLogger("cib.api")

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type",
                422: "invalid_parameter", 429: "rate_limited", 500: "internal_error"}
DUMP_STATUS = {"unsupported_format": 415, "decompression_bomb": 413, "dataset_busy": 409}
"""Library errors about an uploaded file: 415 when it is not a format we read, 413 for a bomb,
422 for the rest (empty, damaged, missing columns)."""


class ApiError(Exception):
    """An answer other than success, raised anywhere in a route."""

    def __init__(self, status: int, code: str, message: str, detail: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.detail, self.headers = detail, headers


def not_found(what: str, key: object) -> ApiError:
    return ApiError(404, "not_found", f"no {what} {key}", {"resource": what, "id": str(key)})


def from_library(exc: CibError) -> ApiError:
    return ApiError(DUMP_STATUS.get(exc.code, 422), exc.code, str(exc))


def body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def _response(status: int, code: str, message: str, detail: Any = None,
              headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body(code, message, detail), status_code=status, headers=headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _response(exc.status, exc.code, exc.message, exc.detail, exc.headers)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = exc.detail if isinstance(exc.detail, str) else STATUS_CODES.get(exc.status_code, "error")
    if exc.status_code == 404:
        message = "no such route; see /docs for the routes"
    return _response(exc.status_code, STATUS_CODES.get(exc.status_code, "error"), message,
                     headers=dict(exc.headers or {}))


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location]
    where = parts[0] if parts else "request"
    name = ".".join(parts[1:]) or where
    return f"{where} parameter {name!r}" if where in ("query", "path", "header") else f"{where} {name!r}"


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [{"field": ".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]),
                 "location": str(e["loc"][0]), "message": e["msg"]} for e in exc.errors()]
    first = exc.errors()[0] if exc.errors() else {"loc": ("request",), "msg": "invalid"}
    message = f"{_field(tuple(first['loc']))}: {first['msg']}"
    return _response(422, "invalid_parameter", message, problems)


async def _library_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CibError)
    error = from_library(exc)
    return _response(error.status, error.code, error.message)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _response(500, "internal_error",
                     "the server failed to answer; the error is in its log, please report it")


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(CibError, _library_error)
    app.add_exception_handler(Exception, _unexpected)
