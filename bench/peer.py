"""The peer tool, coordination-network-toolkit, run as child processes in its own virtual env.

Not a script. ``ensure_peer`` creates ``bench/out/peer-venv`` on first use (``python -m venv`` +
``pip install coordination-network-toolkit==PEER_VERSION``): it is never a dependency of ours.

What its source (1.5.2) says it reads and does:

- ``compute_networks DB preprocess --format twitter_json FILE...`` opens each file as plain
  text (no ``.gz``) and reads one JSON document per line: first as API v2 response pages
  (twarc2 JSONL, flattened with twarc's ``ensure_flattened``), and if that raises, as API v1.1
  statuses, with the same, partly consumed file handle (so a v1.1 file loses its first line).
  The time of a tweet is taken from its snowflake id. ``--format csv`` (the default) reads
  ``message_id,user_id,username,repost_id,reply_id,message,timestamp,urls`` with a header
  (timestamp in seconds, urls space separated).
- ``compute_networks DB compute NETWORK --time_window SECONDS --min_edge_weight 2
  --similarity_threshold 0.8 --min_document_size_similarity 1 --n_cpus N`` for NETWORK in
  ``co_tweet`` (same text after lowercasing and dropping @mentions), ``co_similar_tweet`` (token
  Jaccard >= threshold between every pair of non-repost posts within the window, in Python:
  quadratic in the posts per window), ``co_retweet`` (same retweeted id). Defaults: window 1 s,
  min edge weight 2, similarity 0.8.
- ``compute_networks DB export_network OUT.csv NETWORK --output_format csv`` should write
  ``source,target,weight,edge_type`` without self loops, but fails in 1.5.2 (a TypeError), so
  the edges are read from its database table ``NETWORK_network`` the way its exporter would.

Its flagged accounts are those in any edge of a network.
"""

from __future__ import annotations

import csv
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit import OUT, Measured, progress, run_measured

from detector.ingest import read_dump, sniff_format
from detector.records import Post

PEER_PACKAGE = "coordination-network-toolkit"
PEER_VERSION = "1.5.2"
PEER_VENV = OUT / "peer-venv"
NETWORKS = ("co_tweet", "co_similar_tweet", "co_retweet")
CSV_HEADER = ("message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp",
              "urls")


@dataclass(frozen=True)
class PeerSettings:
    """How the peer is run; ``min_edge_weight`` and ``min_document_size`` are its defaults."""

    window: int = 60              # seconds, its --time_window
    similarity: float = 0.8
    min_edge_weight: int = 2
    min_document_size: float = 1
    cpus: int = 2
    timeout: float = 1800         # seconds, for each child


@dataclass
class PeerRun:
    """One run of the peer on one dump: every stage measured, and the accounts each network links.

    ``flagged[network]`` is None when that network did not finish (timeout).
    """

    preprocess: Measured
    computes: dict[str, Measured] = field(default_factory=dict)
    flagged: dict[str, dict[tuple[str, str], str | None] | None] = field(default_factory=dict)


def _bin(name: str) -> Path:
    return PEER_VENV / "bin" / name


def ensure_peer() -> Path:
    """The peer's ``compute_networks`` command, installing the peer's venv if needed."""
    command = _bin("compute_networks")
    if command.exists():
        return command
    progress(f"peer: creating {PEER_VENV} and installing {PEER_PACKAGE}=={PEER_VERSION}")
    subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    subprocess.run([str(_bin("python")), "-m", "pip", "install", "--quiet",
                    f"{PEER_PACKAGE}=={PEER_VERSION}"], check=True)
    if not command.exists():
        raise RuntimeError(f"{PEER_PACKAGE} installed but {command} is missing")
    return command


def write_peer_csv(posts: Iterable[Post], out: TextIO) -> int:
    """Posts as the peer's CSV (header, seconds since the epoch, space-separated urls); the count."""
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    count = 0
    for post in posts:
        writer.writerow((post.post_id, post.account_id, post.handle or "", post.repost_of or "",
                         post.reply_to or "", post.text, f"{post.created_at.timestamp():.3f}",
                         " ".join(post.urls)))
        count += 1
    return count


def peer_input(dump: Path, folder: Path) -> tuple[Path, str]:
    """The file and ``--format`` the peer reads for ``dump``: the dump itself when it is plain
    twarc2 JSONL, else a CSV written from our reader's posts (not timed, like writing the dump)."""
    with dump.open("rb") as handle:
        head = handle.read(1 << 16)
    if dump.suffix in (".jsonl", ".json") and sniff_format(head, dump.name) == "twarc2":
        return dump, "twitter_json"
    converted = folder / f"{dump.name}.peer.csv"
    if not converted.exists():
        progress(f"peer: converting {dump} to the peer's CSV")
        with converted.open("w", encoding="utf-8", newline="") as out:
            write_peer_csv((r for r in read_dump(dump) if isinstance(r, Post)), out)
    return converted, "csv"


def _components(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Connected component of each account (union-find), named by its smallest member."""
    parent: dict[str, str] = {}

    def root(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {node: root(node) for node in parent}


def flagged_accounts(edges: Iterable[tuple[str, str]], platform: str = "twitter"
                     ) -> dict[tuple[str, str], str | None]:
    """Every account in an edge, with its connected component as its campaign."""
    return {(platform, account): f"peer-{component}"
            for account, component in _components(edges).items()}


def union(flags: Iterable[Mapping[tuple[str, str], str | None] | None]) -> dict[tuple[str, str], str | None]:
    """Accounts flagged by any network (campaign ids dropped: components differ per network)."""
    merged: dict[tuple[str, str], str | None] = {}
    for one in flags:
        merged.update(dict.fromkeys(one or {}))
    return merged


def _compute(command: Path, db: Path, network: str, settings: PeerSettings) -> Measured:
    return run_measured([str(command), str(db), "compute", network,
                         "--time_window", str(settings.window),
                         "--min_edge_weight", str(settings.min_edge_weight),
                         "--similarity_threshold", str(settings.similarity),
                         "--min_document_size_similarity", str(settings.min_document_size),
                         "--n_cpus", str(settings.cpus)], timeout=settings.timeout)


def network_edges(db: Path, network: str) -> list[tuple[str, str]]:
    """The edges of a computed network, self loops left out, read from the peer's database as its
    own exporter does (its ``export_network --output_format csv`` fails in 1.5.2: TypeError,
    unexpected keyword argument 'n_messages')."""
    connection = sqlite3.connect(db)
    try:
        rows = connection.execute(f"select user_1, user_2 from {network}_network where user_1 != user_2")
        return [(str(a), str(b)) for a, b in rows]
    finally:
        connection.close()


def run_peer(dump: Path, folder: Path, settings: PeerSettings, networks: Iterable[str] = NETWORKS,
             tag: str = "run") -> PeerRun:
    """Preprocess ``dump`` into a fresh database, then compute each network and read its edges."""
    command = ensure_peer()
    source, fmt = peer_input(dump, folder)
    db = folder / f"peer-{tag}.db"
    for leftover in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        leftover.unlink(missing_ok=True)
    progress(f"peer: preprocess --format {fmt} {source.name}")
    result = PeerRun(run_measured([str(command), str(db), "preprocess", "--format", fmt, str(source)],
                                  timeout=settings.timeout))
    for network in networks:
        if result.preprocess.timed_out:
            result.flagged[network] = None
            continue
        progress(f"peer: compute {network} --time_window {settings.window}")
        result.computes[network] = _compute(command, db, network, settings)
        if result.computes[network].timed_out:
            progress(f"peer: {network} timed out after {settings.timeout:.0f} s")
            result.flagged[network] = None
            continue
        result.flagged[network] = flagged_accounts(network_edges(db, network))
    return result
