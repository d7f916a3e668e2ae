"""Time ``cib report`` on a simulated ~390k-post SQLite database, and where the time goes.

    python bench/bench_report.py                      # build the database in a temporary folder
    python bench/bench_report.py --db /tmp/sim.db     # build it there once, reuse it afterwards

The database is copied first (a report is recorded in it; the original stays as it was). Each
run is a fresh ``cib report --timings`` process, the first a first report (every campaign new:
the top ones drawn), then one with nothing new (the short report). It prints wall time
(interpreter start and imports included) and the split: queries (reading the store), build (the
pure part: matching runs, timelines, network pictures), plots (matplotlib) and writing (HTML,
JSON, CSV, recording the report). The requirement: under 30 s at ~350k posts.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_queries import build  # the same simulated database as the query benchmark

from detector.store import open_database, stats


def copy(source: Path, target: Path) -> None:
    """SQLite's online backup, read-only on the source: a plain file copy would miss what is
    still in its write-ahead log."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as reading, sqlite3.connect(target) as writing:
        reading.backup(writing)


def run_report(db: Path, out: Path, *extra: str) -> tuple[float, dict[str, float], str]:
    """Wall seconds, the command's own split, and its summary line."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "detector.cli", "report", "--timings", "--out", str(out),
                           "--db", str(db), *extra], check=True, capture_output=True, text=True)
    wall = time.perf_counter() - start
    split = json.loads(done.stderr.strip().splitlines()[-1])
    return wall, split, done.stdout.strip()


def show(label: str, wall: float, split: dict[str, float], summary: str) -> None:
    parts = "  ".join(f"{k} {v:5.2f} s" for k, v in split.items())
    startup = wall - sum(split.values())
    print(f"{label:13} wall {wall:5.2f} s  = start+imports {startup:4.2f} s  {parts}")
    print(f"{'':13} {summary}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, help="SQLite file: built if missing, reused (copied) if present")
    parser.add_argument("--accounts", type=int, default=22000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=12.0, help="with the defaults: ~390k posts")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        source = args.db or work / "source.db"
        if not source.exists():
            build(source, args)
        db = work / "report.db"
        copy(source, db)                  # the report is recorded in the copy
        s = stats(open_database(str(db)))
        print(f"{source}: {s.posts} posts, {s.accounts} accounts; cib report --top {args.top}")
        show("first report", *run_report(db, work / "first", "--top", str(args.top)))
        show("nothing new", *run_report(db, work / "again", "--top", str(args.top)))


if __name__ == "__main__":
    main()
