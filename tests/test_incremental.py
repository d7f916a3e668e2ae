"""Incremental re-detection gives what a full run on all the posts gives, reading few posts."""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import os
import pickle
import struct
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, func, literal_column, select, update

from detector import aside, refresh
from detector.cli import main
from detector.detect import Detection, DetectParams
from detector.errors import CacheOutdated, DamagedCache
from detector.graph import Pair
from detector.incremental import (
    State,
    _framed,
    _pack_content,
    _unframed,
    _unpack_content,
    all_tallies,
    per_account,
    tally_of,
    thaw,
)
from detector.link import AccountKey, Event, Participation
from detector.load import IngestOptions, ingest_file
from detector.pipeline import run_detection
from detector.records import Post
from detector.refresh import Cached, WarmCache, detect_incremental, plan
from detector.simulate import SimulationParams, simulate
from detector.store import account_creation, complete_datasets, make_engine, migrate, slices
from detector.store.lookup import unindexed_posts, update_lookup_index
from detector.store.queries import delete_dataset
from detector.store.retention import forget_cache, purge_before
from detector.store.schema import (
    IncrementalBandRow,
    IncrementalContentRow,
    IncrementalStateRow,
    LookupBandRow,
    LookupTextRow,
    PostRow,
)
from detector.store.slices import load_state
from tests.factories import post, write_file

_NAMES = itertools.count()
BASE = ("the committee will publish its full report on the regional water supply next tuesday "
        "after months of hearings with farmers engineers and the mayors of every town downstream")


def ingest(engine: Engine, folder: Path, posts: Sequence[Post]) -> int:
    path = write_file(folder / f"part{next(_NAMES)}.jsonl", "twarc2", posts)
    report = ingest_file(engine, path, IngestOptions(parallel=False))
    assert report.dataset_id is not None
    return report.dataset_id


def assert_same(incremental: Detection, full: Detection) -> None:
    """Campaigns (members), ties and scores equal; weights within 1e-9."""
    assert incremental.path.startswith("incremental") and full.path.startswith("full")
    members = sorted((c.kind, c.members, c.campaign_id, c.score) for c in incremental.campaigns)
    assert members == sorted((c.kind, c.members, c.campaign_id, c.score) for c in full.campaigns)
    assert sorted(incremental.graph.edges) == sorted(full.graph.edges)
    for a, b, data in full.graph.edges(data=True):
        mine = incremental.graph.edges[a, b]
        assert mine["weight"] == pytest.approx(data["weight"], abs=1e-9)
        assert (mine["contents"], mine["signals"]) == (data["contents"], data["signals"])
    assert incremental.scores.keys() == full.scores.keys()
    for account, score in full.scores.items():
        mine = incremental.scores[account]
        assert (mine.score, mine.flagged, mine.subscores) == (score.score, score.flagged, score.subscores)
        assert mine.features == pytest.approx(score.features, abs=1e-9)
        assert [(e.key, p.post_id) for e, p in mine.evidence] == \
            [(e.key, p.post_id) for e, p in score.evidence]
    for key in ("posts", "accounts", "events", "ties", "campaigns", "flagged"):
        assert incremental.counts[key] == full.counts[key], key
    assert incremental.texts == full.texts and incremental.similarity == full.similarity


def test_a_later_slice_updates_to_what_a_full_run_gives(engine: Engine, tmp_path: Path) -> None:
    posts = simulate(SimulationParams(accounts=300, days=3)).posts
    cut = posts[0].created_at + timedelta(days=2, hours=12)
    ingest(engine, tmp_path, [p for p in posts if p.created_at < cut])
    _, first = run_detection(engine, incremental=True)
    assert first.path == "full: no cache yet"
    ingest(engine, tmp_path, [p for p in posts if p.created_at >= cut])
    _, incremental = run_detection(engine, incremental=True)
    assert incremental.counts["incremental"] == 1
    assert gc.get_freeze_count() == 0           # the loaded cache was frozen, then thawed
    _, full = run_detection(engine, full=True, incremental=True)
    assert full.path == "full: asked for" and full.counts["incremental"] == 0
    assert_same(incremental, full)
    assert incremental.counts["posts_read"] < full.counts["posts_read"] / 2
    # the text evidence's similarities: measured again only where the first run had none
    fresh = incremental.similarity.keys() - first.similarity.keys()
    assert incremental.counts["similarities_measured"] == len(fresh) < len(incremental.similarity)


def test_an_update_indexes_its_posts_for_lookups_as_a_rebuild_would(engine: Engine,
                                                                     tmp_path: Path) -> None:
    """The new posts are indexed with the signatures the update made; the index is the one
    indexing them from their texts gives."""
    posts = simulate(SimulationParams(accounts=300, days=3)).posts
    cut = posts[0].created_at + timedelta(days=2, hours=12)
    parts = [p for p in posts if p.created_at < cut], [p for p in posts if p.created_at >= cut]
    ingest(engine, tmp_path, parts[0])
    run_detection(engine, incremental=True)
    ingest(engine, tmp_path, parts[1])
    assert unindexed_posts(engine) == len(parts[1])
    _, incremental = run_detection(engine, incremental=True)
    assert incremental.counts["incremental"] == 1 and unindexed_posts(engine) == 0
    rebuilt = make_engine(f"sqlite:///{tmp_path / 'rebuilt.db'}")
    migrate(rebuilt)
    for part in parts:
        ingest(rebuilt, tmp_path, part)
    update_lookup_index(rebuilt)

    def index(of: Engine) -> tuple[list[Any], list[Any]]:
        """Its rows, posts named by their ids (a database's row ids are its own)."""
        with of.connect() as c:
            return (sorted(c.execute(select(LookupTextRow.text_key, PostRow.post_id)
                                     .join(PostRow, PostRow.id == LookupTextRow.post_ref)).all()),
                    sorted(c.execute(select(LookupBandRow.band_key, LookupBandRow.text_key)).all()))

    assert index(engine) == index(rebuilt) and index(engine)[0]


def test_updates_in_a_row_give_what_a_full_run_gives(engine: Engine, tmp_path: Path) -> None:
    """The second update starts from tails the first one left (not from a full run's)."""
    posts = simulate(SimulationParams(accounts=300, days=3, seed=5)).posts
    first, second = (posts[0].created_at + timedelta(days=1, hours=h) for h in (20, 33))
    ingest(engine, tmp_path, [p for p in posts if p.created_at < first])
    run_detection(engine, incremental=True)
    for part in ([p for p in posts if first <= p.created_at < second],
                 [p for p in posts if p.created_at >= second]):
        ingest(engine, tmp_path, part)
        _, incremental = run_detection(engine, incremental=True)
        assert incremental.counts["incremental"] == 1
    _, full = run_detection(engine, full=True, incremental=True)
    assert_same(incremental, full)


def _in_three(engine: Engine, folder: Path, posts: Sequence[Post],
              warm: WarmCache | None) -> Detection:
    """A full run keeping the cache on the first part of ``posts``, then two updates."""
    first, second = (posts[0].created_at + timedelta(days=1, hours=h) for h in (20, 33))
    ingest(engine, folder, [p for p in posts if p.created_at < first])
    run_detection(engine, incremental=True, warm=warm)
    for part in ([p for p in posts if first <= p.created_at < second],
                 [p for p in posts if p.created_at >= second]):
        ingest(engine, folder, part)
        _, incremental = run_detection(engine, incremental=True, warm=warm)
        assert incremental.counts["cache_kept_loaded"] == int(warm is not None)
    return incremental


def _logged(engine: Engine) -> list[tuple[list[tuple[str, tuple[str, str]]], list[AccountKey], int]]:
    """What each row of the cache's log (after the state row) holds: its content steps, the
    accounts whose tallies it sets and its number of pair changes."""
    with engine.connect() as c:
        blobs = c.execute(select(IncrementalStateRow.blob).where(IncrementalStateRow.id > 1)
                          .order_by(IncrementalStateRow.id)).scalars().all()
    rows = [_unframed(blob) for blob in blobs]
    return [(sorted((kind, content) for kind, content, _, _ in steps),
             sorted(row[0] for row in tallies), len(pairs))
            for _, _, _, steps, tallies, _, pairs, _, _ in rows]


needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="the writing child is made with fork")


@pytest.mark.parametrize("aside_writes", [False, pytest.param(True, marks=needs_fork)],
                         ids=["written here", "written by a child"])
@pytest.mark.parametrize(("most", "rows"), [(3, 3), (1, 1)], ids=["logged", "written whole"])
def test_a_cache_kept_loaded_is_the_one_stored(engine: Engine, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch, most: int,
                                               rows: int, aside_writes: bool) -> None:
    """A worker's runs take the cache as the last one left it in memory, and it stays what
    loading the stored cache gives: a full run's, then each update's (the log's rows only
    its changes since, as rows of runs that each loaded the cache; or the state written whole).
    The same when a forked child writes each update's changes (as on a big cache)."""
    monkeypatch.setattr(slices, "LOG_ROWS", most)
    monkeypatch.setattr(slices, "LOG_SHARE", 1e9)
    if aside_writes:
        monkeypatch.setattr(aside, "MIN_POSTS", 0)
    posts = simulate(SimulationParams(accounts=300, days=3, seed=5)).posts
    warm = WarmCache()
    incremental = _in_three(engine, tmp_path, posts, warm)
    assert incremental.path.startswith("incremental (cache kept loaded): ")
    assert incremental.counts["cache_saved_aside"] == int(aside_writes)
    assert unindexed_posts(engine) == 0
    kept, stored = warm.take(engine), load_state(engine)
    assert kept is not None and stored is not None and kept[0] == stored[0]
    assert kept[1].contents == stored[1].contents and kept[1].tails == stored[1].tails
    assert all_tallies(kept[1]) == all_tallies(stored[1]) and kept[1].clusters == stored[1].clusters
    assert _pair_totals(kept[1]) == pytest.approx(_pair_totals(stored[1]), abs=1e-9)
    assert kept[1].similar == stored[1].similar                # the next run starts from them
    measured = {pair: value for pair, value in kept[1].similar.items() if value is not None}
    assert measured.items() >= incremental.similarity.items() and incremental.similarity
    cold = make_engine(f"sqlite:///{tmp_path / 'cold.db'}")
    migrate(cold)
    _in_three(cold, tmp_path, posts, None)
    assert _logged(engine) == _logged(cold) and len(_logged(cold)) == rows - 1
    cold.dispose()
    _, full = run_detection(engine, full=True, incremental=True)
    assert_same(incremental, full)


def test_a_cache_written_by_another_process_is_loaded_again(engine: Engine, tmp_path: Path) -> None:
    """What one process keeps is stale once another wrote the cache (an update, or a deletion
    that drops it): the next run loads the stored one."""
    posts = simulate(SimulationParams(accounts=300, days=3, seed=5)).posts
    cuts = [posts[0].created_at + timedelta(days=1, hours=h) for h in (20, 33)]
    warm = WarmCache()
    ingest(engine, tmp_path, [p for p in posts if p.created_at < cuts[0]])
    run_detection(engine, incremental=True, warm=warm)
    ingest(engine, tmp_path, [p for p in posts if cuts[0] <= p.created_at < cuts[1]])
    _, elsewhere = run_detection(engine, incremental=True)          # no warm: another process
    assert elsewhere.counts["cache_kept_loaded"] == 0
    last = ingest(engine, tmp_path, [p for p in posts if p.created_at >= cuts[1]])
    _, incremental = run_detection(engine, incremental=True, warm=warm)
    assert incremental.path.startswith("incremental: ")             # loaded, not the stale one
    _, full = run_detection(engine, full=True, incremental=True)
    assert_same(incremental, full)
    delete_dataset(engine, last)                                    # drops the stored cache
    _, after = run_detection(engine, incremental=True, warm=warm)
    assert after.path == "full: no cache yet"


@pytest.mark.parametrize(("share", "most", "rows"), [(1e9, 3, 4), (0.0, 3, 1), (1e9, 2, 1)],
                         ids=["logged", "too big a share", "too many rows"])
def test_updates_kept_as_a_log_give_what_a_full_run_gives(engine: Engine, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          share: float, most: int, rows: int) -> None:
    """Each update's changes are one more row, replayed on the state row when loaded, until
    the log outgrows its share of the state row or its number of rows: then the state is
    written whole again."""
    monkeypatch.setattr(slices, "LOG_SHARE", share)
    monkeypatch.setattr(slices, "LOG_ROWS", most)
    posts = simulate(SimulationParams(accounts=300, days=3, seed=7)).posts
    cuts = [posts[0].created_at + timedelta(days=1, hours=h) for h in (12, 24, 36)]
    ingest(engine, tmp_path, [p for p in posts if p.created_at < cuts[0]])
    run_detection(engine, incremental=True)
    for start, end in itertools.pairwise([*cuts, posts[-1].created_at + timedelta(seconds=1)]):
        ingest(engine, tmp_path, [p for p in posts if start <= p.created_at < end])
        _, incremental = run_detection(engine, incremental=True)
        assert incremental.counts["incremental"] == 1
    with engine.connect() as c:
        assert c.execute(select(IncrementalStateRow.id).order_by(IncrementalStateRow.id)).scalars().all() \
            == list(range(1, rows + 1))
    cached = load_state(engine)
    assert cached is not None and cached[0].posts == len(posts) == cached[1].posts
    _, full = run_detection(engine, full=True, incremental=True)
    assert_same(incremental, full)
    rebuilt = load_state(engine)
    assert rebuilt is not None
    assert rebuilt[1].contents == cached[1].contents and rebuilt[1].tails == cached[1].tails
    assert all_tallies(rebuilt[1]) == all_tallies(cached[1])
    assert rebuilt[1].app_users == cached[1].app_users
    assert _pair_totals(rebuilt[1]) == pytest.approx(_pair_totals(cached[1]), abs=1e-9)


def test_a_content_packed_and_unpacked_is_the_same() -> None:
    """Columns of participants, accounts by number: repeated accounts, one-post events and
    an empty content come back as they were."""
    at = post(1).created_at
    ring = [Participation(("twitter", name), f"p{i}", at + timedelta(seconds=i))
            for i, name in enumerate(["a", "b", "a", "c", "b"])]
    events = [Event("repost", "42", at, at + timedelta(seconds=1), tuple(ring[:2]), 9, 4, 0),
              Event("repost", "42", ring[2].time, ring[4].time, tuple(ring[2:]), 9, 4, 1),
              Event("repost", "42", at, at, (ring[0],), 1, 1, 3)]
    order, back = _unpack_content(("repost", "42"), _pack_content((7, 1), events))
    assert (order, back) == ((7, 1), events)
    assert back[1].participants[0].account is back[0].participants[0].account  # shared, not copied
    assert _unpack_content(("text", "t0"), _pack_content((0, 0), [])) == ((0, 0), [])


def test_loaded_tallies_are_unpacked_when_read(engine: Engine, tmp_path: Path) -> None:
    """A loaded cache keeps each account's tally packed until it is read: counting posts per
    account reads the rows as they are, and reading one unpacks it to what was written."""
    ingest(engine, tmp_path, [post(1, account=1, seconds=0, client="app"),
                              post(2, account=1, seconds=3600, repost_of="x"),
                              post(3, account=2, seconds=7200)])
    run_detection(engine, incremental=True)
    cached = load_state(engine)
    assert cached is not None
    state = cached[1]
    assert all(isinstance(value, tuple) for value in state.tallies.values())
    assert per_account(state) == {("twitter", "1001"): 2, ("twitter", "1002"): 1}
    tally = tally_of(state, ("twitter", "1001"))
    assert tally is not None and (tally.posts, tally.reposts, dict(tally.clients)) == (2, 1, {"app": 1})
    assert sum(tally.hours.values()) == 2 and tally.first == post(1, account=1, seconds=0).created_at
    assert state.tallies[("twitter", "1001")] is tally
    assert isinstance(state.tallies[("twitter", "1002")], tuple)
    assert tally_of(state, ("twitter", "1003")) is None


def test_a_run_that_read_the_cache_before_another_saved_leaves_it_as_written(
        engine: Engine, tmp_path: Path) -> None:
    """Two runs that loaded the same cache (a nightly batch and an API job): the first to save
    writes its changes; the second, whose changes were made on the cache before them, writes
    nothing and keeps its result. A cache forgotten meanwhile (as deleting a dataset or purging
    posts forgets it) is not written back, and the run stops: its result may cite those posts."""
    loaded = _loaded_twice_and_more(engine, tmp_path, 9, 3)
    params, created = DetectParams(), account_creation(engine)
    early, saved = detect_incremental(engine, params, loaded[0], created, None)
    assert saved["cache_saved"] == 1 and saved["new_posts"] > 0
    written = _cache_rows(engine)
    late, skipped = detect_incremental(engine, params, loaded[1], created, None)
    assert skipped["cache_saved"] == 0 and _cache_rows(engine) == written
    _, again = run_detection(engine, incremental=True)
    assert again.path == "incremental: 0 new posts, 0 contents touched"
    _, full = run_detection(engine, full=True, incremental=True)
    for result in (early, late):
        result.path = "incremental"
        assert_same(result, full)
    with engine.begin() as c:
        forget_cache(c)
    with pytest.raises(CacheOutdated, match=r"removed during this run .* nothing was stored"):
        detect_incremental(engine, params, loaded[2], created, None)
    assert _cache_rows(engine) == []


@needs_fork
@pytest.mark.parametrize("fails", ["save", "index"])
def test_what_the_writing_child_fails_to_write_is_written_here(engine: Engine, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               fails: str) -> None:
    """A child that fails to save the cache leaves it to the run (which saves it itself); one
    that fails to index the new posts leaves them to the run's indexing of what is left."""
    here = os.getpid()
    name = {"save": "save_update", "index": "index_fingerprinted"}[fails]
    real = getattr(refresh, name)

    def fails_in_the_child(*args: Any, **keywords: Any) -> Any:
        if os.getpid() != here:
            raise OSError("disk full")
        return real(*args, **keywords)

    loaded = _loaded_twice_and_more(engine, tmp_path, 11, 1)
    monkeypatch.setattr(aside, "MIN_POSTS", 0)
    monkeypatch.setattr(refresh, name, fails_in_the_child)
    result, extra = detect_incremental(engine, DetectParams(), loaded[0], account_creation(engine), None)
    assert extra["cache_saved"] == 1 and extra["new_posts"] > 0
    assert extra["cache_saved_aside"] == int(fails == "index")
    assert unindexed_posts(engine) == (extra["new_posts"] if fails == "index" else 0)
    update_lookup_index(engine)                 # what pipeline.run_detection does after it
    assert unindexed_posts(engine) == 0
    _, again = run_detection(engine, incremental=True)
    assert again.path == "incremental: 0 new posts, 0 contents touched"
    _, full = run_detection(engine, full=True, incremental=True)
    result.path = "incremental"
    assert_same(result, full)


@needs_fork
def test_a_cache_forgotten_before_the_child_saves_stops_the_run(engine: Engine, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    loaded = _loaded_twice_and_more(engine, tmp_path, 12, 1)
    monkeypatch.setattr(aside, "MIN_POSTS", 0)
    with engine.begin() as c:
        forget_cache(c)
    with pytest.raises(CacheOutdated, match=r"removed during this run .* nothing was stored"):
        detect_incremental(engine, DetectParams(), loaded[0], account_creation(engine), None)
    assert _cache_rows(engine) == []


def test_two_runs_at_once_write_the_cache_once(engine: Engine, tmp_path: Path) -> None:
    """The same two runs in two threads: whichever saves second waits for the first's lock and
    then writes nothing; neither fails."""
    loaded = _loaded_twice_and_more(engine, tmp_path, 10, 2)
    params, created = DetectParams(), account_creation(engine)
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda cached: detect_incremental(engine, params, cached, created, None),
                             loaded))
    assert sorted(extra["cache_saved"] for _, extra in runs) == [0, 1]
    _, again = run_detection(engine, incremental=True)
    assert again.path == "incremental: 0 new posts, 0 contents touched"


def test_an_update_leaves_the_state_row_as_it_was(engine: Engine, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock an update takes does not write the state row again (at 3M posts its blob is
    280 MB): the update adds a log row, and row 1 keeps its bytes and, on PostgreSQL, its
    row version."""
    def row_one() -> tuple[object, ...]:
        version = IncrementalStateRow.id if engine.dialect.name == "sqlite" else literal_column("xmin::text")
        with engine.connect() as c:
            return tuple(c.execute(select(IncrementalStateRow.blob, IncrementalStateRow.created_at, version)
                                   .where(IncrementalStateRow.id == 1)).one())

    monkeypatch.setattr(slices, "LOG_SHARE", 1e9)          # a log row, however small the state
    ingest(engine, tmp_path, _group(1, range(1, 4), 0, BASE))
    run_detection(engine, incremental=True)
    before = row_one()
    ingest(engine, tmp_path, _group(10, range(4, 7), 60, BASE))
    assert run_detection(engine, incremental=True)[1].counts["incremental"] == 1
    with engine.connect() as c:
        assert c.execute(select(IncrementalStateRow.id)).scalars().all() == [1, 2]
    assert row_one() == before


def test_posts_deleted_while_a_run_reads_them_get_a_named_error(engine: Engine, tmp_path: Path) -> None:
    """A dataset deleted after a run loaded the cache, before it read the cached posts: the run
    stops with an error that says what happened and what to do, and stores nothing; the next
    run is a full one."""
    loaded = _loaded_twice_and_more(engine, tmp_path, 11, 1)
    delete_dataset(engine, complete_datasets(engine)[0])
    with pytest.raises(CacheOutdated, match=r"removed during this run .* run detection again"):
        detect_incremental(engine, DetectParams(), loaded[0], account_creation(engine), None)
    assert run_detection(engine, incremental=True)[1].path == "full: no cache yet"


@pytest.mark.parametrize("remove", ["delete the dataset", "purge by age"])
def test_deleted_or_purged_posts_leave_no_trace_in_the_cache(engine: Engine, tmp_path: Path,
                                                             remove: str) -> None:
    """The cache names posts, accounts and contents: deleting a dataset or purging old posts
    drops it in the same transaction (a purge that removes nothing keeps it), and the next run
    makes it anew from what is left."""
    posts = simulate(SimulationParams(accounts=300, days=3, seed=12)).posts
    cut = posts[0].created_at + timedelta(days=1)
    first = ingest(engine, tmp_path, [p for p in posts if p.created_at < cut])
    ingest(engine, tmp_path, [p for p in posts if p.created_at >= cut])
    run_detection(engine, incremental=True)
    purge_before(engine, posts[0].created_at)                          # nothing that old
    assert all(_rows(engine, table) for table in _CACHE_TABLES)
    if remove == "delete the dataset":
        delete_dataset(engine, first)
    else:
        assert purge_before(engine, cut).posts > 0
    assert not any(_rows(engine, table) for table in _CACHE_TABLES)
    assert run_detection(engine, incremental=True)[1].path == "full: no cache yet"
    cached = load_state(engine)
    assert cached is not None and cached[1].posts == len([p for p in posts if p.created_at >= cut])


_CACHE_TABLES = (IncrementalStateRow, IncrementalContentRow, IncrementalBandRow)


def _rows(engine: Engine, table: type) -> int:
    with engine.connect() as c:
        return int(c.execute(select(func.count()).select_from(table)).scalar_one())


def _loaded_twice_and_more(engine: Engine, tmp_path: Path, seed: int, times: int) -> list[Cached]:
    """A cache made from two days of posts, the third day ingested, and the cache loaded
    ``times`` times for an update, as that many runs starting at once would load it."""
    posts = simulate(SimulationParams(accounts=300, days=3, seed=seed)).posts
    cut = posts[0].created_at + timedelta(days=2)
    ingest(engine, tmp_path, [p for p in posts if p.created_at < cut])
    run_detection(engine, incremental=True)
    ingest(engine, tmp_path, [p for p in posts if p.created_at >= cut])
    loaded = [plan(engine, DetectParams(), complete_datasets(engine), windowed=False, full=False)
              for _ in range(times)]
    assert all(isinstance(cached, Cached) for cached in loaded)
    return loaded  # type: ignore[return-value]


def _cache_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as c:
        return [tuple(row) for row in c.execute(select(IncrementalStateRow.id, IncrementalStateRow.created_at)
                                                .order_by(IncrementalStateRow.id))]


def _pair_totals(state: State) -> dict[tuple[Pair, int], float]:
    """Every pair's weight and contents per signal, whatever the accounts' numbering."""
    totals = state.pairs
    pairs = totals._pairs(totals.keys)
    found = {(pair, 0): weight for pair, weight in zip(pairs, totals.weight.tolist(), strict=True)}
    for pair, counts in zip(pairs, totals.counts.tolist(), strict=True):
        found |= {(pair, 1 + i): float(n) for i, n in enumerate(counts)}
    return found


def test_a_frame_keeps_bytes_raw_read_only_and_arrays_writable() -> None:
    """Out-of-band buffers come back as views on one copy per run of buffers alike: bytes
    read-only, arrays writable (the pair totals are added to in place); a blob framed before
    bytes were kept raw (all its buffers writable) reads too."""
    value = {"blob": pickle.PickleBuffer(b"events"), "totals": np.arange(4, dtype=np.int64),
             "other": pickle.PickleBuffer(b"more events"), "plain": [1, "two"]}
    blob = _framed(value, raw_arrays=True)
    back = _unframed(blob)
    assert bytes(back["blob"]) == b"events" and back["blob"].readonly
    assert bytes(back["other"]) == b"more events" and back["plain"] == [1, "two"]
    back["totals"] += 1
    assert back["totals"].tolist() == [1, 2, 3, 4]
    assert _unframed(blob)["totals"].tolist() == [0, 1, 2, 3]        # a copy, not the blob
    buffers: list[pickle.PickleBuffer] = []
    stream = zlib.compress(pickle.dumps({"totals": np.arange(3)}, protocol=5,
                                        buffer_callback=buffers.append), 1)
    raw = buffers[0].raw()
    old = struct.pack("<4sQIQ", b"CIB\x01", len(stream), 1, raw.nbytes) + stream + bytes(raw)
    assert _unframed(old)["totals"].tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="its frame says"):
        _unframed(blob[:-1])


def test_a_damaged_log_row_means_a_full_run(engine: Engine, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(slices, "LOG_SHARE", 1e9)
    ingest(engine, tmp_path, _group(1, range(1, 4), 0, BASE))
    run_detection(engine, incremental=True)
    ingest(engine, tmp_path, _group(10, range(4, 7), 60, BASE))
    assert run_detection(engine, incremental=True)[1].counts["incremental"] == 1
    with engine.begin() as c:
        c.execute(update(IncrementalStateRow).where(IncrementalStateRow.id == 2)
                  .values(blob=zlib.compress(b"not a log row")))
    with pytest.raises(DamagedCache, match="could not be read"):
        load_state(engine)
    assert gc.isenabled()                   # unpacking pauses the collector, even when it fails
    thaw()
    assert gc.get_freeze_count() == 0
    _, rerun = run_detection(engine, incremental=True)
    assert rerun.path.startswith("full: the incremental cache could not be read (")
    assert rerun.counts["posts"] == 6


def test_a_process_that_froze_its_own_objects_keeps_them_frozen(engine: Engine, tmp_path: Path) -> None:
    """``cib serve`` freezes what start-up made; an incremental run there neither freezes nor
    thaws (a load freezes its objects only where nothing is frozen, and thaws only its own)."""
    ingest(engine, tmp_path, _group(1, range(1, 4), 0, BASE))
    run_detection(engine, incremental=True)
    ingest(engine, tmp_path, _group(10, range(4, 7), 60, BASE))
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert run_detection(engine, incremental=True)[1].counts["incremental"] == 1
        assert gc.get_freeze_count() > 0.9 * frozen       # a few freed since; none thawed
    finally:
        gc.unfreeze()


def test_a_run_pauses_the_collector_and_hands_it_back(engine: Engine, tmp_path: Path) -> None:
    """No collection while a run makes its millions of objects; the collector on again after
    it, even when it fails; off still where the process had turned it off."""
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    ingest(engine, tmp_path, _group(1, range(1, 4), 0, BASE))
    thresholds = gc.get_threshold()
    gc.set_threshold(700, 10, 10)           # Python's default (``cib`` raises it; tests may have)
    gc.callbacks.append(count)
    try:
        run_detection(engine, incremental=True)
        ingest(engine, tmp_path, _group(10, range(4, 7), 60, BASE))
        assert gc.isenabled() and collections          # ingesting collected as usual
        collections.clear()
        assert run_detection(engine, incremental=True)[1].counts["incremental"] == 1
        assert len(collections) <= 1 and gc.isenabled()  # at most the one on handing it back
        with pytest.raises(Exception, match="no such table"):          # not a database of ours
            run_detection(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))
        assert gc.isenabled()
        gc.disable()
        run_detection(engine, incremental=True)
        assert not gc.isenabled()
    finally:
        gc.enable()
        gc.callbacks.remove(count)
        gc.set_threshold(*thresholds)


def _group(n: int, accounts: range, seconds: float, text: str) -> list[Post]:
    return [post(n + i, account=a, seconds=seconds + 10 * i, text=text) for i, a in enumerate(accounts)]


def test_a_new_text_joining_two_groups_merges_them(engine: Engine, tmp_path: Path) -> None:
    left = _group(1, range(1, 4), 0, BASE + " and the minister will attend today")  # MinHash 0.74 ...
    right = _group(10, range(4, 7), 100, "breaking, read this now: " + BASE)       # ... between them
    repeat = _group(20, range(1, 7), 7200, "an unrelated second push of the same six accounts now")
    ingest(engine, tmp_path, left + right + repeat)
    _, before = run_detection(engine, incremental=True)
    cached = load_state(engine)
    assert cached is not None
    assert sum(signal == "text" for signal, _ in cached[1].contents) == 3    # left, right, repeat
    ingest(engine, tmp_path, [post(30, account=7, seconds=7300, text=BASE)])  # close to both
    _, incremental = run_detection(engine, incremental=True)
    cached = load_state(engine)
    assert cached is not None
    joined = [events for (signal, _), (_, events) in cached[1].contents.items()
              if signal == "text" and events[0].start == left[0].created_at]
    assert len(joined) == 1 and {p.account[1] for p in joined[0][0].participants} >= {"1001", "1004"}
    _, full = run_detection(engine, full=True, incremental=True)
    assert_same(incremental, full)
    assert before.graph.number_of_edges() < full.graph.number_of_edges()


def test_new_reposts_of_a_known_post_join_its_burst(engine: Engine, tmp_path: Path) -> None:
    ring = [post(i, account=i, seconds=3 * i, repost_of="target", text="RT @news: x")
            for i in range(1, 4)]
    ingest(engine, tmp_path, ring)
    run_detection(engine, incremental=True)
    ingest(engine, tmp_path, [post(i, account=i, seconds=3 * i, repost_of="target", text="RT @news: x")
                              for i in range(4, 7)])
    _, incremental = run_detection(engine, incremental=True)
    assert incremental.path == "incremental: 3 new posts, 1 contents touched"
    cached = load_state(engine)
    assert cached is not None
    (_, events), = cached[1].contents.values()
    assert [p.account[1] for p in events[0].participants] == [str(1000 + i) for i in range(1, 7)]
    _, full = run_detection(engine, full=True, incremental=True)
    assert_same(incremental, full)


@pytest.mark.parametrize("later", [20, 4 * 3600], ids=["same burst", "a new occasion"])
def test_new_posts_read_only_the_last_occasion_of_what_they_touch(engine: Engine, tmp_path: Path,
                                                                  later: int) -> None:
    def ring(first: int, accounts: range, seconds: int) -> list[Post]:
        return [post(first + i, account=a, seconds=seconds + 5 * i, repost_of="target",
                     text="RT @news: x") for i, a in enumerate(accounts)]

    ingest(engine, tmp_path, ring(1, range(1, 5), 0) + ring(10, range(1, 5), 7200))  # 2 occasions
    run_detection(engine, incremental=True)
    ingest(engine, tmp_path, ring(20, range(5, 8), 7200 + later))
    _, incremental = run_detection(engine, incremental=True)
    assert incremental.counts["posts_read"] == 3 + 4        # the new ones and the last occasion's
    cached = load_state(engine)
    assert cached is not None
    (_, events), = cached[1].contents.values()
    assert [e.occasion for e in events] == ([0, 1] if later == 20 else [0, 1, 2])
    _, full = run_detection(engine, full=True, incremental=True)
    assert_same(incremental, full)


def test_what_the_cache_cannot_explain_runs_in_full(engine: Engine, tmp_path: Path) -> None:
    first = ingest(engine, tmp_path, _group(1, range(1, 4), 0, BASE))
    assert run_detection(engine, incremental=True)[1].path == "full: no cache yet"
    ingest(engine, tmp_path, _group(10, range(4, 7), 60, BASE))
    assert run_detection(engine, incremental=True)[1].path.startswith("incremental: 3 new posts")
    params = DetectParams()
    changed = replace(params, link=replace(params.link, text_window=timedelta(minutes=5)))
    assert run_detection(engine, changed, incremental=True)[1].path == "full: parameters changed"
    assert run_detection(engine, incremental=True)[1].path == "full: parameters changed"
    ingest(engine, tmp_path, _group(20, range(7, 9), 30, BASE))              # older than the cache
    assert run_detection(engine, incremental=True)[1].path == "full: new posts are older than the cached ones"
    delete_dataset(engine, first)
    deleted = run_detection(engine, incremental=True)[1]
    assert deleted.path == "full: no cache yet"                      # the deletion forgot it
    again = run_detection(engine, incremental=True)[1]
    assert again.path == "incremental: 0 new posts, 0 contents touched"
    assert run_detection(engine, incremental=True)[1].path == again.path
    with engine.connect() as c:                 # nothing new: no row added to the cache's log
        assert c.execute(select(IncrementalStateRow.id)).scalars().all() == [1]


@pytest.mark.parametrize("damage", [lambda blob: blob[: len(blob) // 2],
                                    lambda blob: zlib.compress(b"not a cache")],
                         ids=["truncated", "not ours"])
def test_a_damaged_cache_means_a_full_run_that_makes_it_anew(engine: Engine, tmp_path: Path,
                                                             damage: Callable[[bytes], bytes]) -> None:
    ingest(engine, tmp_path, _group(1, range(1, 4), 0, BASE))
    run_detection(engine, incremental=True)
    with engine.begin() as c:
        blob = c.execute(select(IncrementalStateRow.blob)).scalar_one()
        c.execute(update(IncrementalStateRow).values(blob=damage(blob)))
    with pytest.raises(DamagedCache, match="could not be read"):
        load_state(engine)
    ingest(engine, tmp_path, _group(10, range(4, 7), 60, BASE))
    _, rerun = run_detection(engine, incremental=True)
    assert rerun.path.startswith("full: the incremental cache could not be read (")
    assert rerun.path.endswith("; it is made anew") and rerun.counts["posts"] == 6
    assert run_detection(engine, incremental=True)[1].path == "incremental: 0 new posts, 0 contents touched"


def test_cib_detect_says_which_path_ran(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    first = write_file(tmp_path / "first.jsonl", "twarc2", _group(1, range(1, 4), 0, BASE))
    later = write_file(tmp_path / "later.jsonl", "twarc2", _group(10, range(4, 7), 60, BASE))
    assert main(["ingest", str(first), "--db", url]) == 0
    assert main(["detect", "--db", url, "--incremental"]) == 0
    assert "full: no cache yet" in capsys.readouterr().out
    assert main(["ingest", str(later), "--db", url]) == 0
    assert main(["detect", "--db", url, "--incremental"]) == 0
    assert "incremental: 3 new posts, 1 contents touched" in capsys.readouterr().out
    assert main(["detect", "--full", "--incremental", "--db", url]) == 0
    assert "full: asked for" in capsys.readouterr().out
    assert main(["detect", "--db", url]) == 0           # without --incremental: no cache kept
    assert "incremental" not in capsys.readouterr().out
