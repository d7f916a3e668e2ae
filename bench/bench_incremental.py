"""Incremental re-detection against a full rerun after adding a later slice of posts.

    python bench/bench_incremental.py                    # 3,000,000 posts + 10,000 new
    python bench/bench_incremental.py --posts 300000     # what a laptop does in minutes
    python bench/bench_incremental.py --steps 5          # 5 updates of 10,000 posts in a row
    python bench/bench_incremental.py --repeat 3         # the new-process run 3 times: median

Builds (once, cached in bench/out/) an SQLite database of ``--posts`` simulated posts minus the
last ``--new`` of them, runs a full detection (which makes the incremental cache), ingests the
last ``--new`` posts as a new dataset, then times the incremental run against a full rerun on the
same database and checks that they agree (campaigns, ties, scores; weights within 1e-9).

Each slice is run twice on the same database: first on a copy of it in a new process, as
``cib detect --incremental`` runs (it loads the cache), then on the database itself with the
cache kept loaded since the run before, as the API's job worker does (``refresh.WarmCache``).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.cli import GC_THRESHOLDS
from detector.detect import Detection
from detector.dumps import write_dump
from detector.load import IngestOptions, ingest_file
from detector.pipeline import run_detection
from detector.records import Post
from detector.refresh import WarmCache
from detector.simulate import SimulationParams, simulate
from detector.store import open_database
from detector.store.schema import IncrementalStateRow

OUT = Path(__file__).resolve().parent / "out"
POSTS_PER_ACCOUNT_DAY = 0.56          # posts per organic account and day at that scale (measured)
T = TypeVar("T")


def timed(step: Callable[[], T]) -> tuple[float, T]:
    start = time.perf_counter()
    value = step()
    return time.perf_counter() - start, value


def _dump(path: Path, posts: list[Post]) -> None:
    with path.open("w", encoding="utf-8") as out:
        write_dump("twarc2", posts, out, {})


def build(posts: int, new: int, days: int, steps: int = 1) -> tuple[Path, list[Path]]:
    """The base database (all but the last ``new`` x ``steps`` posts) and the dumps of the
    ``steps`` later slices of about ``new`` posts each, in time order; cached."""
    name = f"incremental-{posts}" + (f"-{new}x{steps}" if steps > 1 else "")
    base = OUT / f"{name}.db"
    slices = [OUT / f"{name}-new.jsonl"] if steps == 1 else \
        [OUT / f"{name}-new{i}.jsonl" for i in range(1, steps + 1)]
    if base.exists() and all(path.exists() for path in slices):
        return base, slices
    accounts = max(100, math.ceil(posts / (POSTS_PER_ACCOUNT_DAY * days)))
    # scenarios grow with the population, as in bench_detect (20,000 accounts: scale 10)
    every = simulate(SimulationParams(accounts=accounts, days=days, scale=accounts / 2000)).posts[:posts]
    # later slices: whole seconds go to one side of each cut
    cuts = [every[-new * (steps - i)].created_at for i in range(steps)] + [every[-1].created_at]
    old = [p for p in every if p.created_at < cuts[0]]
    _dump(OUT / "incremental-old.jsonl", old)
    for i, path in enumerate(slices):
        last = i == steps - 1
        _dump(path, [p for p in every if cuts[i] <= p.created_at and (last or p.created_at < cuts[i + 1])])
    work = base.with_suffix(".building")
    work.unlink(missing_ok=True)
    engine = open_database(f"sqlite:///{work}")
    ingest_file(engine, OUT / "incremental-old.jsonl", IngestOptions(parallel=False))
    engine.dispose()
    (OUT / "incremental-old.jsonl").unlink()
    work.rename(base)
    return base, slices


def log_rows(engine: Engine) -> int:
    """How many log rows the cache holds after the state row."""
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(IncrementalStateRow)).scalar_one()) - 1


def differences(a: Detection, b: Detection) -> list[str]:
    """What differs between two runs' campaigns, ties and scores (empty: the same)."""
    found = []
    def members(run: Detection) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        return sorted((c.kind, c.members) for c in run.campaigns)

    def scores(run: Detection) -> dict[tuple[str, str], tuple[float, bool]]:
        return {k: (s.score, s.flagged) for k, s in run.scores.items()}

    if members(a) != members(b):
        found.append("campaign members")
    if sorted(a.graph.edges) != sorted(b.graph.edges):
        found.append("ties")
    elif any(abs(d["weight"] - b.graph.edges[x, y]["weight"]) > 1e-9
             for x, y, d in a.graph.edges(data=True)):
        found.append("tie weights")
    if scores(a) != scores(b):
        found.append("account scores")
    return found


_COLD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
import gc
from detector.cli import GC_THRESHOLDS
from detector.pipeline import run_detection
from detector.store import open_database
gc.set_threshold(*GC_THRESHOLDS)      # as `cib` sets them
engine = open_database(f"sqlite:///{sys.argv[2]}")
start = time.perf_counter()
_, result = run_detection(engine, incremental=True)
print(json.dumps([time.perf_counter() - start, result.counts["new_posts"],
                  result.counts["cache_kept_loaded"]]))
"""


def _in_new_process(database: Path) -> tuple[float, int, int]:
    """An incremental run as ``cib detect --incremental`` makes it: in a new process, which
    loads the cache. Its seconds, new posts and whether it found the cache kept loaded."""
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run([sys.executable, "-c", _COLD, root, str(database)], check=True,
                          capture_output=True, text=True)
    seconds, new_posts, kept = json.loads(done.stdout.strip().splitlines()[-1])
    return float(seconds), int(new_posts), int(kept)


def _spread(seconds: list[float]) -> str:
    """`` (median of 3: 38.1 40.3 41.0)`` for repeated runs, nothing for one."""
    if len(seconds) < 2:
        return ""
    return f" (median of {len(seconds)}: {' '.join(f'{s:.1f}' for s in sorted(seconds))})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=3_000_000)
    parser.add_argument("--new", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each slice's new-process run this many times, each on a fresh "
                             "copy, and report their median (the same run varies by a fifth)")
    parser.add_argument("--steps", type=int, default=1,
                        help="incremental runs in a row, each after --new more posts (the "
                             "cache's log grows with each)")
    args = parser.parse_args()
    gc.set_threshold(*GC_THRESHOLDS)      # as `cib detect --incremental` runs
    OUT.mkdir(exist_ok=True)
    seconds_build, (base, slices) = timed(lambda: build(args.posts, args.new, args.days, args.steps))
    work, copy = OUT / f"{base.stem}-work.db", OUT / f"{base.stem}-cold.db"
    shutil.copyfile(base, work)
    engine = open_database(f"sqlite:///{work}")
    warm = WarmCache()
    first, (_, before) = timed(lambda: run_detection(engine, incremental=True, warm=warm))
    posts_before, first_path = before.counts["posts"], before.path
    del before                    # each run below starts from a heap as clean as a new `cib`'s
    gc.collect()
    ingests: list[float] = []
    ingested: list[int] = []
    steps: list[tuple[float, float, str, int]] = []
    repeats: list[list[float]] = []
    for path in slices:
        seconds, report = timed(partial(ingest_file, engine, path, IngestOptions(parallel=False)))
        ingests.append(seconds)
        ingested.append(report.stored)
        with engine.connect() as c:                # the write-ahead log into the file, then
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        colds = []
        for _ in range(max(args.repeat, 1)):
            shutil.copyfile(work, copy)            # a copy as a new process finds it
            os.sync()                              # its 2.7 GB written out before, not during, the run
            cold, new_posts, kept = _in_new_process(copy)
            assert (new_posts, kept) == (ingested[-1], 0), (new_posts, kept)
            copy.unlink()
            colds.append(cold)
        cold = statistics.median(colds)
        repeats.append(colds)
        step, (_, incremental) = timed(lambda: run_detection(engine, incremental=True, warm=warm))
        assert incremental.counts.get("cache_kept_loaded") == 1, incremental.path
        steps.append((cold, step, incremental.path, log_rows(engine)))
        gc.collect()
    warm.take(engine)             # the runs below as a new process's, with no cache held
    gc.collect()
    rerun, (_, full) = timed(lambda: run_detection(engine, full=True, incremental=True))
    gc.collect()
    plain, _ = timed(lambda: run_detection(engine))   # the default: neither reads nor makes a cache
    engine.dispose()
    work.unlink()
    cold, step = steps[-1][:2]
    added = incremental.counts.get("new_posts", 0)
    rows = [("posts before / added", f"{posts_before:,} / {added:,}"),
            ("first full run (+ making the cache)", f"{first:.1f} s  [{first_path}]"),
            ("ingest of the new slice" + ("s" if len(ingests) > 1 else ""),
             " ".join(f"{seconds:.1f}" for seconds in ingests) + " s"),
            *((f"incremental run {i}" if len(steps) > 1 else "incremental run",
               f"{loading:.1f} s loading the cache{_spread(colds)}, {seconds:.1f} s kept loaded  "
               f"[{path}; cache log rows after it: {logged}]")
              for i, ((loading, seconds, path, logged), colds) in enumerate(zip(steps, repeats, strict=True),
                                                                           start=1)),
            ("full rerun (+ making the cache)", f"{rerun:.1f} s  [{full.path}]"),
            ("full rerun without a cache (as before)", f"{plain:.1f} s"),
            ("speed-up of the last, loading / kept (vs full rerun without a cache)",
             f"{rerun / cold:.1f}x / {rerun / step:.1f}x ({plain / cold:.1f}x / {plain / step:.1f}x)"),
            ("posts read: incremental / full",
             f"{incremental.counts['posts_read']:,} / {full.counts['posts_read']:,}"),
            ("same campaigns, ties, scores", ", ".join(differences(incremental, full)) or "yes"),
            ("database build (cached)", f"{seconds_build:.1f} s"),
            ("load (1, 5, 15 min)", " ".join(f"{x:.2f}" for x in os.getloadavg()))]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0 if incremental.path.startswith("incremental") and not differences(incremental, full) else 1


if __name__ == "__main__":
    raise SystemExit(main())
