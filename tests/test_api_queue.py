"""The job queue: claims, leases and resumption over the real job table, and the Redis backend."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from api.worker import resume_jobs
from detector.store.jobs import claim_job, create_job, finish_job, get_job, update_job
from tests.factories import render
from tests.live import service, settings_for
from tests.test_detect import hand_made

LEASE = timedelta(seconds=60)


def test_a_job_is_claimed_once(engine: Engine) -> None:
    job = create_job(engine, "ingest", filename="a.jsonl", path="/tmp/a", size_bytes=10)
    assert claim_job(engine, job.id, "here:1", LEASE) is not None
    assert claim_job(engine, job.id, "here:2", LEASE) is None        # delivered twice: runs once
    assert finish_job(engine, job.id, "here:1", "done", stage="done")
    assert claim_job(engine, job.id, "here:2", LEASE) is None        # done stays done
    assert get_job(engine, job.id).state == "done"  # type: ignore[union-attr]


def test_a_lost_lease_lets_another_worker_take_over(engine: Engine) -> None:
    job = create_job(engine, "ingest", path="/tmp/a")
    assert claim_job(engine, job.id, "far:1", LEASE)
    assert claim_job(engine, job.id, "far:2", timedelta(0)) is not None   # lease ran out
    assert not update_job(engine, job.id, "far:1", read=5)                 # the first lost it
    assert get_job(engine, job.id).attempts == 2  # type: ignore[union-attr]


def test_resume_hands_back_the_jobs_of_a_dead_worker(engine: Engine) -> None:
    import socket

    dead = f"{socket.gethostname()}:{2**22 + 12345}"                  # no such process
    job = create_job(engine, "ingest", path="/tmp/a")
    claim_job(engine, job.id, dead, LEASE)
    sent: list[int] = []
    assert resume_jobs(engine, sent.append, LEASE) == [job.id] == sent
    assert get_job(engine, job.id).state == "queued"  # type: ignore[union-attr]
    assert claim_job(engine, job.id, "here:3", LEASE) is not None


def test_resume_leaves_a_live_workers_job_alone(engine: Engine) -> None:
    import os
    import socket

    job = create_job(engine, "ingest", path="/tmp/a")
    claim_job(engine, job.id, f"{socket.gethostname()}:{os.getpid()}", LEASE)
    sent: list[int] = []
    assert resume_jobs(engine, sent.append, LEASE) == [] and sent == []


def redis_url() -> str:
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379 (CI has one)")
    return url


def test_upload_through_the_redis_queue(database_url: str, tmp_path: Path) -> None:
    settings = settings_for(database_url, tmp_path, queue_url=redis_url(),
                            queue_name=f"cib-test-{uuid.uuid4().hex[:8]}")
    with service(settings) as api:
        answer = api.client.post("/v1/datasets", files={"file": ("h.jsonl", render("twarc2", hand_made()))},
                                 headers=api.as_("upload"))
        job = api.wait(answer.json())
        assert job["state"] == "done" and job["stored"] == len(hand_made())
        assert api.client.get("/healthz").json()["queue"] == "redis"
        api.app.state.queue.huey.storage.flush_all()
