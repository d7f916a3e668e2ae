"""Text lookup on a simulated dump: index build rate, query latency, and recall against brute force.

    python bench/bench_lookup.py --posts 300000                 # a temporary SQLite file
    python bench/bench_lookup.py --posts 300000 --url postgresql+psycopg://postgres@127.0.0.1/bench

It simulates about ``--posts`` posts (bench_detect.py's mix), writes them as a twarc2 dump and
ingests it, then times ``update_lookup_index`` (posts/s) and ``find_similar`` for ``--queries``
texts taken from the data (a random post's text, with a new link half the time) and as many
unseen texts (words of the data in a new order): p50, p99 and max in ms. The peer is the lookup
without an index: read every stored text and sketch it (timed once), then compare; with those
signatures in memory it also gives the recall of the index (matches found / brute-force matches).
Last, it times forgetting a 1,000-post dataset (what deleting it adds).
"""

from __future__ import annotations

import argparse
import gc
import gzip
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from detector.dumps import write_dump
from detector.fingerprint import signatures
from detector.load import IngestOptions, ingest_file
from detector.lookup import LookupParams, has_content, query_signature, similarities
from detector.normalize import normalize_text
from detector.simulate import SimulationParams, simulate
from detector.store import make_engine, migrate
from detector.store.lookup import find_similar, forget_dataset_posts, update_lookup_index
from tests.factories import post

POSTS_PER_ACCOUNT = 17          # what the simulator makes per organic account, campaigns included


def build(args: argparse.Namespace, folder: Path) -> Engine:
    if args.db and Path(args.db).exists():
        engine = make_engine(f"sqlite:///{args.db}")
        migrate(engine)
        return engine
    accounts = max(100, args.posts // POSTS_PER_ACCOUNT)
    sim = simulate(SimulationParams(seed=args.seed, accounts=accounts, days=30, scale=accounts / 2000))
    dump = folder / "sim.jsonl.gz"
    with gzip.open(dump, "wt", encoding="utf-8", newline="") as out:
        write_dump("twarc2", sim.posts, out, sim.accounts)
    engine = make_engine(args.url or f"sqlite:///{args.db or folder / 'lookup.db'}")
    migrate(engine)
    start = time.perf_counter()
    report = ingest_file(engine, dump, IngestOptions())
    print(f"{len(sim.posts)} posts simulated, {report.stored} stored in {time.perf_counter() - start:.1f} s")
    return engine


def stored_texts(engine: Engine) -> tuple[list[int], list[str]]:
    with engine.connect() as c:
        rows = c.exec_driver_sql("SELECT id, text FROM posts ORDER BY id").all()
    return [r.id for r in rows], [r.text or "" for r in rows]


def data_queries(texts: list[str], count: int, rng: random.Random) -> list[str]:
    params = LookupParams()
    usable = [t for t in texts if has_content(normalize_text(t), params)]
    picked = rng.sample(usable, count)
    return [f"{t} https://t.co/{rng.randrange(10**9):x}" if i % 2 else t for i, t in enumerate(picked)]


def unseen_queries(texts: list[str], count: int, rng: random.Random) -> list[str]:
    words = sorted({w for t in rng.sample(texts, 5000) for w in normalize_text(t).split() if w.isalpha()})
    return [" ".join(rng.choices(words, k=rng.randint(6, 16))) for _ in range(count)]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


@dataclass(frozen=True)
class Answer:
    """What the bench keeps of a result: holding every result would make this process's garbage
    collector run more often than a server's does."""

    total_matches: int
    candidates_checked: int
    truncated: bool


def latency(engine: Engine, queries: list[str]) -> tuple[list[float], list[Answer]]:
    ms: list[float] = []
    answers: list[Answer] = []
    for query in queries:
        seconds, result = timed(lambda q=query: find_similar(engine, q))  # type: ignore[misc]
        ms.append(seconds * 1000)
        answers.append(Answer(result.total_matches, result.candidates_checked, result.truncated))
    return ms, answers


def show(name: str, ms: list[float], results: list[Answer]) -> None:
    q = statistics.quantiles(ms, n=100)
    matches = [r.total_matches for r in results]
    print(f"  {name:7} p50 {q[49]:6.1f} ms  p99 {q[98]:6.1f} ms  max {max(ms):6.1f} ms | matches "
          f"median {statistics.median(matches):.0f} max {max(matches)}, candidates max "
          f"{max(r.candidates_checked for r in results)}, truncated {sum(r.truncated for r in results)}")


def recall(queries: list[str], results: list[Answer], all_sigs: np.ndarray) -> float:
    params = LookupParams()
    found = expected = 0
    for query, result in zip(queries, results, strict=True):
        if result.truncated:
            continue
        truth = int((similarities(query_signature(query, params), all_sigs) >= params.threshold).sum())
        expected += truth
        found += result.total_matches
    return found / max(expected, 1)


def forget_cost(engine: Engine) -> float:
    """Seconds to forget a 1,000-post dataset's index rows (rolled back)."""
    posts = [post(10**6 + n, account=n % 50, seconds=n, text=f"bench lookup message number {n}")
             for n in range(1000)]
    with tempfile.TemporaryDirectory() as tmp:
        from tests.factories import write_file
        report = ingest_file(engine, write_file(Path(tmp) / "extra.jsonl", "twarc2", posts))
    update_lookup_index(engine)
    with engine.connect() as c, c.begin() as transaction:
        seconds, _ = timed(lambda: forget_dataset_posts(c, report.dataset_id or 0))
        transaction.rollback()
    return seconds


def index_megabytes(engine: Engine) -> float | None:
    """The index's tables and indexes on disk (SQLite needs the dbstat table to say)."""
    tables = ("lookup_texts", "lookup_bands", "ix_lookup_texts_post_ref")
    with engine.connect() as c:
        if engine.dialect.name == "postgresql":
            size = c.execute(text("SELECT pg_total_relation_size('lookup_texts') + "
                                  "pg_total_relation_size('lookup_bands')")).scalar_one()
        else:
            try:
                size = c.execute(text(f"SELECT SUM(pgsize) FROM dbstat WHERE name IN {tables}")).scalar_one()
            except OperationalError:    # an SQLite built without dbstat: say nothing
                return None
    return int(size or 0) / 1e6


def bench_index(engine: Engine) -> None:
    seconds, indexed = timed(lambda: update_lookup_index(engine))
    with engine.connect() as c:
        texts, bands = c.execute(text("SELECT (SELECT COUNT(*) FROM lookup_texts), "
                                      "(SELECT COUNT(*) FROM lookup_bands)")).one()
    rate = f"{indexed / seconds:.0f} posts/s" if indexed else "up to date already"
    size = index_megabytes(engine)
    print(f"index: {indexed} posts in {seconds:.1f} s = {rate}; {texts} text rows, {bands} band rows "
          f"({bands // LookupParams().bands} distinct texts)" + ("" if size is None else f", {size:.1f} MB"))


def bench_queries(engine: Engine, args: argparse.Namespace) -> tuple[list[str], list[float], list[Answer]]:
    """Times both kinds of queries; returns the data queries, their times and answers."""
    rng = random.Random(args.seed)
    _ids, texts = stored_texts(engine)
    from_data, unseen = data_queries(texts, args.queries, rng), unseen_queries(texts, args.queries, rng)
    del texts
    find_similar(engine, from_data[0])  # warm the caches, as a server would be
    gc.collect()                        # a server's steady state: the set-up's garbage is not the queries'
    data_ms, data_answers = latency(engine, from_data)
    unseen_ms, unseen_answers = latency(engine, unseen)
    print(f"find_similar, {args.queries} queries each:")
    show("data", data_ms, data_answers)
    show("unseen", unseen_ms, unseen_answers)
    return from_data, data_ms, data_answers


def bench_peer(engine: Engine, queries: list[str], ms: list[float], answers: list[Answer]) -> None:
    read, (_ids, texts) = timed(lambda: stored_texts(engine))
    sketch, all_sigs = timed(lambda: signatures(texts, LookupParams().fingerprint))
    print(f"peer, no index: read and sketch every text once per query: {read + sketch:.1f} s "
          f"({(read + sketch) * 1000 / statistics.median(ms):.0f}x the indexed p50)")
    print(f"recall of the index against brute force at 0.8 (data queries): "
          f"{recall(queries, answers, all_sigs):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=300_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--url", help="a PostgreSQL URL of an empty database (default: SQLite file)")
    parser.add_argument("--db", help="an SQLite file to keep (reused if it exists: re-runs skip the build)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = build(args, Path(tmp))
        bench_index(engine)
        bench_peer(engine, *bench_queries(engine, args))
        print(f"forget a 1,000-post dataset: {forget_cost(engine) * 1000:.0f} ms")
        engine.dispose()


if __name__ == "__main__":
    main()
