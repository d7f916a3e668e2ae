"""Crash safety: SIGKILL `cib ingest`, `cib detect` and `cib worker` at random points, restart
them, and check the database with SQL.

    python bench/crash.py --runs 20 --backend both --seed 0
    python bench/crash.py --runs 6 --backend postgres --postgres postgresql+psycopg://postgres@127.0.0.1/test

Each run copies a prepared database, starts one target in its own process group, kills the group
with SIGKILL once the target used a share of the CPU time a clean run of it used past the
interpreter's start-up (both measured first; CPU time hardly depends on the machine's other load;
early, middle and late bands, the last reaching into the final commit and just past the end),
checks the database as the kill left it,
restarts the same command (or worker) until it completes, and checks again:

- a ``complete`` dataset owns exactly the posts its counts say; after the restart every dataset is
  complete and the datasets and posts equal those of a clean ingest of the same files;
- no post is stored twice;
- an upload that got 202 is never lost: its job ends ``done``, its dataset complete, its file gone;
- every detection run is whole, either the old run or the new one (campaigns, members, scores,
  evidence and ties equal those of a clean run on the same data), and the newest is the new one.

It prints one line per run and a summary (runs, by target, failures) and exits 1 on a failure.
The dumps are simulated (two overlapping files, a tenth of the first repeated in the second).
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from detector.dumps import write_dump
from detector.load import ingest_file
from detector.pipeline import run_detection
from detector.simulate import SimulationParams, simulate
from detector.store import make_engine, migrate

CIB = [sys.executable, "-m", "detector.cli"]
TARGETS = ("ingest", "detect", "worker")
BANDS = {"early": (0.02, 0.35), "middle": (0.35, 0.7), "late": (0.7, 1.02)}
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
LEASE_S = "10"
RESTART_TIMEOUT_S = 300.0
Say = Callable[[str], None]


# --- the dumps ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dumps:
    first: Path
    second: Path        # repeats a tenth of ``first``: duplicates to skip
    posts: int          # distinct posts in both


def make_dumps(folder: Path, accounts: int, seed: int) -> Dumps:
    a = simulate(SimulationParams(seed=2 * seed + 1, accounts=accounts, days=3))
    b = simulate(SimulationParams(seed=2 * seed + 2, accounts=accounts, days=3))
    repeated = a.posts[: len(a.posts) // 10]
    files = (folder / "first.jsonl.gz", folder / "second.jsonl.gz")
    for path, posts, users in ((files[0], a.posts, a.accounts),
                               (files[1], b.posts + repeated, b.accounts | a.accounts)):
        with gzip.open(path, "wt", encoding="utf-8") as out:
            write_dump("twarc2", posts, out, users)
    distinct = {(p.platform, p.post_id) for p in a.posts + b.posts}
    return Dumps(files[0], files[1], len(distinct))


# --- scratch databases --------------------------------------------------------------------------

class SqliteFiles:
    """Databases as files in ``folder``; a copy of a template is a file copy."""

    name = "sqlite"

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def create(self, template: str | None = None) -> str:
        path = self.folder / f"{uuid.uuid4().hex[:10]}.db"
        if template:
            shutil.copyfile(make_url(template).database or "", path)
        return f"sqlite:///{path}"

    def seal(self, url: str) -> None:
        """Fold the WAL into the main file, so that copying the file copies everything."""
        with sqlite3.connect(make_url(url).database or "") as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def drop(self, url: str) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{make_url(url).database}{suffix}").unlink(missing_ok=True)

    def close(self) -> None:
        pass


class PostgresDatabases:
    """Scratch databases ``cib_crash_*`` on one server, copied with CREATE DATABASE ... TEMPLATE;
    only the databases made here are dropped."""

    name = "postgres"

    def __init__(self, base: str) -> None:
        self.base = make_url(base)
        self.admin = create_engine(self.base, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []

    def create(self, template: str | None = None) -> str:
        name = f"cib_crash_{uuid.uuid4().hex[:12]}"
        source = f' TEMPLATE "{make_url(template).database}"' if template else ""
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"{source}'))
        self.made.append(name)
        return self.base.set(database=name).render_as_string(hide_password=False)

    def seal(self, url: str) -> None:
        pass

    def drop(self, url: str) -> None:
        name = make_url(url).database
        if name in self.made:
            with self.admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            with self.admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


Databases = SqliteFiles | PostgresDatabases


@contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


# --- what the database holds, read with SQL -----------------------------------------------------

@dataclass(frozen=True)
class Fingerprint:
    """A detection run's stored rows, in a form two runs can be compared by."""

    campaigns: tuple[tuple[str, str, int, int, float], ...]
    members: frozenset[tuple[str, str, str]]
    scores: frozenset[tuple[str, str, float, bool, str | None]]
    evidence: int
    ties: int

    def summary(self) -> str:
        return (f"{len(self.campaigns)} campaigns, {len(self.members)} members, "
                f"{len(self.scores)} scores")


@dataclass(frozen=True)
class State:
    datasets: tuple[tuple[str, str, int, int, int, int], ...]  # name, status, read, stored, dup, rej
    owned: dict[str, int]            # dataset name -> rows in posts that name it
    posts: int
    distinct: int
    detections: tuple[tuple[int, Fingerprint], ...]
    jobs: tuple[dict[str, Any], ...]
    unindexed: int                   # posts past the text-lookup index's watermark
    indexed: int                     # posts with rows in the text-lookup index

    def summary(self) -> str:
        statuses = Counter(d[1] for d in self.datasets)
        shown = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "no dataset"
        return f"{shown}; {self.posts} posts; {len(self.detections)} detections"


def _rows(engine: Engine, sql: str, **params: Any) -> list[Any]:
    with engine.connect() as c:
        return list(c.execute(text(sql), params))


def fingerprint(engine: Engine, detection_id: int) -> Fingerprint:
    d = {"d": detection_id}
    campaigns = _rows(engine, "SELECT campaign_id, kind, rank, size, score FROM campaigns "
                      "WHERE detection_id = :d ORDER BY rank", **d)
    members = _rows(engine, "SELECT campaign_id, platform, account_id FROM campaign_members "
                    "WHERE detection_id = :d", **d)
    scores = _rows(engine, "SELECT platform, account_id, score, flagged, campaign_id "
                   "FROM account_scores WHERE detection_id = :d", **d)
    evidence = _rows(engine, "SELECT count(*) FROM evidence WHERE detection_id = :d", **d)[0][0]
    ties = _rows(engine, "SELECT count(*) FROM ties WHERE detection_id = :d", **d)[0][0]
    return Fingerprint(
        tuple((r.campaign_id, r.kind, r.rank, r.size, round(r.score, 9)) for r in campaigns),
        frozenset((r.campaign_id, r.platform, r.account_id) for r in members),
        frozenset((r.platform, r.account_id, round(r.score, 9), bool(r.flagged), r.campaign_id)
                  for r in scores),
        int(evidence), int(ties))


def read_state(url: str) -> State:
    with engine_for(url) as engine:
        datasets = _rows(engine, 'SELECT id, name, status, "read", stored, duplicates, rejected '
                         "FROM datasets ORDER BY id")
        owned = dict(_rows(engine, "SELECT dataset_id, count(*) FROM posts GROUP BY dataset_id"))
        posts, distinct = _rows(engine, "SELECT (SELECT count(*) FROM posts), (SELECT count(*) "
                                "FROM (SELECT DISTINCT platform, post_id FROM posts) AS d)")[0]
        detections = [r[0] for r in _rows(engine, "SELECT id FROM detections ORDER BY id")]
        jobs = _rows(engine, "SELECT id, state, stage, attempts, dataset_id, detection_id, path "
                     "FROM jobs ORDER BY id")
        unindexed, indexed = _rows(engine, "SELECT (SELECT count(*) FROM posts WHERE id > (SELECT "
                                   "coalesce(max(last_post_ref), 0) FROM lookup_state)), "
                                   "(SELECT count(*) FROM lookup_texts)")[0]
        return State(tuple((d.name, d.status, d.read, d.stored, d.duplicates, d.rejected)
                           for d in datasets),
                     {d.name: int(owned.get(d.id, 0)) for d in datasets}, int(posts),
                     int(distinct), tuple((i, fingerprint(engine, i)) for i in detections),
                     tuple(dict(j._mapping) for j in jobs), int(unindexed), int(indexed))


def sqlite_lock_free(url: str) -> bool:
    """A killed writer must not leave the file locked: take the write lock at once, or fail."""
    path = make_url(url).database
    if not url.startswith("sqlite") or not path:
        return True
    connection = sqlite3.connect(path, timeout=5, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()


# --- checks -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    """What clean runs stored: the datasets after ingesting both files, the posts in the
    text-lookup index after that ingest (none: detections index) and after the new detection,
    the old and new detection."""

    datasets: tuple[tuple[str, str, int, int, int, int], ...]
    posts: int
    ingest_indexed: int
    indexed: int
    old: Fingerprint
    new: Fingerprint


def check_anytime(state: State, ref: Reference) -> list[str]:
    """What must hold at every instant, even right after a SIGKILL."""
    problems = []
    for name, status, read, stored, duplicates, rejected in state.datasets:
        if status == "complete" and stored != state.owned[name]:
            problems.append(f"dataset {name} complete with {state.owned[name]} posts, "
                            f"its counts say {stored}")
        if status == "complete" and read != stored + duplicates + rejected:
            problems.append(f"dataset {name} complete but read {read} != stored + duplicates "
                            f"+ rejected ({stored} + {duplicates} + {rejected})")
    if state.posts != state.distinct:
        problems.append(f"{state.posts - state.distinct} duplicate posts")
    for detection_id, found in state.detections:
        if found not in (ref.old, ref.new):
            problems.append(f"detection {detection_id} is neither the old run nor the new one "
                            f"({found.summary()}; new: {ref.new.summary()})")
    return problems


def check_final(state: State, ref: Reference, target: str) -> list[str]:
    """What must hold once the restarted target completed."""
    problems = check_anytime(state, ref)
    if state.datasets != ref.datasets:
        problems.append(f"datasets {state.datasets} differ from a clean ingest's {ref.datasets}")
    if state.posts != ref.posts:
        problems.append(f"{state.posts} posts, a clean ingest stores {ref.posts}")
    if target != "ingest" and (not state.detections or state.detections[-1][1] != ref.new):
        problems.append("the newest detection is not the new run")
    if target == "ingest" and state.indexed != ref.ingest_indexed:
        problems.append(f"the text-lookup index has {state.indexed} posts, a clean ingest's "
                        f"{ref.ingest_indexed}")
    if target != "ingest" and (state.unindexed or state.indexed != ref.indexed):
        problems.append(f"the text-lookup index has {state.indexed} posts ({state.unindexed} past "
                        f"its watermark), a clean detection's {ref.indexed}")
    for job in state.jobs:
        if job["state"] != "done" or not job["detection_id"]:
            problems.append(f"job {job['id']} ended {job['state']} at stage {job['stage']} "
                            f"with detection {job['detection_id']}")
        if job["path"] and Path(job["path"]).exists():
            problems.append(f"job {job['id']}'s upload is still on disk")
    return problems


# --- processes ----------------------------------------------------------------------------------

def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with suppress(ProcessLookupError):   # the group already ended
        os.killpg(process.pid, sig)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ctrl-C a worker between jobs (it finishes the current one), SIGKILL if it hangs."""
    kill_group(process, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        kill_group(process)
        process.wait(timeout=10)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a live process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_to_end(command: list[str], env: dict[str, str], log: Path,
               working: Callable[[], bool] | None = None) -> tuple[float, float]:
    """Run ``command`` to its end (it must exit 0): the CPU seconds it used, and those it had
    used when ``working()`` first held (0 without ``working``)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = start(command, env, log)
    deadline, at_work = time.monotonic() + RESTART_TIMEOUT_S, 0.0
    try:
        while process.poll() is None:
            if working is not None and not at_work:
                with suppress(OSError):
                    cpu = cpu_seconds(process.pid)   # read first: the work began after it
                    at_work = cpu if working() else 0.0
            if time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(command[2:4])} still runs after {RESTART_TIMEOUT_S} s")
            time.sleep(0.01)
    finally:
        if process.poll() is None:
            kill_group(process)
            process.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[2:4])} exited {process.returncode}; see {log}")
    return after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, at_work


def kill_at_cpu(process: subprocess.Popen[bytes], cpu: float, timeout: float,
                finished: Callable[[], bool] = lambda: False) -> bool:
    """SIGKILL the process group once the process used ``cpu`` seconds of CPU, or its work is
    ``finished()`` (a worker idles on), or after ``timeout``; False when it ended by itself first.
    CPU time, unlike wall time, hardly depends on what else the machine runs, so the kill lands
    where it was aimed."""
    deadline, polls = time.monotonic() + timeout, 0
    while process.poll() is None:
        polls += 1
        with suppress(OSError):   # it may end between the two calls
            if (cpu_seconds(process.pid) >= cpu or time.monotonic() > deadline
                    or (polls % 20 == 0 and finished())):   # a query every 0.1 s
                kill_group(process)
                process.wait()
                return True
        time.sleep(0.005)
    return False


# --- one backend: templates, references, runs ---------------------------------------------------

@dataclass
class Bench:
    dbs: Databases
    dumps: Dumps
    folder: Path
    templates: dict[str, str] = field(default_factory=dict)
    cpu_used: dict[str, float] = field(default_factory=dict)   # CPU seconds of clean runs
    reference: Reference | None = None


def env_for(folder: Path) -> dict[str, str]:
    return os.environ | {"CIB_MODEL": "rule", "CIB_QUEUE_URL": str(folder / "queue.db"),
                         "CIB_UPLOAD_DIR": str(folder / "uploads"),
                         "CIB_JOB_LEASE_SECONDS": LEASE_S}


def command_for(target: str, url: str, dumps: Dumps) -> list[str]:
    if target == "ingest":   # small batches: a kill lands between them, in a dataset half stored
        return [*CIB, "ingest", str(dumps.first), str(dumps.second), "--batch-size", "1000",
                "--db", url]
    if target == "detect":
        return [*CIB, "detect", "--rule", "--db", url]
    return [*CIB, "worker", "--db", url]


def upload(url: str, folder: Path, dump: Path) -> int:
    """Upload ``dump`` through the API's own route (in this process, no worker): 202 and a job."""
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings
    from detector.store.keys import create_key

    app = create_app(Settings.from_env(env_for(folder), database_url=url))
    try:
        _, key = create_key(app.state.engine, "crash test", "upload")
        answer = TestClient(app).post("/v1/datasets", content=dump.read_bytes(),
                                      params={"filename": dump.name},
                                      headers={"X-API-Key": key, "Content-Type": "application/gzip"})
    finally:
        app.state.engine.dispose()
    if answer.status_code != 202:
        raise RuntimeError(f"upload answered {answer.status_code}: {answer.text}")
    return int(answer.json()["id"])


def job_state(url: str, job_id: int) -> str:
    with engine_for(url) as engine:
        return str(_rows(engine, "SELECT state FROM jobs WHERE id = :j", j=job_id)[0][0])


def wait_for_job(url: str, job_id: int, folder: Path, timeout: float,
                 worker: subprocess.Popen[bytes]) -> tuple[float, float]:
    """Wait until the job is finished and its upload removed: the CPU seconds the worker used,
    and those it had used when it took the job."""
    began, at_work = time.monotonic(), 0.0
    with engine_for(url) as engine:
        while True:
            cpu = cpu_seconds(worker.pid)
            state = _rows(engine, "SELECT state FROM jobs WHERE id = :j", j=job_id)[0][0]
            at_work = at_work or (cpu if state != "queued" else 0.0)
            if state in ("done", "failed") and not any(p.is_file() for p in (folder / "uploads").rglob("*")):
                return cpu_seconds(worker.pid), at_work
            if time.monotonic() - began > timeout:
                raise RuntimeError(f"job {job_id} still {state} after {timeout:.0f} s")
            time.sleep(0.05)


def prepare(dbs: Databases, dumps: Dumps, folder: Path, say: Say) -> Bench:
    """Templates (empty; first file and a detection; both files) and clean runs of each target."""
    bench = Bench(dbs, dumps, folder)
    folder.mkdir(parents=True, exist_ok=True)
    empty = dbs.create()
    with engine_for(empty) as engine:
        migrate(engine)
    dbs.seal(empty)
    before_upload = dbs.create(empty)
    with engine_for(before_upload) as engine:
        ingest_file(engine, dumps.first)
        run_detection(engine)
    dbs.seal(before_upload)
    before_detect = dbs.create(before_upload)
    with engine_for(before_detect) as engine:
        ingest_file(engine, dumps.second)
    dbs.seal(before_detect)
    bench.templates = {"ingest": empty, "detect": before_detect, "worker": before_upload}
    old = read_state(before_upload).detections[-1][1]

    clean = folder / "clean"
    clean.mkdir()
    ingested = dbs.create(empty)
    # kills are drawn across the work, after the interpreter's start-up and imports: up to the
    # first dataset row for ingest, the job's claim for the worker, `cib stats` for detect
    with engine_for(ingested) as engine:
        def ingesting() -> bool:
            return bool(_rows(engine, "SELECT count(*) FROM datasets")[0][0])

        bench.cpu_used["ingest"], bench.cpu_used["ingest-start"] = run_to_end(
            command_for("ingest", ingested, dumps), env_for(clean), clean / "ingest.log", ingesting)
    bench.cpu_used["detect-start"], _ = run_to_end([*CIB, "stats", "--db", empty], env_for(clean),
                                                   clean / "stats.log")
    detected = dbs.create(before_detect)
    bench.cpu_used["detect"], _ = run_to_end(command_for("detect", detected, dumps),
                                             env_for(clean), clean / "detect.log")
    after_ingest, after_detect = read_state(ingested), read_state(detected)
    bench.reference = Reference(after_ingest.datasets, after_ingest.posts, after_ingest.indexed,
                                after_detect.indexed, old, after_detect.detections[-1][1])
    problems = check_final(after_ingest, bench.reference, "ingest")
    problems += check_final(after_detect, bench.reference, "detect")
    if after_ingest.posts != dumps.posts or old == bench.reference.new:
        problems.append(f"clean ingest stored {after_ingest.posts} of {dumps.posts} posts")
    worked = dbs.create(before_upload)
    job = upload(worked, clean, dumps.second)
    worker = start(command_for("worker", worked, dumps), env_for(clean), clean / "worker.log")
    try:
        bench.cpu_used["worker"], bench.cpu_used["worker-start"] = wait_for_job(
            worked, job, clean, RESTART_TIMEOUT_S, worker)
    finally:
        stop(worker)
    problems += check_final(read_state(worked), bench.reference, "worker")
    if problems:
        raise RuntimeError(f"{dbs.name}: the clean runs disagree: {problems}")
    for url in (ingested, detected, worked):
        dbs.drop(url)
    used = bench.cpu_used
    say(f"{dbs.name}: clean runs, CPU seconds (of which start-up): ingest {used['ingest']:.1f} "
        f"({used['ingest-start']:.1f}; {after_ingest.posts} posts), detect {used['detect']:.1f} "
        f"({used['detect-start']:.1f}; {bench.reference.new.summary()}), worker "
        f"{used['worker']:.1f} ({used['worker-start']:.1f}; to the job done)")
    return bench


@dataclass(frozen=True)
class Outcome:
    backend: str
    target: str
    band: str
    kill_at: float      # wall seconds after the start
    cpu: float          # CPU seconds the target had used
    fraction: float     # of its work, past the start-up
    found: str
    problems: tuple[str, ...]

    def line(self) -> str:
        verdict = "ok" if not self.problems else "FAIL: " + "; ".join(self.problems)
        return (f"{self.backend:<8} {self.target:<6} killed at {self.kill_at:5.2f} s, CPU "
                f"{self.cpu:5.2f} s ({self.band} {self.fraction:4.0%}): {self.found} -> {verdict}")


def crash_run(bench: Bench, target: str, band: str, rng: random.Random, number: int) -> Outcome:
    """Copy the target's template, start it, SIGKILL it, check, restart it to the end, check."""
    assert bench.reference is not None
    ref = bench.reference
    folder = bench.folder / f"run-{number:03d}-{target}"
    folder.mkdir()
    url = bench.dbs.create(bench.templates[target])
    env, log = env_for(folder), folder / f"{target}.log"
    job = upload(url, folder, bench.dumps.second) if target == "worker" else None
    fraction = rng.uniform(*BANDS[band])
    startup = min(bench.cpu_used[f"{target}-start"], 0.9 * bench.cpu_used[target])
    cpu = startup + fraction * (bench.cpu_used[target] - startup)
    process = start(command_for(target, url, bench.dumps), env, log)
    began = time.monotonic()
    try:
        if job is None:
            killed_it = kill_at_cpu(process, cpu, RESTART_TIMEOUT_S)
        else:
            with engine_for(url) as engine:
                killed_it = kill_at_cpu(process, cpu, RESTART_TIMEOUT_S, lambda: _rows(
                    engine, "SELECT state FROM jobs WHERE id = :j", j=job)[0][0] == "done")
    finally:
        kill_group(process)   # when interrupted: no target left running
    kill_at = time.monotonic() - began
    killed = read_state(url)
    problems = [f"after the kill: {p}" for p in check_anytime(killed, ref)]
    if not sqlite_lock_free(url):
        problems.append("after the kill: the SQLite file stays locked")
    if job is not None:
        problems += lost_upload(killed, job)
    found = ("" if killed_it else "ended before the kill, ") + killed.summary()
    if killed.detections and target != "ingest":
        found += " (newest " + ("new" if killed.detections[-1][1] == ref.new else "old") + ")"
    restarted = time.monotonic()
    try:
        if job is None:
            run_to_end(command_for(target, url, bench.dumps), env, log)
        else:
            worker = start(command_for(target, url, bench.dumps), env, log)
            try:
                wait_for_job(url, job, folder, RESTART_TIMEOUT_S, worker)
            finally:
                stop(worker)
    except RuntimeError as exc:
        problems.append(f"the restart failed: {exc}")
    final = read_state(url)
    problems += check_final(final, ref, target)
    found += f"; restarted ({time.monotonic() - restarted:.1f} s): {final.summary()}"
    if final.jobs:
        found += f", job {final.jobs[0]['state']} after {final.jobs[0]['attempts']} attempts"
    if not problems:
        bench.dbs.drop(url)
        shutil.rmtree(folder, ignore_errors=True)
    return Outcome(bench.dbs.name, target, band, kill_at, cpu, fraction, found, tuple(problems))


def lost_upload(state: State, job_id: int) -> list[str]:
    """An accepted upload's file stays until its job is done."""
    job = next((j for j in state.jobs if j["id"] == job_id), None)
    if job is None:
        return [f"after the kill: job {job_id} is gone"]
    if job["state"] != "done" and not (job["path"] and Path(job["path"]).exists()):
        return [f"after the kill: job {job_id} is {job['state']} and its upload is gone"]
    return []


def plan(runs: int, rng: random.Random) -> list[tuple[str, str]]:
    """Targets and kill bands: every three runs cover the three targets and the three bands."""
    chosen: list[tuple[str, str]] = []
    while len(chosen) < runs:
        targets, bands = list(TARGETS), list(BANDS)
        rng.shuffle(targets)
        rng.shuffle(bands)
        chosen.extend(zip(targets, bands, strict=True))
    return chosen[:runs]


@contextmanager
def databases(backend: str, folder: Path, postgres_url: str) -> Iterator[Databases]:
    dbs: Databases = (SqliteFiles(folder / "databases") if backend == "sqlite"
                      else PostgresDatabases(postgres_url))
    try:
        yield dbs
    finally:
        dbs.close()


def crash_backend(backend: str, runs: int, seed: int, folder: Path, *, accounts: int = 600,
                  postgres_url: str = DEFAULT_POSTGRES, say: Say = print) -> list[Outcome]:
    """Prepare ``backend``, then ``runs`` crash runs; each outcome is printed as it ends."""
    rng = random.Random(f"{seed}-{backend}")
    folder.mkdir(parents=True, exist_ok=True)
    dumps = make_dumps(folder, accounts, seed)
    outcomes = []
    with databases(backend, folder, postgres_url) as dbs:
        bench = prepare(dbs, dumps, folder / "runs", say)
        for number, (target, band) in enumerate(plan(runs, rng), start=1):
            outcome = crash_run(bench, target, band, rng, number)
            say(outcome.line())
            outcomes.append(outcome)
    return outcomes


def summary(outcomes: list[Outcome], seconds: float) -> str:
    by_target = Counter(o.target for o in outcomes)
    by_band = Counter(o.band for o in outcomes)
    failures = sum(1 for o in outcomes if o.problems)
    lines = [f"runs: {len(outcomes)} ("
             + ", ".join(f"{b} {n}" for b, n in sorted(Counter(o.backend for o in outcomes).items()))
             + ")",
             "by target: " + ", ".join(f"{t} {by_target[t]}" for t in TARGETS),
             "by kill band: " + ", ".join(f"{b} {by_band[b]}" for b in BANDS),
             f"failures: {failures}", f"total time: {seconds:.0f} s"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="crash runs per backend (default 20)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--accounts", type=int, default=600,
                        help="organic accounts per simulated dump (default 600: ~11k posts each)")
    parser.add_argument("--postgres", default=os.environ.get("CIB_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
                        help="a server where scratch databases cib_crash_* may be made and dropped")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    began = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix="cib-crash-"))
    outcomes: list[Outcome] = []
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        outcomes += crash_backend(backend, args.runs, args.seed, folder / backend,
                                  accounts=args.accounts, postgres_url=args.postgres)
    print(summary(outcomes, time.monotonic() - began))
    failed = any(o.problems for o in outcomes)
    if failed or args.keep:
        print(f"work folder kept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
