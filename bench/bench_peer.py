"""Our pipeline against coordination-network-toolkit and the parse+hash floor, on one labeled dump.

    python bench/bench_peer.py --dump month --runs 3 --window 60    # ~310k posts, 30 days
    python bench/bench_peer.py --dump bursty --runs 1               # a day COMPRESSED 24x into 1 h
    python bench/bench_peer.py --dump bursty --burst-mode crop      # the busiest real hour
    python bench/bench_peer.py --dump DUMP.jsonl --truth TRUTH.csv --only ours --json out.json

In one run, each tool a child process, ``--runs`` times (fresh databases each time):

- ours: ``cib ingest DUMP --db X`` then ``cib detect --db X`` (our default windows, text 10 min,
  repost 1 min..., unless ``--ours-window``); flagged = accounts flagged by the latest detection.
- the peer (``peer.py``): ``preprocess``, then ``co_tweet``, ``co_similar_tweet`` and
  ``co_retweet`` at ``--window`` seconds and similarity 0.8; flagged = accounts in any edge.
- the floor (``floor.py``): read and parse the dump with our readers and hash normalized texts.

It prints one table: per stage the median seconds over runs (a timeout shows as "> N s"),
posts/s, peak MB (largest single process) and tree MB (sampled sum over the process tree),
and precision, recall, F1 and organic false-positive rate against the truth labels; then the
ratios measured in this run (ours end-to-end / peer co_similar_tweet, ours detect / floor, ours
ingest / floor parse, F1 ours - peer), the load average, and, when a truth file is there, the
scenario kinds of our false positives. Progress goes to stderr; ``--json OUT`` saves the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit import (
    BURST_MODES,
    OUT,
    Dump,
    Measured,
    bursty_dump,
    given_dump,
    month_dump,
    progress,
    run_measured,
)
from floor import FloorParts, measure_floor
from peer import NETWORKS, PEER_VERSION, PeerRun, PeerSettings, run_peer, union

from detector.evaluate import Evaluation, evaluate
from detector.ingest import read_dump
from detector.records import Post
from detector.simulate import Truth
from detector.store import open_database
from detector.store.detections import account_scores, latest_detection

Flags = dict[tuple[str, str], str | None]


@dataclass
class OursRun:
    ingest: Measured
    detect: Measured
    flagged: Flags


@dataclass
class Row:
    """One line of the table; ``seconds`` is a median over runs."""

    stage: str
    seconds: float | None = None
    timed_out: bool = False
    posts_per_second: float | None = None
    peak_mb: float | None = None
    tree_mb: float | None = None
    quality: Evaluation | None = None
    note: str = ""


@dataclass
class Results:
    dump: str
    posts: int
    rows: list[Row] = field(default_factory=list)
    ratios: dict[str, float | None] = field(default_factory=dict)
    load: dict[str, list[float]] = field(default_factory=dict)
    false_positive_kinds: dict[str, int] = field(default_factory=dict)


# --- ours ---------------------------------------------------------------------------------------

def our_flags(db: Path) -> Flags:
    """Flagged accounts of the latest detection, read as bench_detect.py reads them."""
    engine = open_database(str(db))
    detection = latest_detection(engine)
    if detection is None:
        raise RuntimeError(f"{db}: no detection stored")
    flags = {(s.platform, s.account_id): s.campaign_id for s in account_scores(engine, detection.id)
             if s.flagged}
    engine.dispose()
    return flags


def run_ours(dump: Path, folder: Path, ours_window: str | None, tag: str) -> OursRun:
    db = folder / f"ours-{tag}.db"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")):
        leftover.unlink(missing_ok=True)
    cib = [sys.executable, "-m", "detector.cli"]
    progress(f"ours: cib ingest {dump.name}")
    ingest = run_measured([*cib, "ingest", str(dump), "--db", str(db)])
    progress(f"ours: cib detect ({ingest.seconds:.1f} s ingest)")
    window = ["--window", ours_window] if ours_window else []
    detect = run_measured([*cib, "detect", "--db", str(db), *window])
    progress(f"ours: detect {detect.seconds:.1f} s")
    return OursRun(ingest, detect, our_flags(db))


# --- table rows -----------------------------------------------------------------------------------

def _row(stage: str, measured: Sequence[Measured], posts: int, quality: Evaluation | None = None,
         note: str = "") -> Row:
    """Median seconds of ``measured`` (one per run), largest memory."""
    seconds = statistics.median(m.seconds for m in measured)
    timed_out = sum(m.timed_out for m in measured) * 2 > len(measured)
    return Row(stage, seconds, timed_out, posts / seconds if posts and seconds else None,
               max(m.peak_mb for m in measured), max(m.tree_mb for m in measured), quality, note)


def _summed(parts: Sequence[Sequence[Measured]]) -> list[Measured]:
    """Per run, the stages added up: seconds summed, memory the largest, timed out if any was."""
    total: list[Measured] = []
    for run in parts:
        total.append(Measured(sum(m.seconds for m in run), max(m.peak_mb for m in run),
                              max(m.tree_mb for m in run), any(m.timed_out for m in run), 0, ""))
    return total


def _quality(truth: list[Truth] | None, flags: Flags | None) -> Evaluation | None:
    return evaluate(truth, flags) if truth is not None and flags is not None else None


def ours_rows(runs: list[OursRun], posts: int, truth: list[Truth] | None) -> list[Row]:
    quality = _quality(truth, runs[-1].flagged)
    return [_row("ours ingest", [r.ingest for r in runs], posts),
            _row("ours detect", [r.detect for r in runs], posts),
            _row("ours end-to-end", _summed([(r.ingest, r.detect) for r in runs]), posts, quality)]


def peer_rows(runs: list[PeerRun], posts: int, truth: list[Truth] | None,
              networks: Sequence[str]) -> list[Row]:
    rows = [_row("peer preprocess", [r.preprocess for r in runs], posts)]
    for network in networks:
        computed = [r.computes[network] for r in runs if network in r.computes]
        if not computed:
            rows.append(Row(f"peer {network}", note="not run: preprocess timed out"))
            continue
        rows.append(_row(f"peer {network}", computed, posts, _quality(truth, runs[-1].flagged.get(network)),
                         note="compute only"))
        rows.append(_row(f"peer preprocess+{network}",
                         _summed([(r.preprocess, r.computes[network]) for r in runs
                                  if network in r.computes]), posts))
    complete = [r for r in runs if all(n in r.computes for n in networks)]
    if complete:
        every = union(runs[-1].flagged.get(n) for n in networks)
        rows.append(_row("peer all (preprocess+" + "+".join(networks) + ")",
                         _summed([(r.preprocess, *r.computes.values()) for r in complete]), posts,
                         _quality(truth, every), note="quality: union of networks"))
    return rows


def floor_rows(runs: list[tuple[Measured, FloorParts]], posts: int) -> list[Row]:
    walls = [m for m, _ in runs]
    parse = statistics.median(m.seconds - p.hash_seconds for m, p in runs)
    hashing = statistics.median(p.hash_seconds for _, p in runs)
    return [_row("floor (parse+hash, child wall)", walls, posts),
            Row("floor parse (wall - hash)", parse, False, posts / parse if posts else None,
                note="includes interpreter start"),
            Row("floor hash (in process)", hashing, False, posts / hashing if posts and hashing else None,
                note="normalize_text + blake2b")]


# --- ratios and false positives -------------------------------------------------------------------

def _seconds(rows: list[Row], stage: str) -> float | None:
    found = next((r for r in rows if r.stage == stage), None)
    return None if found is None or found.timed_out else found.seconds


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top is not None and bottom else None


def ratios(rows: list[Row]) -> dict[str, float | None]:
    def f1(stage: str) -> float | None:
        found = next((r for r in rows if r.stage.startswith(stage) and r.quality), None)
        return found.quality.f1 if found and found.quality else None

    ours_f1, peer_f1 = f1("ours end-to-end"), f1("peer all")
    return {
        "ours end-to-end / peer preprocess+co_similar_tweet":
            _ratio(_seconds(rows, "ours end-to-end"), _seconds(rows, "peer preprocess+co_similar_tweet")),
        "ours end-to-end / peer all": _ratio(_seconds(rows, "ours end-to-end"),
                                             next((r.seconds for r in rows if r.stage.startswith("peer all")
                                                   and not r.timed_out), None)),
        "ours detect / floor": _ratio(_seconds(rows, "ours detect"),
                                      _seconds(rows, "floor (parse+hash, child wall)")),
        "ours ingest / floor parse": _ratio(_seconds(rows, "ours ingest"),
                                            _seconds(rows, "floor parse (wall - hash)")),
        "F1 ours / peer co_similar_tweet": _ratio(ours_f1, f1("peer co_similar_tweet")),
        "F1 ours / peer union": _ratio(ours_f1, peer_f1),
    }


def false_positive_kinds(truth: list[Truth] | None, flags: Flags | None) -> dict[str, int]:
    """How many organic accounts of each scenario kind ``flags`` holds."""
    if truth is None or flags is None:
        return {}
    return dict(Counter(t.scenario for t in truth
                        if not t.coordinated and (t.platform, t.account_id) in flags).most_common())


# --- output ---------------------------------------------------------------------------------------

def _cell(value: float | None, width: int, digits: int = 0) -> str:
    return f"{value:{width}.{digits}f}" if value is not None else f"{'-':>{width}}"


def render_row(row: Row, timeout: float) -> str:
    if row.seconds is None:
        seconds = f"{'-':>9}"
    elif row.timed_out:
        seconds = f"{'> ' + format(timeout, '.0f') + ' s':>9}"
    else:
        seconds = f"{row.seconds:9.1f}"
    q = row.quality
    quality = (f"{q.precision:6.3f} {q.recall:6.3f} {q.f1:6.3f} {q.organic_fpr:8.5f} {q.flagged:7d}"
               if q else f"{'-':>6} {'-':>6} {'-':>6} {'-':>8} {'-':>7}")
    speed = None if row.timed_out else row.posts_per_second
    return (f"{row.stage:45} {seconds} {_cell(speed, 9)} {_cell(row.peak_mb, 7)} {_cell(row.tree_mb, 7)} "
            f"{quality}  {row.note}")


def render(results: Results, timeout: float) -> str:
    lines = [f"dump: {results.dump}", f"posts: {results.posts}",
             f"{'stage':45} {'median s':>9} {'posts/s':>9} {'peak MB':>7} {'tree MB':>7} "
             f"{'P':>6} {'R':>6} {'F1':>6} {'org FPR':>8} {'flagged':>7}"]
    lines += [render_row(row, timeout) for row in results.rows]
    lines.append("ratios (this run):")
    lines += [f"  {name:55} {value:8.3f}" if value is not None else f"  {name:55} {'-':>8}"
              for name, value in results.ratios.items()]
    if results.false_positive_kinds:
        lines.append("ours: organic accounts flagged, by scenario kind: " + ", ".join(
            f"{kind} {count}" for kind, count in results.false_positive_kinds.items()))
    lines += [f"load average {when}: " + " ".join(f"{x:.2f}" for x in load)
              for when, load in results.load.items()]
    return "\n".join(lines)


# --- main -----------------------------------------------------------------------------------------

def build_dump(args: argparse.Namespace) -> Dump:
    if args.dump == "month":
        return month_dump()
    if args.dump == "bursty":
        return bursty_dump(args.bursty_accounts, args.bursty_posts_per_account, args.bursty_scale,
                           args.burst_mode)
    return given_dump(Path(args.dump), Path(args.truth) if args.truth else None)


def count_posts(dump: Dump) -> int:
    if dump.posts:
        return dump.posts
    progress(f"counting the posts of {dump.path}")
    return sum(1 for r in read_dump(dump.path) if isinstance(r, Post))


def _interleaved(runs: int, measures: dict[str, Callable[[str], Any]]) -> dict[str, list[Any]]:
    """Each run measures every tool once, in turn (ours, the peer, the floor, then again): a
    host whose speed drifts during the bench (this one's does, by up to 2x) then weighs on every
    tool alike, instead of on whichever ran during a slow stretch."""
    done: dict[str, list[Any]] = {name: [] for name in measures}
    for number in range(runs):
        for name, once in measures.items():
            progress(f"{name}: run {number + 1}/{runs}")
            done[name].append(once(f"run{number}"))
    return done


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dump", default="month", help="month, bursty, or a dump file")
    parser.add_argument("--truth", help="truth CSV (platform,account_id,coordinated,scenario,campaign) "
                                        "for a given dump file")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--window", type=int, default=60, help="the peer's time window, seconds")
    parser.add_argument("--ours-window", help="passed to cib detect --window (e.g. 60s); "
                                              "default: our own per-signal windows")
    parser.add_argument("--similarity", type=float, default=0.8)
    parser.add_argument("--networks", default=",".join(NETWORKS))
    parser.add_argument("--peer-timeout", type=float, default=1800)
    parser.add_argument("--peer-cpus", type=int, default=2)
    parser.add_argument("--skip-peer", action="store_true")
    parser.add_argument("--only", choices=("ours", "peer", "floor"))
    parser.add_argument("--json", type=Path, help="save the numbers to this file")
    parser.add_argument("--burst-mode", choices=BURST_MODES, default="compress")
    parser.add_argument("--bursty-accounts", type=int, default=30000)
    parser.add_argument("--bursty-posts-per-account", type=float, default=2.0)
    parser.add_argument("--bursty-scale", type=float, default=3.0)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    wanted = {args.only} if args.only else {"ours", "floor"} | (set() if args.skip_peer else {"peer"})
    load_before = list(os.getloadavg())
    dump = build_dump(args)
    truth, posts = dump.truth(), count_posts(dump)
    folder = OUT / "peer-bench"
    folder.mkdir(parents=True, exist_ok=True)
    networks = [n for n in args.networks.split(",") if n]
    settings = PeerSettings(args.window, args.similarity, cpus=args.peer_cpus, timeout=args.peer_timeout)
    results = Results(dump.description, posts)
    measures: dict[str, Callable[[str], Any]] = {
        "ours": lambda tag: run_ours(dump.path, folder, args.ours_window, tag),
        "peer": lambda tag: run_peer(dump.path, folder, settings, networks, tag),
        "floor": lambda tag: measure_floor(dump.path)}
    done = _interleaved(args.runs, {name: once for name, once in measures.items() if name in wanted})
    if "ours" in done:
        results.rows += ours_rows(done["ours"], posts, truth)
        results.false_positive_kinds = false_positive_kinds(truth, done["ours"][-1].flagged)
    if "peer" in done:
        results.rows += peer_rows(done["peer"], posts, truth, networks)
    if "floor" in done:
        results.rows += floor_rows(done["floor"], posts)
    results.ratios = ratios(results.rows)
    results.load = {"at start": load_before, "at end": list(os.getloadavg())}
    print(f"cib-detector vs coordination-network-toolkit {PEER_VERSION} "
          f"(peer window {args.window} s, similarity {args.similarity}, ours window "
          f"{args.ours_window or 'default'}), {args.runs} run(s), "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(render(results, args.peer_timeout))
    if args.json:
        args.json.write_text(json.dumps(asdict(results), indent=1, default=str))


if __name__ == "__main__":
    main()
