"""Fingerprinting in a forked child gives the serial path's events, groups and results exactly."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
from sqlalchemy import select

from detector import aside
from detector.detect import DetectParams, detect, fingerprint_texts
from detector.link import co_action_events
from detector.load import IngestOptions, ingest_file
from detector.lookup import LookupParams
from detector.pipeline import run_detection
from detector.records import PostText
from detector.simulate import SimulationParams, simulate
from detector.store import iter_posts
from detector.store import lookup as store_lookup
from detector.store.lookup import unindexed_posts, update_lookup_index
from detector.store.reader import iter_post_texts
from detector.store.schema import PostRow
from tests.factories import index_contents, write_file
from tests.test_detect import hand_made

needs_fork = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="the child is made with fork")


@pytest.fixture(scope="module")
def simulated() -> list:
    return simulate(SimulationParams(seed=5, accounts=300, days=3)).posts


@needs_fork
@pytest.mark.parametrize("which", ["hand_made", "simulated"])
def test_the_forked_child_links_exactly_like_the_serial_path(which: str, simulated: list,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    posts = hand_made() if which == "hand_made" else simulated
    params = DetectParams()
    groups, prints = fingerprint_texts(posts, params)
    serial = list(co_action_events(posts, groups, params.link))
    monkeypatch.setattr(aside, "MIN_POSTS", 0)
    forked_groups, forked_prints, forked = aside.linked(posts, params)
    assert forked == serial                      # same events, same order: sums stay identical
    assert forked_groups == groups
    assert forked_prints.row_of == prints.row_of
    assert (forked_prints.signatures == prints.signatures).all()


@needs_fork
def test_detection_is_identical_with_and_without_the_child(simulated: list,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    serial = detect(simulated)
    monkeypatch.setattr(aside, "MIN_POSTS", 0)
    forked = detect(simulated)
    assert [c.members for c in forked.campaigns] == [c.members for c in serial.campaigns]
    assert {a: s.score for a, s in forked.scores.items()} == {a: s.score for a, s in serial.scores.items()}
    assert forked.similarity == serial.similarity and forked.counts == serial.counts


@needs_fork
def test_a_child_that_dies_without_answering_is_seen_as_no_answer() -> None:
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=send.close)     # closes its end and exits: no answer
    child.start()
    send.close()
    child.join()
    assert aside._receive(receive, 5.0) is None


@pytest.fixture
def stored(engine, simulated: list, tmp_path: Path) -> list:
    """The simulated posts, ingested, as ``iter_posts`` reads them back."""
    ingest_file(engine, write_file(tmp_path / "sim.jsonl", "twarc2", simulated), IngestOptions())
    return list(iter_posts(engine))


def start_reading_child(database_url: str, count: int, params: DetectParams,
                        monkeypatch: pytest.MonkeyPatch) -> aside.Pending:
    monkeypatch.setattr(aside, "MIN_POSTS", 0)
    pending = aside.fingerprint_stored(database_url, count, None, None, params)
    assert pending is not None and pending.stored
    return pending


@needs_fork
def test_a_child_reading_the_database_itself_links_like_the_serial_path(
        database_url: str, stored: list, monkeypatch: pytest.MonkeyPatch) -> None:
    params = DetectParams()
    groups, _ = fingerprint_texts(stored, params)
    serial = list(co_action_events(stored, groups, params.link))
    pending = start_reading_child(database_url, len(stored), params, monkeypatch)
    assert aside.linked(stored, params, pending)[2] == serial
    aside.settle(pending, 60.0)     # it goes on indexing: done before the schema is dropped


@needs_fork
def test_the_child_reading_the_database_is_believed_and_agrees_with_this_process(
        database_url: str, stored: list, monkeypatch: pytest.MonkeyPatch) -> None:
    # not only the same events (the serial fallback would give those too): the child's own answer
    # passes the order check, so its reading is the one this process reads
    params = DetectParams()
    pending = start_reading_child(database_url, len(stored), params, monkeypatch)
    count, digest, groups, prints = aside._finish(pending, 60.0)
    aside.settle(pending, 60.0)
    assert (count, digest) == (len(stored), aside.order_digest(stored))
    expected_groups, expected_prints = fingerprint_texts(stored, params)
    assert groups == expected_groups and prints.row_of == expected_prints.row_of
    assert (prints.signatures == expected_prints.signatures).all()


def test_the_text_reading_gives_what_fingerprinting_reads_of_every_post_in_order(
        engine, stored: list) -> None:
    middle = stored[len(stored) // 2].created_at
    for since, until in ((None, None), (middle, None), (None, middle)):
        whole = list(iter_posts(engine, since, until))
        texts = list(iter_post_texts(engine, since, until))
        assert [t[:4] for t in texts] == [PostText(p.platform, p.post_id, p.text, p.repost_of)[:4]
                                          for p in whole]
        assert any(t.repost_of for t in texts) and any(not t.repost_of for t in texts)
        assert [t.ref for t in texts] == stored_ids(engine, [t.post_id for t in texts])


def stored_ids(engine, post_ids: list[str]) -> list[int]:
    """The row ids (``posts.id``) of these posts, in this order."""
    with engine.connect() as connection:
        found = dict(connection.execute(select(PostRow.post_id, PostRow.id)).all())
    return [found[post_id] for post_id in post_ids]


@needs_fork
def test_the_child_reading_the_database_indexes_the_texts_it_fingerprinted(
        engine, database_url: str, stored: list, monkeypatch: pytest.MonkeyPatch) -> None:
    assert unindexed_posts(engine) == len(stored)
    pending = start_reading_child(database_url, len(stored), DetectParams(), monkeypatch)
    aside.linked(stored, DetectParams(), pending)
    aside.settle(pending, 60.0)
    assert pending.child.exitcode == 0 and unindexed_posts(engine) == 0
    by_child = index_contents(engine)
    update_lookup_index(engine, LookupParams(bands=32))
    update_lookup_index(engine)                                  # rebuilt from the stored texts
    assert index_contents(engine) == by_child and by_child[0]


@needs_fork
def test_when_the_childs_indexing_fails_the_detection_indexes_instead(
        engine, stored: list, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def fails(*args: object, **keywords: object) -> int:
        (tmp_path / "child-failed").touch()
        raise OSError("disk full")

    monkeypatch.setattr(aside, "MIN_POSTS", 0)
    monkeypatch.setattr(store_lookup, "index_fingerprinted", fails)   # the forked child inherits it
    _, result = run_detection(engine)
    assert (tmp_path / "child-failed").exists()
    assert result.counts["posts"] == len(stored) and unindexed_posts(engine) == 0
    by_detection = index_contents(engine)
    update_lookup_index(engine, LookupParams(bands=32))
    update_lookup_index(engine)
    assert index_contents(engine) == by_detection


@needs_fork
def test_a_child_that_read_other_posts_is_not_believed(database_url: str, stored: list,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    posts = stored[1:]          # as if a post was deleted between the reads
    params = DetectParams()
    groups, _ = fingerprint_texts(posts, params)
    pending = start_reading_child(database_url, len(posts), params, monkeypatch)
    assert aside.linked(posts, params, pending)[:1] == (groups,)


def test_small_inputs_stay_in_this_process() -> None:
    posts = hand_made()
    assert len(posts) < aside.MIN_POSTS
    groups, _, events = aside.linked(posts, DetectParams())
    assert events and groups
