"""Peak memory of ``cib ingest`` and ``cib detect`` as the dump grows from 100k to 3M posts.

    python bench/bench_memory.py                            # 100k, 300k, 1M, 3M (the last: long)
    python bench/bench_memory.py --sizes 100000,300000      # a few sizes now...
    python bench/bench_memory.py --sizes 3000000            # ...the big one later: appended
    python bench/bench_memory.py --report                   # table and plot from the CSV only

Each size is a simulated month (bench_detect.py's with accounts and scale multiplied by
size / 311,569, its post count; cached in ``bench/out/dumps/``), ingested into a fresh SQLite
file and detected, each command a child process. Every measured size is appended to
``bench/out/memory/memory.csv`` (a size already there is skipped unless ``--again``), so the
table always covers every size measured so far. It prints: posts, ingest s, ingest MB (largest
process), ingest tree MB (sampled sum with its reader process), detect s, detect MB, MB per 100k
posts for each; then the linearity check: a least-squares line (MB = intercept + slope x posts,
with R^2) per command and the per-post memory at the largest size over that at the smallest,
and writes ``bench/out/memory/memory.png``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit import OUT, progress, run_measured, sized_dump

FOLDER = OUT / "memory"
CSV_PATH = FOLDER / "memory.csv"
PNG_PATH = FOLDER / "memory.png"
DEFAULT_SIZES = "100000,300000,1000000,3000000"


@dataclass(frozen=True)
class Point:
    """One measured size; MB are peaks (``*_tree_mb``: summed over the process tree, sampled)."""

    target: int
    posts: int
    ingest_s: float
    ingest_mb: float
    ingest_tree_mb: float
    detect_s: float
    detect_mb: float
    detect_tree_mb: float
    load1: float
    measured_at: str


@dataclass(frozen=True)
class Fit:
    intercept_mb: float
    slope_mb_per_100k: float
    r2: float


def measure(target: int) -> Point:
    dump = sized_dump(target)
    db = FOLDER / f"memory-{target}.db"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")):
        leftover.unlink(missing_ok=True)
    cib = [sys.executable, "-m", "detector.cli"]
    progress(f"{target}: cib ingest ({dump.posts} posts)")
    ingest = run_measured([*cib, "ingest", str(dump.path), "--db", str(db)])
    progress(f"{target}: ingest {ingest.seconds:.0f} s, {ingest.peak_mb:.0f} MB; cib detect")
    detect = run_measured([*cib, "detect", "--db", str(db)])
    progress(f"{target}: detect {detect.seconds:.0f} s, {detect.peak_mb:.0f} MB")
    db.unlink(missing_ok=True)
    return Point(target, dump.posts, round(ingest.seconds, 2), round(ingest.peak_mb, 1),
                 round(ingest.tree_mb, 1), round(detect.seconds, 2), round(detect.peak_mb, 1),
                 round(detect.tree_mb, 1), os.getloadavg()[0],
                 time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime()))


def read_points(path: Path = CSV_PATH) -> list[Point]:
    if not path.exists():
        return []
    with path.open(newline="") as stream:
        return [_point(row) for row in csv.DictReader(stream)]


def _point(row: dict[str, str]) -> Point:
    return Point(int(row["target"]), int(row["posts"]), float(row["ingest_s"]), float(row["ingest_mb"]),
                 float(row["ingest_tree_mb"]), float(row["detect_s"]), float(row["detect_mb"]),
                 float(row["detect_tree_mb"]), float(row["load1"]), row["measured_at"])


def append_point(point: Point, path: Path = CSV_PATH) -> None:
    """Add ``point`` (replacing an earlier one of the same size) to the CSV."""
    points = [p for p in read_points(path) if p.target != point.target] + [point]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, [f.name for f in fields(Point)])
        writer.writeheader()
        writer.writerows(asdict(p) for p in sorted(points, key=lambda p: p.target))


def fit(xs: Sequence[float], ys: Sequence[float]) -> Fit:
    """Least-squares line y = a + b x; slope given per 100k of x."""
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sxx if sxx else 0.0
    intercept = mean_y - slope * mean_x
    total = sum((y - mean_y) ** 2 for y in ys)
    residual = sum((y - intercept - slope * x) ** 2 for x, y in zip(xs, ys, strict=True))
    return Fit(intercept, slope * 100_000, 1 - residual / total if total else 1.0)


def render(points: list[Point]) -> str:
    lines = [f"{'posts':>9} {'ingest s':>9} {'ingest MB':>9} {'tree MB':>8} {'MB/100k':>8} "
             f"{'detect s':>9} {'detect MB':>9} {'tree MB':>8} {'MB/100k':>8} {'load':>5}  measured"]
    for p in points:
        per = 100_000 / p.posts
        lines.append(f"{p.posts:9d} {p.ingest_s:9.1f} {p.ingest_mb:9.0f} {p.ingest_tree_mb:8.0f} "
                     f"{p.ingest_mb * per:8.1f} {p.detect_s:9.1f} {p.detect_mb:9.0f} "
                     f"{p.detect_tree_mb:8.0f} {p.detect_mb * per:8.1f} {p.load1:5.2f}  {p.measured_at}")
    return "\n".join(lines)


def linearity(points: list[Point]) -> str:
    if len(points) < 2:
        return "linearity: needs at least two sizes"
    small, large = points[0], points[-1]
    posts = [float(p.posts) for p in points]
    lines = ["linearity (peak MB = intercept + slope x posts, least squares over every size"
             + ("; with two sizes R^2 is 1 by construction):" if len(points) == 2 else "):")]
    for name in ("ingest_mb", "ingest_tree_mb", "detect_mb", "detect_tree_mb"):
        values = [getattr(p, name) for p in points]
        line = fit(posts, values)
        per_post = (getattr(large, name) / large.posts) / (getattr(small, name) / small.posts)
        lines.append(f"  {name:15} intercept {line.intercept_mb:7.0f} MB, "
                     f"slope {line.slope_mb_per_100k:6.1f} MB per 100k posts, R^2 {line.r2:.4f}; "
                     f"MB per post at {large.posts} / at {small.posts}: {per_post:.2f}")
    return "\n".join(lines)


def plot(points: list[Point], path: Path = PNG_PATH) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    posts = [p.posts / 1e6 for p in points]
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for name, label in (("ingest_mb", "cib ingest (largest process)"),
                        ("ingest_tree_mb", "cib ingest (with reader process)"),
                        ("detect_mb", "cib detect")):
        axes.plot(posts, [getattr(p, name) for p in points], marker="o", label=label)
    axes.set_xlabel("posts in the dump (millions)")
    axes.set_ylabel("peak RSS (MB)")
    axes.set_title("cib-detector peak memory vs dump size")
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES, help="comma-separated target post counts")
    parser.add_argument("--again", action="store_true", help="measure sizes already in the CSV again")
    parser.add_argument("--report", action="store_true", help="measure nothing: table and plot from the CSV")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    FOLDER.mkdir(parents=True, exist_ok=True)
    if not args.report:
        done = {p.target for p in read_points()}
        for target in (int(s) for s in args.sizes.split(",") if s):
            if target in done and not args.again:
                progress(f"{target}: already in {CSV_PATH}, skipped (--again to measure it again)")
                continue
            append_point(measure(target))
    points = read_points()
    if not points:
        raise SystemExit(f"{CSV_PATH}: nothing measured yet")
    print(render(points))
    print(linearity(points))
    plot(points)
    print(f"csv: {CSV_PATH}\nplot: {PNG_PATH}")


if __name__ == "__main__":
    main()
