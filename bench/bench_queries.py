"""Latency of the API's read queries (detector/store/queries.py) on a simulated ~390k-post SQLite db.

    python bench/bench_queries.py                      # build a ~390k-post db in a temporary folder
    python bench/bench_queries.py --db /tmp/sim.db     # build it there once, reuse it afterwards
    python bench/bench_queries.py --db /tmp/sim.db --plans   # also print each query's plan

Each query function runs ``--runs`` times with varied arguments (accounts, campaigns, filters,
sorts, pages) against the latest detection; it prints wall p50 and p99 in milliseconds, and the
CPU p99 (process time), which other processes on a busy machine do not inflate. ``--plans``
prints SQLite's EXPLAIN QUERY PLAN of every statement a function sends and marks full scans.
"""

from __future__ import annotations

import argparse
import gzip
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, event, text

from detector.dumps import write_dump
from detector.simulate import SimulationParams, simulate
from detector.store import open_database
from detector.store.detections import latest_detection
from detector.store.queries import (
    account_detail,
    campaign_detail,
    campaign_graph,
    get_dataset,
    list_accounts,
    list_campaigns,
    list_datasets,
)

Call = Callable[[random.Random], Any]


def build(db: Path, args: argparse.Namespace) -> None:
    """Simulate a dump, then ``cib ingest`` and ``cib detect`` it into ``db``."""
    sim = simulate(SimulationParams(seed=args.seed, accounts=args.accounts, days=args.days, scale=args.scale))
    dump = db.with_suffix(".jsonl.gz")
    with gzip.open(dump, "wt", encoding="utf-8", newline="") as out:
        write_dump("twarc2", sim.posts, out, sim.accounts)
    print(f"simulated {len(sim.posts)} posts by {len(sim.accounts)} accounts", flush=True)
    cib = [sys.executable, "-m", "detector.cli"]
    subprocess.run([*cib, "ingest", str(dump), "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*cib, "detect", "--db", str(db)], check=True, stdout=subprocess.DEVNULL)
    dump.unlink()


def targets(engine: Engine, detection_id: int) -> tuple[list[tuple[str, str]], list[str]]:
    """Some scored accounts, some accounts without a score, and every campaign id of the run."""
    with engine.connect() as c:
        scored = c.execute(text("SELECT platform, account_id FROM account_scores WHERE detection_id = :d "
                                "ORDER BY random() LIMIT 300"), {"d": detection_id}).all()
        plain = c.execute(text("SELECT platform, account_id FROM accounts ORDER BY random() LIMIT 100")).all()
        campaigns = c.execute(text("SELECT campaign_id FROM campaigns WHERE detection_id = :d"),
                              {"d": detection_id}).scalars().all()
    return [(p, a) for p, a in [*scored, *plain]], list(campaigns)


def calls(engine: Engine, detection_id: int) -> dict[str, Call]:
    accounts, campaigns = targets(engine, detection_id)
    d = detection_id

    def page(rng: random.Random) -> dict[str, int]:
        return {"limit": rng.choice((10, 50, 100)), "offset": rng.choice((0, 0, 50, 500, 2000))}

    return {
        "list_accounts": lambda r: list_accounts(
            engine, d, sort=r.choice(("-score", "score", "account_id")), **page(r),
            **r.choice(({}, {"flagged": True}, {"flagged": False}, {"min_score": 0.9},
                        {"campaign": r.choice(campaigns)}))),
        "account_detail": lambda r: account_detail(engine, d, *r.choice(accounts)),
        "list_campaigns": lambda r: list_campaigns(
            engine, d, sort=r.choice(("-score", "size", "-start", "rank")), **page(r),
            **r.choice(({}, {"signal": "repost"}, {"kind": "relay"}, {"min_size": 20},
                        {"min_score": 0.95}))),
        "campaign_detail": lambda r: campaign_detail(
            engine, d, r.choice(campaigns), bucket=r.choice((None, "minute", "hour")),
            evidence_offset=r.choice((0, 100)), members_offset=r.choice((0, 20))),
        "campaign_graph": lambda r: campaign_graph(engine, d, r.choice(campaigns)),
        "list_datasets": lambda r: list_datasets(engine, limit=20),
        "get_dataset": lambda r: get_dataset(engine, 1),
    }


def time_call(call: Call, runs: int, seed: int) -> tuple[float, float, float]:
    """Wall p50 and p99, and CPU p99 (the same work, less what other processes took), in ms."""
    rng = random.Random(seed)
    call(rng)  # warm the statement cache and the page cache
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        call(rng)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return (statistics.median(wall), statistics.quantiles(wall, n=100)[98],
            statistics.quantiles(cpu, n=100)[98])


def full_scan(detail: str) -> bool:
    """A plan step that reads a whole table: not a subquery's rows, nor ``datasets`` (one row a
    file, read in id order)."""
    return (detail.startswith("SCAN") and "INDEX" not in detail
            and not detail.startswith(("SCAN anon_", "SCAN (subquery", "SCAN datasets")))


def print_plans(engine: Engine, name: str, call: Call) -> None:
    """EXPLAIN QUERY PLAN of every statement one call sends; ``!!`` marks a full table scan."""
    sent: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        call(random.Random(1))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    print(f"\n{name}")
    with engine.connect() as c:
        for statement, parameters in sent:
            print("  " + " ".join(statement.split())[:150])
            for row in c.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters):
                print(f"    {'!! ' if full_scan(row[-1]) else ''}{row[-1]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="SQLite file: built if missing, reused if present")
    parser.add_argument("--accounts", type=int, default=22000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=12.0, help="with the defaults: ~390k posts")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--plans", action="store_true", help="print every statement's query plan")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "sim.db"
        if not db.exists():
            build(db, args)
        engine = open_database(str(db))
        detection = latest_detection(engine)
        assert detection is not None, "the database has no detection; delete it to rebuild"
        with engine.connect() as c:
            posts = c.execute(text("SELECT count(*) FROM posts")).scalar_one()
        print(f"{db}: {posts} posts, detection {detection.id}, {args.runs} runs per query")
        for name, call in calls(engine, detection.id).items():
            if args.plans:
                print_plans(engine, name, call)
            p50, p99, cpu99 = time_call(call, args.runs, args.seed)
            print(f"{name:16} p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   (CPU p99 {cpu99:6.2f} ms)",
                  flush=True)
        engine.dispose()


if __name__ == "__main__":
    main()
