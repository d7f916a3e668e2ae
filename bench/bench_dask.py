"""Local ``detect`` against the Dask engine with 1 and 2 workers, on the same simulated dump.

    python bench/bench_dask.py                          # ~340k posts over 30 days, as bench_detect
    python bench/bench_dask.py --accounts 2000 --days 7 --scale 1

The dump is written as Parquet, one file per day (what a cluster would read from shared
storage). Each engine runs in a fresh process that reads the files and detects, so its peak
memory is its own; the Dask runs' client never holds the posts, their workers do. Results must
be identical: the script fails otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.detect import Detection, detect
from detector.partitioned import parquet_posts, post_order, sources_of
from detector.records import Post
from detector.simulate import SimulationParams, simulate


def outcome(result: Detection) -> dict[str, Any]:
    """Everything a detection reports, in comparable form."""
    return {
        "campaigns": [(c.campaign_id, c.kind, c.members, c.score, c.features,
                       [(e.signal, e.key, e.start, e.end, e.participants, e.key_posts, e.occasion)
                        for e in c.events]) for c in result.campaigns],
        "scores": {a: (s.score, s.subscores, s.features, s.campaign_ids, s.flagged)
                   for a, s in result.scores.items()},
        "ties": sorted((a, b, sorted(d.items())) for a, b, d in result.graph.edges(data=True)),
        "counts": result.counts, "texts": result.texts, "similarity": result.similarity,
    }


def write_parquet(posts: list[Post], folder: Path) -> list[Path]:
    """One Parquet file per UTC day, row groups of 20,000 posts."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    days: dict[str, list[Post]] = {}
    for post in posts:
        days.setdefault(post.created_at.date().isoformat(), []).append(post)
    paths = []
    for day, chunk in sorted(days.items()):
        path = folder / f"posts-{day}.parquet"
        rows = [{f: getattr(p, f) for f in Post.__dataclass_fields__} for p in chunk]
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=20_000)
        paths.append(path)
    return paths


def child(engine: str, folder: Path, out: Path) -> None:
    """One measured run; prints its times and memory as JSON and pickles its outcome."""
    paths = sorted(folder.glob("*.parquet"))
    report: dict[str, Any] = {"engine": engine}
    if engine == "local":
        start = time.perf_counter()
        posts = sorted((p for s in sources_of(paths) for p in parquet_posts(Path(s.path), s.row_group or 0)),
                       key=post_order)
        result = detect(posts)
        report["seconds"] = time.perf_counter() - start
    else:
        from distributed import Client, LocalCluster

        from detector.engine_dask import Partitioning, detect_dask
        workers = int(engine.split("-")[1])
        start = time.perf_counter()
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=":0") as cluster, Client(cluster) as client:
            client.run(lambda: __import__("detector.partitioned"))  # workers import once, untimed
            report["startup_s"] = time.perf_counter() - start
            start = time.perf_counter()
            result = detect_dask(client, paths, partitioning=Partitioning(timedelta(days=1), 2 * workers))
            report["seconds"] = time.perf_counter() - start
            peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            report["worker_peak_mb"] = max(peaks.values()) / 1024
            sent = client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total)
            report["shuffled_mb"] = sum(sent.values()) / 1e6   # worker to worker, all steps
    report["client_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report["posts"] = result.counts["posts"]
    out.write_bytes(pickle.dumps(outcome(result)))
    print(json.dumps(report))


def measure(engine: str, folder: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    out = folder / f"{engine}.pkl"
    done = subprocess.run([sys.executable, __file__, "--child", engine, "--folder", str(folder),
                           "--out", str(out)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1]), pickle.loads(out.read_bytes())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--posts", type=int, help="about this many posts (sets --accounts)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.folder, args.out)
        return
    if args.posts:  # the default month has ~17 posts per organic account
        args.accounts = max(200, args.posts // 17)
        args.scale = args.scale * args.accounts / 20000
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sim = simulate(SimulationParams(seed=args.seed, accounts=args.accounts, days=args.days,
                                        scale=args.scale))
        files = write_parquet(sorted(sim.posts, key=post_order), folder)
        print(f"{len(sim.posts):,} posts in {len(files)} Parquet files; load average "
              f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        rows, reference = [], None
        for engine in ("local", "dask-1", "dask-2"):
            report, result = measure(engine, folder)
            if reference is None:
                reference = result
            elif result != reference:
                raise SystemExit(f"{engine} differs from the local engine")
            rows.append(report)
        base = rows[0]["seconds"]
        print(f"{'engine':8} {'seconds':>8} {'vs local':>8} {'startup':>8} {'client MB':>9} "
              f"{'worker MB':>9} {'moved MB':>8}")
        for r in rows:
            print(f"{r['engine']:8} {r['seconds']:8.1f} {r['seconds'] / base:8.2f} "
                  f"{r.get('startup_s', 0):8.1f} {r['client_peak_mb']:9.0f} "
                  f"{r.get('worker_peak_mb', 0):9.0f} {r.get('shuffled_mb', 0):8.1f}")
        speedup = rows[1]["seconds"] / rows[2]["seconds"]
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"identical results: yes; 2 vs 1 worker speed-up {speedup:.2f}; load average after {load}")


if __name__ == "__main__":
    main()
