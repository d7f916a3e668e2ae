"""Load on the REST API: many concurrent clients on loopback hit the read routes (and lookup)
while uploads arrive and are ingested and detected: small dumps, duplicates of them, and bad files
(wrong format, truncated gzip, oversize, empty) that must be refused with their 4xx. Prints, per
route and overall, requests/s, p50/p99 latency and answers by status class, then
`requests: N, 5xx: N, errors: N`; exits 1 if any answer was a 5xx or failed in transport.

    python bench/bench_api.py                          # builds a ~350k-tweet database first
    python bench/bench_api.py --db /tmp/cib-350k.db --clients 16 --seconds 40    # saturation
    python bench/bench_api.py --db /tmp/cib-350k.db --clients 16 --rate 30       # 30 requests/s
    python bench/bench_api.py --accounts 3000 --scale 1 --seconds 10    # a quick run
    python bench/bench_api.py --accounts 3000 --scale 1 --seconds 30 --requests 3000 \
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test   # on PostgreSQL

The server is `cib serve` in its own process (its worker in another); the clients are asyncio
httpx in this one. Latency is measured at the client, so it includes HTTP on loopback. The run is
bounded: it stops at `--seconds` or after `--requests` requests, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import io
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.dumps import write_dump
from detector.simulate import SimulationParams, simulate
from detector.store import open_database
from detector.store.keys import create_key
from detector.store.relations import count_posts

CIB = [sys.executable, "-m", "detector.cli"]


def build(db: str, accounts: int, scale: float, seed: int, folder: Path) -> None:
    """Simulate a month, ingest and detect (what a database has after a month of uploads)."""
    sim = simulate(SimulationParams(seed=seed, accounts=accounts, days=30, scale=scale))
    dump = folder / f"base-{seed}.jsonl.gz"
    with gzip.open(dump, "wt", encoding="utf-8") as out:
        write_dump("twarc2", sim.posts, out, sim.accounts)
    started = time.perf_counter()
    subprocess.run([*CIB, "ingest", str(dump), "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*CIB, "detect", "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
    print(f"built {db}: {len(sim.posts):,} posts in {time.perf_counter() - started:.0f} s")


def upload_dump(folder: Path, seed: int) -> Path:
    sim = simulate(SimulationParams(seed=seed, accounts=2000, days=7, start=datetime(2024, 6, 1, tzinfo=UTC)))
    path = folder / f"upload-{seed}.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        write_dump("twarc2", sim.posts, out, sim.accounts)
    return path


@dataclass(frozen=True)
class Upload:
    """One upload of the mixed load, and the statuses it must get."""

    kind: str
    name: str
    data: bytes
    expected: frozenset[int]
    format: str | None = None


def small_dump(seed: int) -> bytes:
    """A day of a few hundred accounts (~4k tweets, ~400 kB gzipped), new posts for each seed."""
    start = datetime(2024, 7, 1, tzinfo=UTC) + timedelta(days=seed % 300)
    sim = simulate(SimulationParams(seed=seed, accounts=200, days=1, start=start))
    out = io.BytesIO()
    with gzip.open(out, "wt", encoding="utf-8") as text:
        write_dump("twarc2", sim.posts, text, sim.accounts)
    return out.getvalue()


def upload_plan(count: int, max_bytes: int, seed: int) -> list[Upload]:
    """``count`` uploads, shuffled: a third good small dumps, then duplicates of them and bad files."""
    rng = random.Random(seed)
    good = [small_dump(seed + i) for i in range(max(1, count // 3))]
    accepted = frozenset({202})
    plan = [Upload("upload", f"small-{i}.jsonl.gz", data, accepted) for i, data in enumerate(good)]
    bad = [
        Upload("upload-duplicate", "again.jsonl.gz", rng.choice(good), accepted),
        Upload("upload-wrong-format", "photo.png",
               b"\x89PNG\r\n\x1a\n" + rng.randbytes(4096), frozenset({415})),
        Upload("upload-truncated", "cut.jsonl.gz", (d := rng.choice(good))[:len(d) // 2],
               frozenset({422})),
        Upload("upload-oversize", "huge.jsonl", b"x" * (max_bytes + 1), frozenset({413})),
        Upload("upload-empty", "empty.jsonl", b"", frozenset({422})),
        Upload("upload-garbage-as-v1", "noise.json", rng.randbytes(512), frozenset({422}), "v1"),
    ]
    plan += [bad[i % len(bad)] for i in range(count - len(plan))]
    rng.shuffle(plan)
    return plan


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: str, port: int, folder: Path, cache: bool, workers: int, max_upload: int,
                 queue_url: str | None) -> subprocess.Popen[bytes]:
    env = os.environ | {"CIB_CACHE_ENTRIES": "1024" if cache else "0",
                        "CIB_RATE_LIMIT": "1000000/minute", "CIB_UPLOAD_RATE_LIMIT": "1000/minute",
                        "CIB_MAX_UPLOAD_BYTES": str(max_upload), "CIB_UPLOAD_DIR": str(folder / "uploads"),
                        "CIB_QUEUE_URL": queue_url or str(folder / "queue.db")}
    server = subprocess.Popen([*CIB, "serve", "--db", db, "--port", str(port), "--log-level",
                               "warning", "--processes", str(workers)], env=env, start_new_session=True)
    deadline = time.monotonic() + 300  # a busy machine: the warm-up of each process takes a while
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    server.send_signal(signal.SIGINT)
    server.wait(timeout=120)
    raise SystemExit("cib serve did not start")


class Routes:
    """Requests drawn at random from what the database holds."""

    def __init__(self, client: httpx.Client) -> None:
        campaigns = client.get("/v1/campaigns", params={"limit": 500}).json()["items"]
        accounts = [a for offset in range(0, 5000, 500) for a in client.get(
            "/v1/accounts", params={"limit": 500, "offset": offset}).json()["items"]]
        self.campaigns = [c["campaign_id"] for c in campaigns]
        self.small = [c["campaign_id"] for c in campaigns if c["size"] <= 200] or self.campaigns
        self.accounts = [(a["platform"], a["account_id"]) for a in accounts]
        evidence = [e["text"] for c in self.campaigns[:60] for e in client.get(
            f"/v1/campaigns/{c}", params={"evidence_limit": 20}).json()["evidence"]["items"]]
        self.texts = sorted({t for t in evidence if len(t) > 20})
        self.texts += [f"An unseen sentence about local council budgets and bicycle lanes {i}"
                       for i in range(len(self.texts) // 4)]
        print(f"drawing from {len(self.campaigns)} campaigns, {len(self.accounts)} accounts, "
              f"{len(self.texts)} texts")

    def draw(self, rng: random.Random) -> tuple[str, str, str, dict[str, Any]]:
        """(route name, method, path, request options)"""
        kind = rng.choices(["campaigns", "campaign", "graph", "accounts", "account", "lookup",
                            "datasets", "jobs"], weights=[15, 20, 5, 15, 25, 15, 3, 2])[0]
        if kind == "campaigns":
            return kind, "GET", "/v1/campaigns", {"params": {
                "sort": rng.choice(["-score", "-size", "start"]), "offset": rng.randrange(0, 40)}}
        if kind == "campaign":
            return kind, "GET", f"/v1/campaigns/{rng.choice(self.campaigns)}", {}
        if kind == "graph":
            graph = f"/v1/campaigns/{rng.choice(self.small)}/graph"
            return kind, "GET", graph, {"params": {"format": "json"}}
        if kind == "accounts":
            return kind, "GET", "/v1/accounts", {"params": {"min_score": rng.choice([0, 0.3, 0.5, 0.8]),
                                                            "offset": rng.randrange(0, 500)}}
        if kind == "account":
            platform, account = rng.choice(self.accounts)
            return kind, "GET", f"/v1/accounts/{platform}/{account}", {}
        if kind == "lookup":
            return kind, "POST", "/v1/lookup", {"json": {"text": rng.choice(self.texts)}}
        return kind, "GET", f"/v1/{kind}", {}


@dataclass
class Tally:
    """Latency and answers per route, within a budget of requests and a deadline. Status 0 is a
    transport error; a 4xx that its request expects (a bad upload refused) is counted apart."""

    budget: int
    deadline: float
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    classes: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    statuses: Counter[int] = field(default_factory=Counter)
    keep: int = 0
    """Requests the readers leave to the uploaders."""
    readers_done: bool = False

    def take(self, keep: int = 0) -> bool:
        """Whether one more request may start (and count it), leaving ``keep`` for others."""
        if self.budget <= keep or time.monotonic() > self.deadline:
            return False
        self.budget -= 1
        return True

    def add(self, name: str, status: int, started: float, expected: frozenset[int] = frozenset()) -> None:
        self.latencies[name].append((time.perf_counter() - started) * 1000)
        self.statuses[status] += 1
        if status == 0:
            label = "errors"
        elif status in expected and status >= 400:
            label = "4xx expected"
        else:
            label = f"{status // 100}xx"
        self.classes[name][label] += 1
        if expected and status not in expected:
            self.classes[name]["unexpected"] += 1


async def timed(tally: Tally, name: str, call: Any, expected: frozenset[int] = frozenset()) -> Any:
    """Await ``call`` (an httpx request), count its answer; the response, or None on a transport error."""
    started = time.perf_counter()
    try:
        answer = await call
    except httpx.TransportError:
        tally.add(name, 0, started, expected)
        return None
    tally.add(name, answer.status_code, started, expected)
    return answer


async def client_loop(base: str, key: str, routes: Routes, seed: int, tally: Tally) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
        while tally.take(tally.keep):
            name, method, path, options = routes.draw(rng)
            await timed(tally, name, client.request(method, path, **options))


async def upload_loop(base: str, key: str, plan: list[Upload], gap: float, tally: Tally) -> list[int]:
    """Send ``plan`` one upload every ``gap`` seconds (raw bodies and multipart forms in turn),
    polling the jobs of those accepted between them; the accepted jobs."""
    jobs: list[int] = []
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=120) as client:
        for number, upload in enumerate(plan):
            if not tally.readers_done:  # spread over the load; once it is over, no need to wait
                await asyncio.sleep(gap)
            if not tally.take():
                break
            params = {"format": upload.format} if upload.format else {}
            if number % 2:
                request = client.post("/v1/datasets", files={"file": (upload.name, upload.data)},
                                      params=params)
            else:
                request = client.post("/v1/datasets", content=upload.data,
                                      params=params | {"filename": upload.name},
                                      headers={"Content-Type": "application/octet-stream"})
            answer = await timed(tally, upload.kind, request, upload.expected)
            if answer is not None and answer.status_code == 202:
                jobs.append(answer.json()["id"])
            for job in jobs[-2:]:
                if tally.take():
                    await timed(tally, "job", client.get(f"/v1/jobs/{job}"))
    return jobs


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


COLUMNS = ["2xx", "4xx", "4xx expected", "5xx", "errors", "unexpected"]


def report(tally: Tally, seconds: float) -> tuple[int, int, int]:
    """Print the table; (requests, 5xx, transport errors)."""
    everything = [v for values in tally.latencies.values() for v in values]
    total: Counter[str] = sum(tally.classes.values(), Counter())
    print(f"\n{'route':<20} {'requests':>8} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  "
          + " ".join(f"{c:>{max(4, len(c))}}" for c in COLUMNS))
    for name, values in [*sorted(tally.latencies.items()), ("ALL", everything)]:
        q = statistics.quantiles(values, n=100, method="inclusive") if len(values) > 1 else values * 99
        counts = total if name == "ALL" else tally.classes[name]
        print(f"{name:<20} {len(values):>8} {len(values) / seconds:>7.1f} {q[49]:>8.1f} {q[98]:>8.1f} "
              f"{max(values):>8.1f}  " + " ".join(f"{counts[c]:>{max(4, len(c))}}" for c in COLUMNS))
    print("statuses:", dict(sorted(tally.statuses.items())))
    return len(everything), total["5xx"], total["errors"]


async def open_loop(base: str, key: str, routes: Routes, clients: int, rate: float, tally: Tally) -> None:
    """Requests arrive at ``rate`` per second (Poisson), whatever the server's pace, over at most
    ``clients`` connections; latency counts from arrival, so waiting for a connection counts."""
    rng = random.Random(7)
    pool = asyncio.Semaphore(clients)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=30,
                                 limits=httpx.Limits(max_connections=clients)) as client:

        async def one(name: str, method: str, path: str, options: dict[str, Any]) -> None:
            arrived = time.perf_counter()
            async with pool:
                try:
                    status = (await client.request(method, path, **options)).status_code
                except httpx.TransportError:
                    status = 0
            tally.add(name, status, arrived)

        tasks = []
        while tally.take(tally.keep):
            tasks.append(asyncio.create_task(one(*routes.draw(rng))))
            await asyncio.sleep(rng.expovariate(rate))
        await asyncio.gather(*tasks)


async def load(base: str, keys: dict[str, str], routes: Routes, clients: int, rate: float,
               plan: list[Upload], tally: Tally) -> list[int]:
    """Readers and two uploaders at once, until the budget or the deadline; the accepted jobs."""
    halves = [plan[0::2], plan[1::2]]
    gap = (tally.deadline - time.monotonic()) / (len(halves[0]) + 1)
    readers = ([open_loop(base, keys["read"], routes, clients, rate, tally)] if rate > 0 else
               [client_loop(base, keys["read"], routes, i, tally) for i in range(clients)])
    uploaders = asyncio.gather(*(upload_loop(base, keys["upload"], half, gap, tally) for half in halves))
    tally.keep = 3 * len(plan)  # each upload, and two polls of jobs after it

    async def reading() -> None:
        await asyncio.gather(*readers)
        tally.readers_done = True

    _, jobs = await asyncio.gather(reading(), uploaders)
    return [job for accepted in jobs for job in accepted]


def finish_jobs(client: httpx.Client, jobs: list[int], timeout: float) -> None:
    """Wait for the uploads' jobs (at most ``timeout`` s) and print how they ended."""
    deadline = time.monotonic() + timeout
    ends: Counter[str] = Counter()
    for job in jobs:
        while True:
            state = client.get(f"/v1/jobs/{job}").json()
            if state["state"] in ("done", "failed") or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        reason = f" ({state['error_code']})" if state["error_code"] else ""
        ends[f"{state['state']}/{state['stage']}{reason}"] += 1
    print(f"upload jobs after the load: {dict(sorted(ends.items()))}")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an SQLite database to reuse (built if missing)")
    parser.add_argument("--database-url", help="a database URL instead (e.g. PostgreSQL; built if empty)")
    parser.add_argument("--queue-url", help="the job queue (default: an SQLite file; redis://... works)")
    parser.add_argument("--accounts", type=int, default=20_000, help="organic accounts")
    parser.add_argument("--scale", type=float, default=10.0, help="with the defaults: ~340k posts")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30, help="the load stops after this long...")
    parser.add_argument("--requests", type=int, default=100_000, help="...or after this many requests")
    parser.add_argument("--rate", type=float, default=0,
                        help="requests/s arriving at random (open loop); 0: each client sends its "
                             "next request as soon as it has an answer (closed loop, saturation)")
    parser.add_argument("--no-upload", action="store_true", help="no large upload during the load")
    parser.add_argument("--uploads", type=int, default=10,
                        help="small, duplicate and bad uploads during the load (0: none)")
    parser.add_argument("--max-upload-mb", type=int, default=32,
                        help="the server's upload limit (CIB_MAX_UPLOAD_BYTES); one upload exceeds it")
    parser.add_argument("--drain", type=float, default=120, help="seconds to wait for upload jobs after")
    parser.add_argument("--processes", type=int, default=2, help="API processes (cib serve --processes)")
    parser.add_argument("--no-cache", action="store_true",
                        help="serve every answer from the database (CIB_CACHE_ENTRIES=0)")
    return parser.parse_args()


def prepare(args: argparse.Namespace, folder: Path) -> tuple[str, dict[str, str]]:
    """The database (built if it has no posts) and a key per scope."""
    db = args.database_url or str(args.db or folder / "cib.db")
    engine = open_database(db)
    if count_posts(engine) == 0:
        build(db, args.accounts, args.scale, 11, folder)
    print(f"database: {engine.url.render_as_string(hide_password=True)} ({count_posts(engine):,} posts)")
    keys = {scope: create_key(engine, f"bench {scope}", scope)[1] for scope in ("read", "upload")}
    engine.dispose()
    return db, keys


def large_upload(base: str, key: str, folder: Path) -> int:
    """Upload a week of 2,000 accounts (~25k tweets), to be ingested and detected during the load."""
    dump = upload_dump(folder, seed=int(time.time()) % 1000)
    answer = httpx.post(f"{base}/v1/datasets", content=dump.read_bytes(), timeout=120,
                        params={"filename": dump.name},
                        headers={"X-API-Key": key, "Content-Type": "application/gzip"})
    answer.raise_for_status()
    job = int(answer.json()["id"])
    print(f"upload of {dump.stat().st_size:,} bytes: job {job} accepted")
    return job


def run(args: argparse.Namespace, base: str, keys: dict[str, str], server: subprocess.Popen[bytes],
        folder: Path) -> int:
    """The load; the exit status (1 if any answer was a 5xx or a transport error)."""
    plan = upload_plan(args.uploads, args.max_upload_mb << 20, seed=int(time.time()) % 100_000)
    with httpx.Client(base_url=base, headers={"X-API-Key": keys["read"]}, timeout=30) as client:
        routes = Routes(client)
        job = None if args.no_upload else large_upload(base, keys["upload"], folder)
        mode = f"open loop, {args.rate:g} requests/s" if args.rate else "closed loop"
        print(f"load: {args.clients} clients, {mode}, {args.uploads} uploads "
              f"({dict(Counter(u.kind for u in plan))}), at most {args.seconds:g} s "
              f"and {args.requests:,} requests")
        server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
        tally = Tally(args.requests, time.monotonic() + args.seconds)
        started = time.perf_counter()
        jobs = asyncio.run(load(base, keys, routes, args.clients, args.rate, plan, tally))
        seconds = time.perf_counter() - started
        server_note = (f"server {cpu_seconds(server.pid) - server_cpu:.1f} s, "
                       if args.processes == 1 else "")
        print(f"CPU during the load: {server_note}load clients {time.process_time() - client_cpu:.1f} s")
        if job is not None:
            state = client.get(f"/v1/jobs/{job}").json()
            print(f"job {job} during the load: {state['state']}, stage {state['stage']}, "
                  f"{state['percent']:.0f}%, read {state['read']:,}")
        finish_jobs(client, jobs, args.drain)
    requests, server_errors, errors = report(tally, seconds)
    unexpected = sum(c["unexpected"] for c in tally.classes.values())
    print(f"uploads answered otherwise than expected: {unexpected}")
    print(f"requests: {requests}, 5xx: {server_errors}, errors: {errors}")
    return 1 if server_errors or errors else 0


def main() -> int:
    args = arguments()
    folder = Path(tempfile.mkdtemp(prefix="cib-bench-api-"))
    db, keys = prepare(args, folder)
    port = free_port()
    server = start_server(db, port, folder, not args.no_cache, args.processes, args.max_upload_mb << 20,
                          args.queue_url)
    try:
        return run(args, f"http://127.0.0.1:{port}", keys, server, folder)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=120)


if __name__ == "__main__":
    sys.exit(main())
