"""Health: is the service up, can it reach its database, how many jobs wait."""

from __future__ import annotations

from importlib import metadata

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.auth import DB
from api.schemas import Health
from detector.store import current_revision_of
from detector.store.detections import latest_detection
from detector.store.jobs import list_jobs
from detector.store.relations import count_posts

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Liveness and readiness (no key needed)",
            responses={503: {"model": Health, "description": "The database cannot be reached."}})
def healthz(request: Request, engine: DB) -> Health | JSONResponse:
    """200 with counts when the service can reach its database; 503 when it cannot. Needs no
    key, so load balancers and monitors can call it."""
    queue = "redis" if request.app.state.settings.queue_url.startswith(("redis", "unix")) else "sqlite"
    version = metadata.version("cib-detector")
    try:
        latest = latest_detection(engine)
        health = Health(status="ok", database="ok", schema_revision=current_revision_of(engine),
                        posts=count_posts(engine), latest_detection=latest.id if latest else None,
                        queue=queue, jobs_queued=list_jobs(engine, state="queued", limit=0)[1],
                        jobs_running=list_jobs(engine, state="running", limit=0)[1], version=version)
    except Exception as exc:  # report, don't raise: a health check must answer
        health = Health(status="unavailable", database=type(exc).__name__, schema_revision=None,
                        posts=0, latest_detection=None, queue=queue, jobs_queued=0, jobs_running=0,
                        version=version)
        return JSONResponse(health.model_dump(mode="json"), status_code=503)
    return health
