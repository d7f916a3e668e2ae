"""Test support: the real app served by uvicorn on a loopback port, and a thread running the job
queue (huey's dequeue + execute, what a ``cib worker`` does), so tests speak real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from api.app import create_app
from api.settings import Settings
from detector.store.keys import create_key


@contextmanager
def served(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) in a thread; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@contextmanager
def queue_running(app: FastAPI) -> Iterator[None]:
    """Take jobs off the app's queue and run them in a thread until the block ends."""
    huey = app.state.queue.huey
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            task = huey.dequeue()
            if task is None:
                stop.wait(0.05)
            else:
                huey.execute(task)

    thread = threading.Thread(target=loop, name="queue", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)


def settings_for(database_url: str, folder: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(queue_url=str(folder / "queue.db"), upload_dir=folder / "uploads",
                                  rate_limit="10000/minute", upload_rate_limit="1000/minute",
                                  job_lease_s=5.0, heartbeat_s=1.0,
                                  model_path=Path("rule"))  # these tests pin the rule's numbers
    values.update(overrides)
    return Settings.from_env({}, database_url=database_url, **values)


@dataclass
class Service:
    """A running service: HTTP client on its URL, one key per scope, its engine."""

    app: FastAPI
    url: str
    client: httpx.Client
    keys: dict[str, str]

    @property
    def engine(self) -> Engine:
        engine: Engine = self.app.state.engine
        return engine

    def as_(self, scope: str | None) -> dict[str, str]:
        return {"X-API-Key": self.keys[scope]} if scope else {}

    def wait(self, job: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
        """Poll a job until it is done or failed."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.client.get(f"/v1/jobs/{job['id']}", headers=self.as_("read")).json()
            if answer["state"] in ("done", "failed"):
                return dict(answer)
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job['id']} still {answer['state']} after {timeout} s")
            time.sleep(0.05)


@contextmanager
def service(settings: Settings, *, worker: bool = True) -> Iterator[Service]:
    app = create_app(settings)
    keys = {scope: create_key(app.state.engine, f"test {scope}", scope)[1]
            for scope in ("read", "upload", "admin")}
    with served(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        if worker:
            with queue_running(app):
                yield Service(app, url, client, keys)
        else:
            yield Service(app, url, client, keys)
