"""Load on the REST API: many concurrent clients on loopback hit the read routes (and lookup)
while an upload is being ingested and detected. Prints requests/s and p50/p99 latency per route.

    python bench/bench_api.py                          # builds a ~350k-tweet database first
    python bench/bench_api.py --db /tmp/cib-350k.db --clients 16 --seconds 40    # saturation
    python bench/bench_api.py --db /tmp/cib-350k.db --clients 16 --rate 30       # 30 requests/s
    python bench/bench_api.py --accounts 3000 --scale 1 --seconds 10    # a quick run

The server is `cib serve` in its own process (its worker in another); the clients are asyncio
httpx in this one. Latency is measured at the client, so it includes HTTP on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
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


def build(db: Path, accounts: int, scale: float, seed: int, folder: Path) -> None:
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(db: Path, port: int, folder: Path, cache: bool, workers: int) -> subprocess.Popen[bytes]:
    env = os.environ | {"CIB_CACHE_ENTRIES": "1024" if cache else "0",
                        "CIB_RATE_LIMIT": "1000000/minute", "CIB_UPLOAD_RATE_LIMIT": "1000/minute",
                        "CIB_UPLOAD_DIR": str(folder / "uploads"), "CIB_QUEUE_URL": str(folder / "queue.db")}
    server = subprocess.Popen([*CIB, "serve", "--db", str(db), "--port", str(port), "--log-level",
                               "warning", "--processes", str(workers)], env=env, start_new_session=True)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
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


async def client_loop(base: str, key: str, routes: Routes, seed: int, stop: Callable[[], bool],
                      latencies: dict[str, list[float]], statuses: dict[int, int]) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, headers={"X-API-Key": key}, timeout=30) as client:
        while not stop():
            name, method, path, options = routes.draw(rng)
            started = time.perf_counter()
            try:
                answer = await client.request(method, path, **options)
                status = answer.status_code
            except httpx.TransportError:
                status = 0
            latencies[name].append((time.perf_counter() - started) * 1000)
            statuses[status] += 1


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report(latencies: dict[str, list[float]], statuses: dict[int, int], seconds: float) -> None:
    everything = [v for values in latencies.values() for v in values]
    print(f"\n{'route':<10} {'requests':>9} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    for name, values in [*sorted(latencies.items()), ("ALL", everything)]:
        q = statistics.quantiles(values, n=100) if len(values) > 1 else values * 99
        print(f"{name:<10} {len(values):>9} {len(values) / seconds:>7.1f} {q[49]:>8.1f} {q[98]:>8.1f} "
              f"{max(values):>8.1f}")
    print("statuses:", dict(sorted(statuses.items())),
          "| 5xx:", sum(n for s, n in statuses.items() if s >= 500),
          "| transport errors:", statuses.get(0, 0))


async def open_loop(base: str, key: str, routes: Routes, clients: int, rate: float, seconds: float,
                    latencies: dict[str, list[float]], statuses: dict[int, int]) -> None:
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
            latencies[name].append((time.perf_counter() - arrived) * 1000)
            statuses[status] += 1

        tasks = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            tasks.append(asyncio.create_task(one(*routes.draw(rng))))
            await asyncio.sleep(rng.expovariate(rate))
        await asyncio.gather(*tasks)


async def load(base: str, key: str, routes: Routes, clients: int, seconds: float, rate: float) -> None:
    latencies: dict[str, list[float]] = defaultdict(list)
    statuses: dict[int, int] = defaultdict(int)
    started = time.perf_counter()
    if rate > 0:
        await open_loop(base, key, routes, clients, rate, seconds, latencies, statuses)
    else:
        deadline = time.monotonic() + seconds
        await asyncio.gather(*(client_loop(base, key, routes, i, lambda: time.monotonic() > deadline,
                                           latencies, statuses) for i in range(clients)))
    report(latencies, statuses, time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="an SQLite database to reuse (built if missing)")
    parser.add_argument("--accounts", type=int, default=20_000, help="organic accounts")
    parser.add_argument("--scale", type=float, default=10.0, help="with the defaults: ~340k posts")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=0,
                        help="requests/s arriving at random (open loop); 0: each client sends its "
                             "next request as soon as it has an answer (closed loop, saturation)")
    parser.add_argument("--no-upload", action="store_true", help="no upload during the load")
    parser.add_argument("--processes", type=int, default=2, help="API processes (cib serve --processes)")
    parser.add_argument("--no-cache", action="store_true",
                        help="serve every answer from the database (CIB_CACHE_ENTRIES=0)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cib-bench-api-"))
    db = args.db or folder / "cib.db"
    if not db.exists():
        build(db, args.accounts, args.scale, 11, folder)
    engine = open_database(str(db))
    print(f"database: {db} ({count_posts(engine):,} posts)")
    read_key = create_key(engine, "bench read", "read")[1]
    upload_key = create_key(engine, "bench upload", "upload")[1]
    engine.dispose()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(db, port, folder, not args.no_cache, args.processes)
    try:
        with httpx.Client(base_url=base, headers={"X-API-Key": read_key}, timeout=30) as client:
            routes = Routes(client)
            job = None
            if not args.no_upload:
                dump = upload_dump(folder, seed=int(time.time()) % 1000)
                answer = httpx.post(f"{base}/v1/datasets", content=dump.read_bytes(), timeout=120,
                                    params={"filename": dump.name},
                                    headers={"X-API-Key": upload_key, "Content-Type": "application/gzip"})
                job = answer.json()["id"]
                print(f"upload of {dump.stat().st_size:,} bytes: job {job} accepted")
            mode = f"open loop, {args.rate:g} requests/s" if args.rate else "closed loop"
            print(f"load: {args.clients} clients, {mode}, {args.seconds:g} s")
            server_cpu, client_cpu = cpu_seconds(server.pid), time.process_time()
            asyncio.run(load(base, read_key, routes, args.clients, args.seconds, args.rate))
            server_note = (f"server {cpu_seconds(server.pid) - server_cpu:.1f} s, "
                           if args.processes == 1 else "")
            print(f"CPU during the load: {server_note}load clients {time.process_time() - client_cpu:.1f} s")
            if job is not None:
                state = client.get(f"/v1/jobs/{job}").json()
                print(f"job {job} during the load: {state['state']}, stage {state['stage']}, "
                      f"{state['percent']:.0f}%, read {state['read']:,}")
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=120)


if __name__ == "__main__":
    main()
