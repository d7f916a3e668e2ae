"""Ingest throughput and memory, per format, measured in one run.

    python bench/bench_ingest.py                 # 300k posts, twarc2 + v1 + ioarchive
    python bench/bench_ingest.py --posts 50000 --formats twarc2
    python bench/bench_ingest.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

For each format it writes a synthetic dump (seeded), then in a fresh process each: parses it only
(the floor), and ingests it into a new SQLite file. It prints posts/s, the ratio of ingest to
parse-only time, and peak RSS of the ingesting process and of its reader process (files over 4 MB
are parsed in a child); a second, 4x smaller dump shows whether memory grows with the file.

With ``--postgres URL`` it also ingests the same big dump into PostgreSQL twice, each time into a
fresh schema (dropped afterwards): posts stored one INSERT per row (executemany) and through COPY
(``detector.store.writer.COPY_ON_POSTGRES``), and prints seconds and posts/s of SQLite and both
PostgreSQL paths, and the ratios.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.dumps import snowflake, write_dump
from detector.records import Account, Post

WORDS = ("vote debate jean nicolas france change now together tonight live watch share news "
         "economy jobs school health europe people future the a of to in is for on with").split()
CLIENTS = ("Twitter for iPhone", "Twitter for Android", "Twitter Web App", "TweetDeck", "Twitpop")


def synthetic_posts(count: int, seed: int = 7) -> tuple[list[Post], dict[str, Account]]:
    """``count`` posts over a month by count/15 accounts: originals, retweets, replies, links."""
    rng = random.Random(seed)
    start = datetime(2012, 4, 1, tzinfo=UTC)
    n_accounts = max(count // 15, 10)
    accounts = {str(10**9 + a): Account("twitter", str(10**9 + a), f"user{a}", f"User {a}",
                                        start - timedelta(days=rng.randint(10, 3000)),
                                        rng.randint(0, 5000), rng.randint(0, 2000), rng.randint(1, 90000))
                for a in range(n_accounts)}
    ids = list(accounts)
    posts: list[Post] = []
    for n in range(count):
        moment = start + timedelta(seconds=n * 30 * 86400 / count + rng.random())
        author = rng.choice(ids)
        text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 24)))
        earlier = posts[rng.randrange(len(posts))].post_id if posts else None
        kind = rng.random()
        posts.append(Post(
            platform="twitter", post_id=snowflake(moment, n), account_id=author,
            handle=accounts[author].handle, created_at=moment,
            text=("RT @x: " + text) if kind < 0.3 else text,
            repost_of=earlier if kind < 0.3 else None,
            reply_to=earlier if 0.3 <= kind < 0.4 else None,
            urls=(f"https://news.example/{rng.randint(1, 5000)}",) if rng.random() < 0.3 else (),
            hashtags=tuple(rng.sample(WORDS[:12], rng.randint(0, 2))),
            lang="fr", client=rng.choice(CLIENTS)))
    return posts, accounts


def write(fmt: str, posts: list[Post], accounts: dict[str, Account], folder: Path) -> Path:
    path = folder / f"dump-{len(posts)}.{fmt}.gz"
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=3, newline="") as out:
        write_dump(fmt, posts, out, accounts)
    return path


CHILD = """
import json, resource, sys, time
from pathlib import Path
mode, path, db = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
if len(sys.argv) > 4:
    from detector.store import writer
    writer.COPY_ON_POSTGRES = sys.argv[4] == "copy"
start = time.perf_counter()
if mode == "parse":
    from detector.ingest import read_dump
    posts = sum(1 for r in read_dump(path) if type(r).__name__ == "Post")
else:
    from detector.load import ingest_file
    from detector.store import open_database
    posts = ingest_file(open_database(db), path).stored
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
reader = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"posts": posts, "seconds": seconds, "peak_mb": peak, "reader_mb": reader}))
"""


def measure(mode: str, path: Path, folder: Path, db: str | None = None,
            posts_by: str | None = None) -> dict[str, float]:
    db = db or str(folder / f"{path.stem}-{time.monotonic_ns()}.db")
    done = subprocess.run([sys.executable, "-c", CHILD, mode, str(path), db,
                           *([posts_by] if posts_by else [])],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """A URL to a new, empty schema of the PostgreSQL at ``base``, dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"cib_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def compare_postgres(base: str, dumps: dict[str, tuple[Path, dict[str, float]]],
                     folder: Path) -> None:
    """SQLite (measured above) against PostgreSQL, executemany then COPY, on the same dumps."""
    from detector.store import resolve_url

    base = resolve_url(base)
    print(f"\nPostgreSQL ({base.rsplit('@', 1)[-1]}), a fresh schema per ingest")
    print(f"{'format':10} {'posts':>7} {'sqlite s':>9} {'pg rows s':>9} {'pg copy s':>9} "
          f"{'sqlite/s':>9} {'rows/s':>9} {'copy/s':>9} {'rows:copy':>9} {'sqlite:copy':>11}")
    for fmt, (path, sqlite) in dumps.items():
        runs = {}
        for posts_by in ("rows", "copy"):
            with fresh_schema(base) as url:
                runs[posts_by] = measure("ingest", path, folder, url, posts_by)
        rows, copy = runs["rows"], runs["copy"]
        assert sqlite["posts"] == rows["posts"] == copy["posts"], (sqlite, rows, copy)
        print(f"{fmt:10} {sqlite['posts']:7.0f} {sqlite['seconds']:9.2f} {rows['seconds']:9.2f} "
              f"{copy['seconds']:9.2f} {sqlite['posts'] / sqlite['seconds']:9.0f} "
              f"{rows['posts'] / rows['seconds']:9.0f} {copy['posts'] / copy['seconds']:9.0f} "
              f"{rows['seconds'] / copy['seconds']:9.2f} {sqlite['seconds'] / copy['seconds']:11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=300_000)
    parser.add_argument("--formats", default="twarc2,v1,ioarchive")
    parser.add_argument("--postgres", metavar="URL",
                        help="also ingest into this PostgreSQL (executemany and COPY), to compare")
    args = parser.parse_args()
    small = args.posts // 4
    posts, accounts = synthetic_posts(args.posts)
    print(f"posts: {args.posts} (and {small} for the memory check), accounts: {len(accounts)}")
    print(f"{'format':10} {'parse/s':>9} {'ingest/s':>9} {'ingest:parse':>12} "
          f"{'peak MB':>8} {'reader MB':>9} {'peak MB @1/4':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        dumps: dict[str, tuple[Path, dict[str, float]]] = {}
        for fmt in args.formats.split(","):
            big, little = write(fmt, posts, accounts, folder), write(fmt, posts[:small], accounts, folder)
            parse, ingest, ingest_small = (measure("parse", big, folder), measure("ingest", big, folder),
                                           measure("ingest", little, folder))
            print(f"{fmt:10} {parse['posts'] / parse['seconds']:9.0f} "
                  f"{ingest['posts'] / ingest['seconds']:9.0f} "
                  f"{ingest['seconds'] / parse['seconds']:12.2f} {ingest['peak_mb']:8.0f} "
                  f"{ingest['reader_mb']:9.0f} {ingest_small['peak_mb']:12.0f}")
            dumps[fmt] = (big, ingest)
        if args.postgres:
            compare_postgres(args.postgres, dumps, folder)
    print(f"(python {sys.version.split()[0]}, {resource.getpagesize()}-byte pages)")


if __name__ == "__main__":
    main()
