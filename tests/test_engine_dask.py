"""The Dask engine gives what the local ``detect`` gives, on a 2-worker local cluster."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

import pyarrow as pa
import pyarrow.parquet as pq
from distributed import Client, LocalCluster

from detector.cli import main
from detector.detect import Detection, detect
from detector.dumps import write_dump
from detector.engine_dask import Partitioning, connect, detect_dask
from detector.errors import ClusterUnavailable, MissingInput
from detector.ingest import read_dump
from detector.partitioned import post_order
from detector.records import Post
from detector.simulate import SimulationParams, simulate
from detector.store import open_database
from detector.store.detections import latest_detection

MIDNIGHT = datetime(2024, 3, 2, tzinfo=UTC)   # a partition boundary with daily partitions
DAILY = Partitioning(timedelta(days=1), shards=3)


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as c:
        yield c


def outcome(result: Detection) -> dict[str, Any]:
    """Everything a detection reports, in comparable form."""
    return {
        "campaigns": [(c.campaign_id, c.kind, c.members, c.score, c.features,
                       [(e.signal, e.key, e.start, e.end, e.participants, e.key_posts, e.key_accounts,
                         e.occasion) for e in c.events]) for c in result.campaigns],
        "scores": {a: (s.score, s.subscores, s.features, s.campaign_ids, s.flagged,
                       [(e.signal, e.key, e.occasion, p) for e, p in s.evidence])
                   for a, s in result.scores.items()},
        "ties": sorted((a, b, sorted(d.items())) for a, b, d in result.graph.edges(data=True)),
        "counts": result.counts, "texts": result.texts, "similarity": result.similarity,
    }


def _post(n: int, account: int, moment: datetime, text: str = "", **fields: Any) -> Post:
    return Post("twitter", str(10_000 + n), str(account), moment, text, **fields)


def straddling_posts() -> list[Post]:
    """A relay, a co-repost ring and a link push whose occasions straddle midnights, in noise."""
    rng = random.Random(7)
    posts = []
    relay = "Breaking: the mayor was seen taking cash from the developers, share before deleted!"
    for i in range(25):                          # 23:58:00 .. 00:02:00
        posts.append(_post(i, 100 + i, MIDNIGHT - timedelta(minutes=2) + timedelta(seconds=10 * i), relay))
    for day in range(3):                         # a ring of 5 reposts three sources, at three midnights
        moment = MIDNIGHT + timedelta(days=day)
        source = _post(100 + day, 900, moment - timedelta(hours=1), f"source number {day} of the ring push")
        posts.append(source)
        for k in range(5):
            at = moment - timedelta(seconds=20) + timedelta(seconds=8 * k)
            posts.append(_post(200 + 10 * day + k, 200 + k, at, f"RT source {day}", repost_of=source.post_id))
    for day in range(2):                         # a link pushed by 6 accounts around two midnights
        for k in range(6):
            posts.append(_post(300 + 10 * day + k, 300 + k,
                               MIDNIGHT + timedelta(days=day, minutes=-4 + 1.5 * k), f"wow {k}",
                               urls=(f"https://www.example.org/story?utm_source=x&id={day}",)))
    tags = [("vote", "city"), ("vote", "mayor"), ("city", "news")]
    for n in range(400):                         # organic noise over three days
        moment = MIDNIGHT - timedelta(days=1) + timedelta(seconds=rng.uniform(0, 3 * 86400))
        words = " ".join(rng.choice(["city", "mayor", "rain", "bus", "park", "vote", "news", "cafe"])
                         for _ in range(8))
        posts.append(_post(1000 + n, 500 + rng.randrange(60), moment, f"{words} {n}",
                           hashtags=rng.choice(tags)))
    return sorted(posts, key=post_order)


def test_straddling_campaigns_identical(client: Client) -> None:
    posts = straddling_posts()
    local = detect(posts)
    kinds = {c.kind for c in local.campaigns}
    assert kinds == {"relay", "network"}        # the data exercises both paths ...
    assert any(e.start < MIDNIGHT <= e.end for c in local.campaigns for e in c.events)  # ... across midnight
    assert outcome(detect_dask(client, posts, partitioning=DAILY)) == outcome(local)


@pytest.mark.slow
def test_simulated_dump_identical_with_small_partitions(client: Client) -> None:
    posts = sorted(simulate(SimulationParams(seed=5, accounts=300, days=2)).posts, key=post_order)
    local = detect(posts)
    assert local.campaigns
    got = detect_dask(client, posts, partitioning=Partitioning(timedelta(hours=6), shards=3))
    assert outcome(got) == outcome(local)


def test_jsonl_and_parquet_files(client: Client, tmp_path: Path) -> None:
    posts = straddling_posts()
    jsonl = tmp_path / "dump.jsonl"
    with jsonl.open("w", encoding="utf-8") as out:
        write_dump("twarc2", posts[::2], out)
    read = [r for r in read_dump(jsonl) if isinstance(r, Post)]
    table = pa.Table.from_pylist([{f: getattr(p, f) for f in Post.__dataclass_fields__} for p in posts[1::2]])
    parquet = tmp_path / "posts.parquet"
    pq.write_table(table, parquet, row_group_size=100)    # several row groups: several read tasks
    local = detect(sorted(read + posts[1::2], key=post_order))
    got = detect_dask(client, [jsonl, parquet], partitioning=DAILY)
    assert got.counts["posts"] == len(posts)
    assert outcome(got) == outcome(local)


def test_missing_file_is_named(client: Client, tmp_path: Path) -> None:
    with pytest.raises(MissingInput, match="every worker"):
        detect_dask(client, [tmp_path / "absent.jsonl"])


def test_unreachable_scheduler_is_named() -> None:
    with pytest.raises(ClusterUnavailable, match="dask scheduler"):
        connect("tcp://127.0.0.1:9", timeout=1)


def test_cli_detect_on_a_scheduler_stores_the_run(client: Client, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "dump.jsonl"
    with dump.open("w", encoding="utf-8") as out:
        write_dump("twarc2", straddling_posts(), out)
    db = str(tmp_path / "cib.db")
    assert main(["detect", "--engine", "dask", "--scheduler", client.scheduler.address,
                 "--input", str(dump), "--rule", "--db", db]) == 0
    assert "3 campaigns" in capsys.readouterr().out
    assert main(["campaigns", "--json", "--db", db]) == 0
    assert sorted(r["kind"] for r in json.loads(capsys.readouterr().out)) == ["network", "network", "relay"]
    row = latest_detection(open_database(db))
    assert row is not None and row.versions["engine"] == "dask" and row.versions["partition_s"] == "86400.0"


def test_cli_input_needs_the_dask_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--input", str(tmp_path / "x.jsonl"), "--db", str(tmp_path / "cib.db")]) != 0
    assert "--engine dask" in capsys.readouterr().err
