"""Detection on the Internet Research Agency's tweets of October 2016, against the accounts' coding.

    python bench/bench_real.py                               # ../shared/data's copy
    python bench/bench_real.py --ira PATH/ira_tweets_2016-10.csv.gz

Every account of that file was run by the IRA (Twitter's attribution), so it measures recall and
how campaigns group the accounts, not false positives: the accounts flagged, the campaigns, and
the adjusted Rand index of the flagged accounts' campaigns against Linvill & Warren's
``account_category`` (RightTroll, LeftTroll, NewsFeed, HashtagGamer, ...). Categories are not
campaigns, so the index is a relative measure: to compare two versions of the detector, not a
score to reach. The file is ingested into a temporary SQLite database and detected with the
default parameters and the rule scorer.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
import tempfile
import time
from pathlib import Path

from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from detector.detect import detect
from detector.load import IngestOptions, ingest_file
from detector.store import iter_posts, open_database

DEFAULT = Path(__file__).resolve().parents[2] / "shared/data/ira-2016-10/ira_tweets_2016-10.csv.gz"


def categories(path: Path) -> dict[str, str]:
    """``external_author_id`` (the account id the ingest keeps) -> ``account_category``."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as rows:
        return {row["external_author_id"]: row["account_category"] for row in csv.DictReader(rows)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ira", type=Path, default=DEFAULT, help="the IRA tweets CSV (gzip)")
    args = parser.parse_args()
    if not args.ira.is_file():
        print(f"no IRA tweets file at {args.ira}: give --ira PATH (FiveThirtyEight's "
              "russian-troll-tweets, October 2016, gzipped)", file=sys.stderr)
        return 2
    coded = categories(args.ira)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(f"sqlite:///{Path(folder) / 'ira.db'}")
        ingest_file(engine, args.ira, IngestOptions(parallel=False))
        posts = list(iter_posts(engine))
        engine.dispose()
    start = time.perf_counter()
    result = detect(posts)
    seconds = time.perf_counter() - start
    flagged = {a: s.campaign_ids[0] if s.campaign_ids else "-"
               for a, s in result.scores.items() if s.flagged}
    known = [a for a in flagged if a[1] in coded]
    ari = adjusted_rand_score([coded[a[1]] for a in known], [flagged[a] for a in known]) if known else 0.0
    rows = [("posts / accounts", f"{len(posts):,} / {len(coded):,}"),
            ("detect", f"{seconds:.1f} s"),
            ("ties / campaigns", f"{result.graph.number_of_edges():,} / {len(result.campaigns):,}"),
            ("accounts flagged (all are IRA)", f"{len(flagged):,}"),
            ("ARI of their campaigns vs account_category", f"{ari:.3f}")]
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
