"""Kill ``cib serve`` (and with it its worker) with SIGKILL while a job runs, start it again: the
job completes, nothing is lost or stored twice. Real processes, real HTTP, real database."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from detector.dumps import write_dump
from detector.simulate import SimulationParams, simulate
from detector.store import make_engine
from detector.store.schema import DatasetRow, PostRow

pytestmark = pytest.mark.slow
CIB = [sys.executable, "-m", "detector.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(db: str, port: int, folder: Path) -> Iterator[subprocess.Popen[bytes]]:
    env = os.environ | {"CIB_JOB_LEASE_SECONDS": "5", "CIB_UPLOAD_DIR": str(folder / "uploads"),
                        "CIB_QUEUE_URL": str(folder / "queue.db")}
    process = subprocess.Popen([*CIB, "serve", "--db", db, "--port", str(port),
                                "--log-level", "warning"], env=env, start_new_session=True)
    try:
        wait_until_serving(process, port)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def wait_until_serving(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 180  # two API processes and a worker start; slow on a busy machine
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert process.poll() is None, "cib serve exited"
        assert time.monotonic() < deadline, "cib serve did not start"
        time.sleep(0.1)


def poll(url: str, key: str, until: Any, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = httpx.get(url, headers={"X-API-Key": key}, timeout=10).json()
        if until(job):
            return dict(job)
        assert time.monotonic() < deadline, f"job stuck: {job}"
        time.sleep(0.05)


def test_a_job_cut_off_by_sigkill_completes_after_restart(database_url: str, tmp_path: Path) -> None:
    sim = simulate(SimulationParams(seed=3, accounts=4000, days=7))
    dump = tmp_path / "sim.jsonl.gz"
    with gzip.open(dump, "wt", encoding="utf-8") as out:
        write_dump("twarc2", sim.posts, out, sim.accounts)
    made = subprocess.run([*CIB, "keys", "create", "--scope", "upload", "--name", "restart test",
                           "--db", database_url], capture_output=True, text=True, check=True)
    key = made.stdout.strip().splitlines()[-1]          # the key, alone on the last line
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with serving(database_url, port, tmp_path) as first:
        answer = httpx.post(f"{base}/v1/datasets", content=dump.read_bytes(),
                            params={"filename": dump.name}, timeout=60,
                            headers={"X-API-Key": key, "Content-Type": "application/gzip"})
        assert answer.status_code == 202, answer.text
        job_url = f"{base}/v1/jobs/{answer.json()['id']}"
        running = poll(job_url, key, lambda j: j["state"] == "running" and j["read"] > 0)
        os.killpg(first.pid, signal.SIGKILL)             # the server and its worker, at once
        first.wait(timeout=10)
    engine = make_engine(database_url)
    with engine.connect() as c:
        stored_at_kill = c.execute(select(func.count()).select_from(PostRow)).scalar_one()
    assert running["read"] > 0 and stored_at_kill < len(sim.posts)   # cut off midway
    with serving(database_url, port, tmp_path):
        done = poll(job_url, key, lambda j: j["state"] in ("done", "failed"))
    assert done["state"] == "done", done
    assert done["attempts"] == 2 and done["detection_id"]
    with engine.connect() as c:
        posts = c.execute(select(func.count()).select_from(PostRow)).scalar_one()
        distinct = c.execute(select(func.count(func.distinct(PostRow.post_id)))).scalar_one()
        datasets = c.execute(select(DatasetRow.status, DatasetRow.stored)).all()
    engine.dispose()
    assert posts == distinct == len({p.post_id for p in sim.posts})
    assert [tuple(d) for d in datasets] == [("complete", posts)]
    assert list((tmp_path / "uploads").iterdir()) == []
