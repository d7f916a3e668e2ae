"""Ingest + detect on a labeled simulated dump: stage times, peak memory, quality, and a naive rule.

    python bench/bench_detect.py                       # ~340k posts, ~22k accounts (30 days)
    python bench/bench_detect.py --accounts 2000 --days 7 --scale 1 --seeds 1,2,3

Each stage runs in a fresh process (`cib ingest`, then `cib detect`) so peak memory is its own.
The naive rule flags every account that posted a text identical (after normalization) to another
account's within 10 minutes: what users run when they have nothing better.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import tempfile
from collections import defaultdict
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchkit import run  # peak memory of the command itself, not of this process

from detector.dumps import write_dump
from detector.evaluate import evaluate
from detector.normalize import normalize_text
from detector.records import Post
from detector.simulate import SimulationParams, simulate
from detector.store import open_database
from detector.store.detections import account_scores, latest_detection


def naive_flags(posts: list[Post], window: float = 600) -> dict[tuple[str, str], str | None]:
    by_text: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        if not post.repost_of and post.text:
            by_text[normalize_text(post.text)].append(post)
    flagged: dict[tuple[str, str], str | None] = {}
    for group in by_text.values():
        for a, b in pairwise(group):
            if a.account_id != b.account_id and (b.created_at - a.created_at).total_seconds() <= window:
                flagged[(a.platform, a.account_id)] = None
                flagged[(b.platform, b.account_id)] = None
    return flagged


def bench_seed(seed: int, args: argparse.Namespace, folder: Path) -> None:
    sim = simulate(SimulationParams(seed=seed, accounts=args.accounts, days=args.days, scale=args.scale))
    dump, db = folder / f"sim-{seed}.jsonl.gz", folder / f"sim-{seed}.db"
    with gzip.open(dump, "wt", encoding="utf-8", newline="") as out:
        write_dump("twarc2", sim.posts, out, sim.accounts)
    cib = [sys.executable, "-m", "detector.cli"]
    ingest = run([*cib, "ingest", str(dump), "--db", str(db)])
    detect = run([*cib, "detect", "--db", str(db)])
    engine = open_database(str(db))
    detection = latest_detection(engine)
    assert detection is not None
    flagged = {(s.platform, s.account_id): s.campaign_id
               for s in account_scores(engine, detection.id) if s.flagged}
    ours, naive = evaluate(sim.truth, flagged), evaluate(sim.truth, naive_flags(sim.posts))
    total = ingest[0] + detect[0]
    print(f"seed {seed}: {len(sim.posts)} posts, {len(sim.accounts)} accounts | ingest {ingest[0]:.1f} s "
          f"({ingest[1]:.0f} MB) + detect {detect[0]:.1f} s ({detect[1]:.0f} MB) = {total:.1f} s, "
          f"{len(sim.posts) / total:.0f} posts/s")
    print(f"  cib-detector  P {ours.precision:.3f} R {ours.recall:.3f} F1 {ours.f1:.3f} "
          f"organic FPR {ours.organic_fpr:.4f} ARI {ours.ari:.3f}")
    print(f"  naive rule    P {naive.precision:.3f} R {naive.recall:.3f} F1 {naive.f1:.3f} "
          f"organic FPR {naive.organic_fpr:.4f} (F1 ratio {ours.f1 / max(naive.f1, 1e-9):.1f}x)")
    print("  per scenario: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(ours.by_scenario.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--seeds", default="11")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (int(s) for s in args.seeds.split(",")):
            bench_seed(seed, args, Path(tmp))


if __name__ == "__main__":
    main()
