"""The floor: only read and parse a dump with our readers, and exact-hash every post's normalized text.

    python bench/floor.py DUMP          # prints one JSON line, e.g.
    {"posts": 341234, "distinct_texts": 201876, "parse_seconds": 21.3, "hash_seconds": 4.1,
     "in_process_seconds": 25.4}

No database, no near-duplicate search: any detector that reads this file and groups identical
texts takes at least this long. ``bench_peer.py`` runs it as a child process (``measure_floor``)
so that its wall time includes interpreter start and imports, like ``cib ingest`` and
``cib detect``; ``parse_seconds`` and ``hash_seconds`` split the time spent in the process.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass
from hashlib import blake2b
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit import Measured, run_measured

from detector.ingest import read_dump
from detector.normalize import normalize_text
from detector.records import Post


@dataclass(frozen=True)
class FloorParts:
    """What the floor process measured in itself; seconds exclude interpreter start."""

    posts: int
    distinct_texts: int
    parse_seconds: float     # reading, decompressing, parsing into records
    hash_seconds: float      # normalize_text + blake2b of every post's text
    in_process_seconds: float


def floor(path: Path) -> FloorParts:
    """Parse ``path`` with ``read_dump`` (as ``cib ingest`` does) and hash each normalized text."""
    digests: set[bytes] = set()  # grouping identical texts is the least a detector does
    posts = 0
    hashing = 0.0
    start = time.perf_counter()
    for record in read_dump(path):
        if not isinstance(record, Post):
            continue
        posts += 1
        before = time.perf_counter()
        digests.add(blake2b(normalize_text(record.text).encode(), digest_size=8).digest())
        hashing += time.perf_counter() - before
    total = time.perf_counter() - start
    return FloorParts(posts, len(digests), total - hashing, hashing, total)


def measure_floor(path: Path, timeout: float | None = None) -> tuple[Measured, FloorParts]:
    """Run this script on ``path`` as a child: its wall time and memory, and its own split."""
    measured = run_measured([sys.executable, str(Path(__file__).resolve()), str(path)], timeout=timeout)
    return measured, FloorParts(**json.loads(measured.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dump", type=Path)
    args = parser.parse_args()
    parts = floor(args.dump)
    print(json.dumps(asdict(parts)))


if __name__ == "__main__":
    main()
