"""The FastAPI app factory: settings read when the app is made, never at import."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.auth import KeyCache
from api.cache import SnapshotCache
from api.ratelimit import RateLimits
from api.routes import accounts, campaigns, datasets, health, jobs, lookup, ui
from api.settings import Settings
from api.worker import make_queue
from detector.export import write_graph
from detector.fingerprint import signatures
from detector.lookup import LookupParams
from detector.store import open_database, queries
from detector.store.detections import latest_detection

DESCRIPTION = """
Coordination signals with evidence, for journalists and fact-checkers.

**What it answers.** Which accounts post the same thing at the same time again and again
(near-identical texts, reposts in lock-step, one link pushed by many), grouped into
*campaigns*, each with a score in [0, 1], the threshold it is judged by, and the posts that
show it. Scores are signals that deserve a look, not verdicts about people.

**How to use it.**
1. Get a key from an admin (`cib keys create --scope read --name "Jane, Desk"`), send it as
   `X-API-Key: KEY` (or `Authorization: Bearer KEY`). Scopes: `read` (queries), `upload` (also
   uploads), `admin` (also deletions).
2. Upload a dump: `curl -H "X-API-Key: $KEY" -F file=@tweets.jsonl.gz .../v1/datasets` answers
   202 with a job; poll `GET /v1/jobs/{id}` until `done`.
3. Read `GET /v1/campaigns`, `GET /v1/campaigns/{id}`, `GET /v1/accounts/{platform}/{id}`, or
   ask `POST /v1/lookup` whether a text is being relayed.

Every error has the shape `{"error": {"code", "message", "detail"}}`.
"""
TAGS = [
    {"name": "campaigns", "description": "Groups of accounts tied by repeated co-action, ranked."},
    {"name": "accounts", "description": "Per-account coordination scores and their evidence."},
    {"name": "lookup", "description": "Is this text being relayed? Near-duplicates already seen."},
    {"name": "datasets", "description": "Upload dumps, list them, delete them."},
    {"name": "jobs", "description": "Progress of uploads and deletions."},
    {"name": "health", "description": "For load balancers and monitors."},
]


def warm_up(engine: Engine) -> None:
    """Pay one-off costs before the first request does: the accent-folding table over all of
    Unicode (~0.25 s here, built at the first accented text), the MinHash permutations, and the
    first compilation of each query (SQLAlchemy caches it) on the latest run, if there is one."""
    signatures(["réchauffer le chemin des recherches, Ünïcödé"], LookupParams().fingerprint)
    latest = latest_detection(engine)
    if latest is None:
        return
    first = queries.list_campaigns(engine, latest.id, limit=1).items
    accounts = queries.list_accounts(engine, latest.id, limit=1).items
    if first:
        queries.campaign_detail(engine, latest.id, first[0].campaign_id)
        graph = queries.campaign_graph(engine, latest.id, first[0].campaign_id)
        if graph is not None:
            write_graph(graph, "json", io.BytesIO())
    if accounts:
        queries.account_detail(engine, latest.id, accounts[0].platform, accounts[0].account_id)


class SecurityHeaders:
    """Pure ASGI middleware: every answer says ``nosniff`` (a JSON answer quoting a post is never
    read as a page), and API answers, which name accounts, are not kept by shared caches."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        private = scope["path"].startswith("/v1/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                if private:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)
        await self.app(scope, receive, with_headers)


def create_app(settings: Settings | None = None) -> FastAPI:
    """A ready app: database migrated, job queue connected, routes, error shape, CORS if asked."""
    settings = settings or Settings.from_env()
    engine = open_database(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        warm_up(engine)
        yield
        engine.dispose()

    app = FastAPI(title="cib-detector", version=metadata.version("cib-detector"),
                  description=DESCRIPTION, openapi_tags=TAGS, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = engine
    app.state.queue = make_queue(settings, engine)
    app.state.keys = KeyCache()
    app.state.cache = SnapshotCache(settings.cache_entries)
    app.state.limits = RateLimits(settings.rate_limit_storage, {
        "read": settings.rate_limit, "upload": settings.upload_rate_limit})
    errors.install(app)
    for module in (campaigns, accounts, lookup, datasets, jobs, health, ui):
        app.include_router(module.router)
    ui.mount(app)
    app.add_middleware(SecurityHeaders)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["X-API-Key", "Authorization", "Content-Type"])
    return app
