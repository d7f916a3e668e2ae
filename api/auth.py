"""API keys on each request: ``X-API-Key`` or ``Authorization: Bearer``; scopes; rate limits."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from api.errors import ApiError
from detector.store.keys import ApiKey, verify_key

_header = APIKeyHeader(name="X-API-Key", auto_error=False,
                       description="An API key made with `cib keys create --scope read|upload|admin`.")
_bearer = HTTPBearer(auto_error=False, description="The same key as a bearer token.")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="cib", charset="UTF-8"'}
KEY_CACHE_S = 5.0
"""A verified key is remembered this long, so most requests skip the database; a revocation
takes effect within this time."""


class KeyCache:
    """Presented secret -> (key or None, when to look again). Small and per process."""

    def __init__(self, ttl_s: float = KEY_CACHE_S, size: int = 10_000) -> None:
        self._ttl, self._size = ttl_s, size
        self._entries: dict[str, tuple[ApiKey | None, float]] = {}
        self._lock = threading.Lock()

    def verify(self, engine: Engine, presented: str) -> ApiKey | None:
        now = time.monotonic()
        with self._lock:
            cached = self._entries.get(presented)
        if cached is not None and cached[1] > now:
            return cached[0]
        key = verify_key(engine, presented)
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.clear()
            self._entries[presented] = (key, now + self._ttl)
        return key


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _presented(header: str | None, bearer: HTTPAuthorizationCredentials | None) -> str:
    if header:
        return header.strip()
    if bearer and bearer.credentials:
        return bearer.credentials.strip()
    raise ApiError(401, "missing_key", "this route needs an API key in the X-API-Key header "
                   "(or Authorization: Bearer KEY); ask an admin for one", headers=CHALLENGE)


def require(scope: str, limit: str = "read") -> Callable[..., ApiKey]:
    """A dependency that admits keys holding ``scope`` and counts the request against ``limit``."""

    def check(request: Request, header: Annotated[str | None, Security(_header)] = None,
              bearer: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)] = None,
              ) -> ApiKey:
        cache: KeyCache = request.app.state.keys
        key = cache.verify(engine_of(request), _presented(header, bearer))
        if key is None:
            raise ApiError(401, "invalid_key", "this API key is not known; check it was copied "
                           "whole", headers=CHALLENGE)
        if key.revoked_at is not None:
            raise ApiError(401, "revoked_key", f"the key {key.prefix} ({key.name}) was revoked",
                           headers=CHALLENGE)
        if not key.allows(scope):
            raise ApiError(403, "insufficient_scope", f"this route needs a key with scope "
                           f"{scope!r}; key {key.prefix} has {key.scope!r}",
                           {"needed": scope, "held": key.scope})
        request.app.state.limits.hit(limit, key.prefix)
        return key

    return check


Reader = Annotated[ApiKey, Depends(require("read"))]
Uploader = Annotated[ApiKey, Depends(require("upload", limit="upload"))]
Admin = Annotated[ApiKey, Depends(require("admin"))]
DB = Annotated[Engine, Depends(engine_of)]
