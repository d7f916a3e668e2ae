"""Shared pieces of the peer and memory benchmarks: measured child processes, cached labeled dumps.

Not a script. ``run_measured`` measures one child command (wall seconds, its peak RSS, the
sampled peak of its whole process tree; ``run`` gives the first two, ``median_of`` repeats one
measure); ``month_dump``, ``bursty_dump`` and ``sized_dump`` build simulated,
labeled twarc2 dumps once and cache them in ``bench/out/dumps/<name>-<key>/`` (``dump.jsonl``,
``truth.csv``, ``meta.json``), the key being a hash of everything that decides their content.

The dumps are written uncompressed because the peer tool cannot open ``.gz`` files: our
pipeline, the peer and the floor all read the very same file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.dumps import snowflake, write_dump
from detector.records import Account, Post
from detector.simulate import Simulation, SimulationParams, Truth, read_truth, simulate, write_truth

OUT = Path(__file__).resolve().parent / "out"
DUMPS = OUT / "dumps"
DUMP_VERSION = 1                     # bump when the way a dump is written changes
MONTH = SimulationParams(seed=11, accounts=20000, days=30, scale=10.0)  # bench_detect.py's defaults
MONTH_POSTS = 311_569                # what MONTH simulates: used only to aim sized dumps at a size
BURST_MODES = ("compress", "crop")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def progress(message: str) -> None:
    """One progress line on stderr, with the UTC time."""
    print(f"[{time.strftime('%H:%M:%S', time.gmtime())}] {message}", file=sys.stderr, flush=True)


# --- measured child processes ------------------------------------------------------------------

@dataclass(frozen=True)
class Measured:
    """One child run. ``peak_mb``: the largest RSS of any single process of the tree (kernel
    accounting via ``wait4``, exact); ``tree_mb``: the largest sum of RSS over the tree, sampled
    every ``SAMPLE_SECONDS`` (shared pages of forked workers counted in each, so an upper bound)."""

    seconds: float
    peak_mb: float
    tree_mb: float
    timed_out: bool
    returncode: int
    stdout: str


SAMPLE_SECONDS = 0.2


class ChildFailed(RuntimeError):
    """A measured command exited non-zero; the message holds the tail of its stderr."""


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(c) for c in handle.read().split()]
    except OSError:  # the process ended while we looked
        pass
    return found


def _rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_mb(pid: int) -> float:
    """Sum of the RSS of ``pid`` and all its descendants, now, in MB."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += _rss_bytes(current)
        stack += _children(current)
    return total / (1 << 20)


def _sample_tree(wrapper: int, stop: threading.Event, peak: list[float]) -> None:
    """Keep in ``peak[0]`` the largest summed RSS of the wrapper's descendants (not the wrapper)."""
    while not stop.wait(SAMPLE_SECONDS):
        peak[0] = max(peak[0], sum(tree_rss_mb(pid) for pid in _children(wrapper)))


def _kill_group(process: subprocess.Popen[bytes], expired: threading.Event | None = None) -> None:
    if expired is not None:
        expired.set()
    with contextlib.suppress(ProcessLookupError):  # it may have ended already
        os.killpg(process.pid, signal.SIGKILL)  # the child leads its own session: only our processes


# The measured command is started by this small interpreter, not by us: a child forked from a
# big process keeps that process's peak RSS as its own ru_maxrss after exec (Linux carries the
# old memory map's high-water mark over), so a benchmark holding a simulated dump would read its
# own size back for every child. The wrapper is ~10 MB, less than any command measured here.
WRAPPER = """
import json, os, subprocess, sys, time
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
seconds = time.perf_counter() - start
with open(sys.argv[1], "w") as report:
    json.dump({"seconds": seconds, "maxrss_kb": usage.ru_maxrss}, report)
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""


@dataclass
class _Child:
    process: subprocess.Popen[bytes]
    report: Path
    started: float
    expired: threading.Event
    stop: threading.Event
    peak: list[float]
    threads: list[threading.Thread]


def _launch(command: Sequence[str], out: IO[bytes], err: IO[bytes], timeout: float | None,
            env: dict[str, str] | None, report: Path) -> _Child:
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", WRAPPER, str(report), *command], stdout=out,
                               stderr=err, start_new_session=True, env=env)
    child = _Child(process, report, started, threading.Event(), threading.Event(), [0.0], [])
    sampler = threading.Thread(target=_sample_tree, args=(process.pid, child.stop, child.peak), daemon=True)
    child.threads.append(sampler)
    sampler.start()
    if timeout:
        timer = threading.Timer(timeout, _kill_group, (process, child.expired))
        timer.daemon = True
        timer.start()
        child.threads.append(timer)
    return child


def _wait(child: _Child) -> tuple[int, float, float]:
    """Exit code, wall seconds and peak RSS (MB) of the measured command (not of the wrapper)."""
    _, status = os.waitpid(child.process.pid, 0)
    wall = time.perf_counter() - child.started
    for thread in child.threads:
        if isinstance(thread, threading.Timer):
            thread.cancel()
    child.stop.set()
    child.threads[0].join()
    child.process.returncode = os.waitstatus_to_exitcode(status)
    _kill_group(child.process)  # workers a killed command may have left behind
    if not child.report.exists():  # killed before it could report
        return child.process.returncode, wall, 0.0
    report = json.loads(child.report.read_text())
    child.report.unlink()
    return child.process.returncode, report["seconds"], report["maxrss_kb"] / 1024


def run_measured(command: Sequence[str], *, timeout: float | None = None, check: bool = True,
                 env: dict[str, str] | None = None) -> Measured:
    """Run ``command`` as a child and measure it; on ``timeout`` its whole group is killed.

    Peak RSS is the command's own ``ru_maxrss`` from ``os.wait4`` in the wrapper that starts it
    (Linux raises it to that of any descendant the command waited for); not ``RUSAGE_CHILDREN``
    of this process, a running maximum over every child it ever had.
    """
    logs = OUT / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    stamp = f"{os.getpid()}-{time.monotonic_ns()}"
    out_path, err_path = logs / f"{stamp}.out", logs / f"{stamp}.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        child = _launch(command, out, err, timeout, env, logs / f"{stamp}.json")
        code, seconds, rss = _wait(child)
    timed_out = child.expired.is_set()
    stdout = out_path.read_text(errors="replace")
    if check and code != 0 and not timed_out:
        tail = err_path.read_text(errors="replace")[-3000:]
        raise ChildFailed(f"{' '.join(command)} exited {code}:\n{tail}")
    out_path.unlink()
    err_path.unlink()
    rss = rss or child.peak[0]  # killed: only the sampled peak is known
    return Measured(seconds, rss, max(child.peak[0], rss), timed_out, code, stdout)


def run(command: Sequence[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB, largest single process of the tree) of a child command."""
    measured = run_measured(command)
    return measured.seconds, measured.peak_mb


def median_of(runs: int, measure: Callable[[], Measured]) -> tuple[Measured, list[Measured]]:
    """Call ``measure`` ``runs`` times; the median seconds (and the largest memory) and all runs.

    A timed-out run counts with its full time, so the median of mostly timed-out runs is a
    timeout too.
    """
    done = [measure() for _ in range(runs)]
    seconds = statistics.median(m.seconds for m in done)
    summary = replace(done[-1], seconds=seconds, peak_mb=max(m.peak_mb for m in done),
                      tree_mb=max(m.tree_mb for m in done),
                      timed_out=sum(m.timed_out for m in done) * 2 > runs)
    return summary, done


# --- cached labeled dumps -----------------------------------------------------------------------

@dataclass(frozen=True)
class Dump:
    """A dump on disk: the file every tool reads, its labels, and what it holds."""

    path: Path
    truth_path: Path | None
    posts: int
    accounts: int
    description: str

    def truth(self) -> list[Truth] | None:
        if self.truth_path is None:
            return None
        with self.truth_path.open(encoding="utf-8", newline="") as stream:
            return read_truth(stream)


def _key(settings: dict[str, object]) -> str:
    text = json.dumps({**settings, "version": DUMP_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _params_dict(params: SimulationParams) -> dict[str, object]:
    return {k: str(v) if not isinstance(v, int | float) else v for k, v in asdict(params).items()}


def _load_cached(folder: Path) -> Dump | None:
    meta_path = folder / "meta.json"
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text())
    return Dump(folder / "dump.jsonl", folder / "truth.csv", meta["posts"], meta["accounts"],
                meta["description"])


def _save(folder: Path, posts: list[Post], accounts: dict[str, Account], truth: list[Truth],
          description: str, settings: dict[str, object]) -> Dump:
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / "dump.jsonl.partial"
    with partial.open("w", encoding="utf-8", newline="") as out:
        write_dump("twarc2", posts, out, accounts)
    partial.rename(folder / "dump.jsonl")
    with (folder / "truth.csv").open("w", encoding="utf-8", newline="") as out:
        write_truth(truth, out)
    meta = {"posts": len(posts), "accounts": len(truth), "description": description,
            "settings": settings}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1, default=str))  # written last: the mark
    return Dump(folder / "dump.jsonl", folder / "truth.csv", len(posts), len(truth), description)


def _cached(name: str, settings: dict[str, object], build: Callable[[], tuple[Simulation, str]]) -> Dump:
    folder = DUMPS / f"{name}-{_key(settings)}"
    if (dump := _load_cached(folder)) is not None:
        progress(f"dump {name}: cached {folder} ({dump.posts} posts)")
        return dump
    progress(f"dump {name}: simulating {settings}")
    started = time.perf_counter()
    sim, description = build()
    progress(f"dump {name}: {len(sim.posts)} posts simulated in {time.perf_counter() - started:.0f} s; "
             "writing")
    return _save(folder, sim.posts, sim.accounts, sim.truth, description, settings)


def month_dump(params: SimulationParams = MONTH) -> Dump:
    """bench_detect.py's default month (its docstring says ~340k posts; seed 11 gives 311,569)."""
    def build() -> tuple[Simulation, str]:
        sim = simulate(params)
        return sim, (f"month: {params.days} days, {params.accounts} organic accounts, "
                     f"scale {params.scale}, seed {params.seed}")
    return _cached("month", {"kind": "month", **_params_dict(params)}, build)


def sized_dump(posts: int, seed: int = 11) -> Dump:
    """A month-like dump of about ``posts`` posts: bench_detect's month with accounts and scale
    multiplied by ``posts`` / ``MONTH_POSTS`` (the number of days stays 30)."""
    factor = posts / MONTH_POSTS
    params = replace(MONTH, seed=seed, accounts=max(100, round(MONTH.accounts * factor)),
                     scale=MONTH.scale * factor)

    def build() -> tuple[Simulation, str]:
        sim = simulate(params)
        return sim, f"sized {posts}: accounts {params.accounts}, scale {params.scale:.2f}, 30 days"
    return _cached(f"sized{posts}", {"kind": "sized", "target": posts, **_params_dict(params)}, build)


def compress_day(sim: Simulation, factor: int = 24) -> Simulation:
    """Every time t of a one-day simulation mapped to start + (t - start) / ``factor``.

    This COMPRESSES TIME ``factor`` times: gaps between posts (organic ones included) shrink
    ``factor`` times, so it is a stress test of density, not a realistic evening. Post ids are
    recomputed snowflakes of the new times, with the same low bits.
    """
    start = sim.params.start
    ids: dict[str, str] = {}
    taken: set[str] = set()
    posts: list[Post] = []
    for post in sim.posts:
        moment = start + (post.created_at - start) / factor
        moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        sequence = int(post.post_id) & 0x3FFFFF
        while (new_id := snowflake(moment, sequence)) in taken:  # ids must stay unique
            sequence += 1
        taken.add(new_id)
        ids[post.post_id] = new_id
        posts.append(replace(post, post_id=new_id, created_at=moment))
    posts = [replace(p, repost_of=ids.get(p.repost_of, p.repost_of) if p.repost_of else None,
                     reply_to=ids.get(p.reply_to, p.reply_to) if p.reply_to else None,
                     quote_of=ids.get(p.quote_of, p.quote_of) if p.quote_of else None) for p in posts]
    return Simulation(posts, sim.accounts, sim.truth, sim.params)


def crop_busiest_hour(sim: Simulation) -> Simulation:
    """Only the posts of the one-hour span holding the most posts; real timing is kept.

    Labels are kept for the accounts that posted in that hour only.
    """
    times = [p.created_at for p in sim.posts]  # posts are sorted by time
    hour = timedelta(hours=1)
    best, best_count = 0, -1
    for i, moment in enumerate(times):
        count = bisect_left(times, moment + hour, lo=i) - i
        if count > best_count:
            best, best_count = i, count
    posts = sim.posts[best:best + best_count]
    present = {p.account_id for p in posts}
    truth = [t for t in sim.truth if t.account_id in present]
    accounts = {k: v for k, v in sim.accounts.items() if k in present}
    return Simulation(posts, accounts, truth, sim.params)


def bursty_dump(accounts: int = 30000, posts_per_account: float = 2.0, scale: float = 3.0,
                mode: str = "compress", seed: int = 11) -> Dump:
    """A TV-debate evening: tens of thousands of accounts posting within one hour.

    The simulator cannot express less than one day (``days`` >= 1 and scenarios are placed by
    day), so one day is simulated with many accounts, then (``mode``):

    - ``compress``: the whole day squeezed into its first hour, t' = start + (t - start) / 24.
      TIME IS COMPRESSED 24x: every gap, organic ones included, is 24 times shorter than
      simulated; all accounts and labels are kept.
    - ``crop``: only the busiest real hour of the day is kept (real gaps; fewer accounts, and
      campaigns only partly visible); labels of accounts absent from that hour are dropped.
    """
    if mode not in BURST_MODES:
        raise ValueError(f"burst mode {mode!r}: choose one of {', '.join(BURST_MODES)}")
    params = SimulationParams(seed=seed, accounts=accounts, days=1, posts_per_account=posts_per_account,
                              scale=scale)

    def build() -> tuple[Simulation, str]:
        day = simulate(params)
        if mode == "compress":
            return compress_day(day), (f"bursty/compress: one simulated day of {accounts} organic "
                                       f"accounts (scale {scale}) COMPRESSED 24x into one hour")
        cropped = crop_busiest_hour(day)
        return cropped, (f"bursty/crop: the busiest real hour of one simulated day of {accounts} "
                         f"organic accounts (scale {scale}); no time compression")
    return _cached(f"bursty-{mode}", {"kind": "bursty", "mode": mode, **_params_dict(params)}, build)


def given_dump(path: Path, truth_path: Path | None) -> Dump:
    """A dump the user gives (any format ``cib ingest`` reads; the peer needs twarc2 or v1.1 JSON)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such dump")
    return Dump(path, truth_path, 0, 0, f"given: {path}")
