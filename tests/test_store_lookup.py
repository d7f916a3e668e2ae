"""The lookup index in a real database (SQLite file and PostgreSQL): update, forget, find."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, delete, func, select, update

from detector import lookup
from detector.detect import DetectParams, TextForms, fingerprint_texts
from detector.errors import LookupTextTooShort
from detector.lookup import KeyBuffer, LookupParams, TextKeyer
from detector.records import Post, PostText
from detector.store import finish_dataset, start_dataset, write_batch
from detector.store import lookup as store_lookup
from detector.store.lookup import (
    find_similar,
    forget_dataset_posts,
    forget_posts_before,
    index_fingerprinted,
    update_lookup_index,
)
from detector.store.reader import iter_post_texts
from detector.store.rows import KnownAccounts, prepare_batch
from detector.store.schema import DatasetRow, LookupBandRow, LookupStateRow, LookupTextRow, PostRow
from tests.factories import T0, index_contents, post

ORIGINAL = ("The city council voted tonight to close the public library on Main Street, and nobody "
            "in the neighbourhood was asked first")
ONE_WORD_CHANGED = ORIGINAL.replace("tonight", "today")
UNRELATED = "Our bakery opens at seven with fresh croissants and sourdough every morning"


def add_dataset(engine: Engine, posts: Sequence[Post], status: str = "complete", name: str = "d") -> int:
    """A dataset holding ``posts``, left ``running`` or finished with ``status``."""
    dataset = start_dataset(engine, name=name, sha256=name, size_bytes=0, fmt="twarc2")
    batch = prepare_batch(posts, [], [], KnownAccounts(), engine.dialect.name)
    write_batch(engine, dataset, batch, 0)
    if status != "running":
        finish_dataset(engine, dataset, status)
    return dataset


def delete_dataset(engine: Engine, dataset: int) -> None:
    """What deleting a dataset does: its index rows, its posts and itself, in one transaction."""
    with engine.begin() as connection:
        forget_dataset_posts(connection, dataset)
        connection.execute(delete(PostRow).where(PostRow.dataset_id == dataset))
        connection.execute(delete(DatasetRow).where(DatasetRow.id == dataset))


def band_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(LookupBandRow)).scalar_one())


def index_rows(engine: Engine) -> tuple[int, int]:
    """(text rows, band rows): one text row per indexed post, 16 band rows per distinct text."""
    with engine.connect() as connection:
        texts = connection.execute(select(func.count()).select_from(LookupTextRow)).scalar_one()
    return int(texts), band_count(engine)


def found_ids(engine: Engine, text: str = ORIGINAL, **options: object) -> list[str]:
    return [m.post_id for m in find_similar(engine, text, **options).matches]  # type: ignore[arg-type]


def relays() -> list[Post]:
    """The original, a retweet with another link, a one-word edit, and unrelated or empty posts."""
    return [
        post(1, account=1, text=f"{ORIGINAL} https://t.co/aaa"),
        post(2, account=2, seconds=60, text=f"RT @user1: {ORIGINAL} https://t.co/bbb"),
        post(3, account=3, seconds=120, text=ONE_WORD_CHANGED),
        post(4, account=4, seconds=180, text=UNRELATED),
        post(5, account=5, seconds=240, text=""),
        post(6, account=6, seconds=300, text="https://t.co/ccc"),
    ]


def test_near_duplicates_are_found_and_unrelated_texts_are_not(engine: Engine) -> None:
    posts = relays()
    add_dataset(engine, posts)
    assert update_lookup_index(engine) == 4          # the empty and the link-only post are skipped
    result = find_similar(engine, f"{ORIGINAL} https://t.co/zzz")   # a link of its own
    ids = {p.post_id: n for n, p in enumerate(posts, start=1)}
    assert [ids[m.post_id] for m in result.matches] == [1, 2, 3]   # most similar, then oldest
    first, relay, edited = result.matches
    assert first.similarity == relay.similarity == 1.0
    assert 0.8 <= edited.similarity < 1.0
    assert relay.text.startswith("RT @user1:") and relay.handle == "user2"
    assert first.created_at == T0
    assert (result.total_matches, result.truncated) == (3, False)
    assert result.candidates_checked >= 3
    assert [(a.account_id, a.handle, a.posts, a.first_at) for a in result.accounts] == [
        ("1001", "user1", 1, T0), ("1002", "user2", 1, T0 + timedelta(seconds=60)),
        ("1003", "user3", 1, T0 + timedelta(seconds=120))]
    assert result.total_accounts == 3
    assert (result.indexed_through, result.unindexed_posts) == (6, 0)


def test_unrelated_text_finds_nothing(engine: Engine) -> None:
    add_dataset(engine, relays())
    update_lookup_index(engine)
    result = find_similar(engine, "Weather tomorrow: sunny spells and a light breeze from the west")
    assert (result.matches, result.total_matches, result.candidates_checked) == ([], 0, 0)


def test_a_second_update_indexes_only_new_posts(engine: Engine) -> None:
    add_dataset(engine, relays()[:2], name="a")
    reads: list[int] = []
    assert update_lookup_index(engine, progress=reads.append) == 2
    assert reads == [2]
    add_dataset(engine, [post(7, account=7, text=ORIGINAL), post(8, account=8, text=UNRELATED)], name="b")
    before = find_similar(engine, ORIGINAL)
    assert (len(before.matches), before.indexed_through, before.unindexed_posts) == (2, 2, 2)
    assert update_lookup_index(engine, batch=1) == 2          # one post per transaction
    assert update_lookup_index(engine) == 0
    after = find_similar(engine, ORIGINAL)
    assert (len(after.matches), after.indexed_through, after.unindexed_posts) == (3, 4, 0)
    assert index_rows(engine) == (4, 3 * 16)     # posts 1 and 2 have one normal form


def stored_texts(engine: Engine) -> list[PostText]:
    """The stored posts as detection's fingerprinting child reads them."""
    return list(iter_post_texts(engine))


def buffered(posts: Sequence[PostText]) -> KeyBuffer:
    """Keys handed to the index: the posts' keys, computed from their texts."""
    buffer = KeyBuffer()
    buffer.add([p.ref for p in posts], TextKeyer().keys([p.text for p in posts]))
    return buffer


def test_keys_given_to_the_index_give_the_index_computed_from_the_texts(engine: Engine) -> None:
    posts = [*relays(), post(7, account=7, seconds=360, text=ORIGINAL)]
    add_dataset(engine, posts[:3], name="a")          # not among the keys: keyed from their texts
    add_dataset(engine, posts[3:], name="b")
    later = {p.post_id for p in posts[3:]}
    keys = buffered([p for p in stored_texts(engine) if p.post_id in later])
    assert update_lookup_index(engine, batch=4, keys=keys) == 5
    assert len(keys) == 0                              # emptied once taken
    with_keys = index_contents(engine)
    assert update_lookup_index(engine, LookupParams(bands=32)) == 5      # rebuilt from the texts...
    assert update_lookup_index(engine) == 5                               # ... with the default bands
    assert index_contents(engine) == with_keys
    assert (len(with_keys[0]), len(with_keys[1])) == (5, 4 * 16)     # post 7 has no link: its own text
    assert sorted(found_ids(engine)) == sorted(p.post_id for p in posts if p.account_id in ("1001", "1002",
                                                                                            "1003", "1007"))


def fingerprinted(engine: Engine, sigs: Callable[[Any], Any] = lambda s: s) -> int:
    """Index the stored posts as detection's fingerprinting child does (``sigs``: what becomes
    of the signatures it made before the index takes them)."""
    texts, forms = stored_texts(engine), TextForms()
    _, prints = fingerprint_texts(texts, DetectParams(), forms)
    return index_fingerprinted(engine, texts, forms.normal_of, sigs(prints.signatures), forms.sig_rows)


def mixed_posts() -> list[Post]:
    """Originals, a retweet of one, a text too short for detection but not for lookups, no text."""
    return [*relays(), post(7, account=7, seconds=360, text=ORIGINAL),
            post(8, account=8, seconds=400, text=f"RT @a: {ORIGINAL}", repost_of="x1"),
            post(9, account=9, seconds=420, text="Vote now"), post(10, account=10, seconds=430, text="")]


def test_detections_fingerprints_give_the_index_computed_from_the_texts(engine: Engine) -> None:
    add_dataset(engine, mixed_posts())
    assert fingerprinted(engine) == 7                           # posts 5, 6 and 10 have no text of their own
    with_prints = index_contents(engine)
    assert fingerprinted(engine) == 0                           # up to date: nothing to do
    assert update_lookup_index(engine, LookupParams(bands=32)) == 7      # rebuilt from the texts...
    assert update_lookup_index(engine) == 7                               # ... with the default bands
    assert index_contents(engine) == with_prints
    assert sorted(found_ids(engine)) == sorted(p.post_id for p in mixed_posts()
                                               if p.account_id in ("1001", "1002", "1003", "1007", "1008"))


def test_index_rows_inserted_a_few_at_a_time_are_all_there(engine: Engine,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    add_dataset(engine, mixed_posts())
    update_lookup_index(engine)
    whole = index_contents(engine)
    update_lookup_index(engine, LookupParams(bands=32))
    monkeypatch.setattr(store_lookup, "_INSERT_ROWS", 5)     # 7 text rows, 16 band rows per text
    update_lookup_index(engine)
    assert index_contents(engine) == whole and len(whole[1]) == 16 * len({key for key, _ in whole[0]}) > 5


def test_the_index_takes_detections_signatures_instead_of_sketching_again(engine: Engine) -> None:
    add_dataset(engine, mixed_posts())
    fingerprinted(engine, lambda sigs: np.zeros_like(sigs))   # as if every text had other values
    taken = index_contents(engine)
    update_lookup_index(engine, LookupParams(bands=32))
    update_lookup_index(engine)
    assert index_contents(engine)[0] == taken[0]              # the same posts and texts...
    assert index_contents(engine)[1] != taken[1]              # ... banded from what it was given


def test_a_few_new_posts_after_detection_are_keyed_from_their_texts(engine: Engine) -> None:
    add_dataset(engine, mixed_posts()[:8], name="a")
    assert fingerprinted(engine) == 6
    later = post(20, account=20, seconds=500, text=ONE_WORD_CHANGED)
    add_dataset(engine, [later], name="b")
    assert fingerprinted(engine, lambda sigs: np.zeros_like(sigs)) == 1   # its text, not these
    assert sorted(found_ids(engine, ONE_WORD_CHANGED)) == sorted(
        [p.post_id for p in mixed_posts()[:8] if "Main Street" in p.text] + [later.post_id])


def test_keys_made_for_other_index_settings_are_not_taken(engine: Engine) -> None:
    add_dataset(engine, relays())
    keys = buffered(stored_texts(engine))
    assert update_lookup_index(engine, LookupParams(bands=32), keys=keys) == 4
    assert index_rows(engine) == (4, 3 * 32)
    assert len(keys) == 0                              # emptied all the same


def test_indexing_again_from_scratch_is_harmless(engine: Engine) -> None:
    add_dataset(engine, relays())
    update_lookup_index(engine)
    with engine.begin() as connection:   # as if the watermark had not been saved
        connection.execute(update(LookupStateRow).values(last_post_ref=0))
    assert update_lookup_index(engine) == 4
    assert index_rows(engine) == (4, 3 * 16)
    assert len(found_ids(engine)) == 3


def test_a_deleted_datasets_posts_vanish(engine: Engine) -> None:
    kept = add_dataset(engine, [post(1, account=1, text=ORIGINAL)], name="kept")
    gone = add_dataset(engine, [post(2, account=2, text=ORIGINAL), post(3, account=3, text=UNRELATED)],
                       name="gone")
    update_lookup_index(engine)
    delete_dataset(engine, gone)
    assert band_count(engine) == 16
    assert found_ids(engine) == [post(1).post_id]
    assert find_similar(engine, UNRELATED).matches == []
    assert forget_dataset_posts(engine, kept) == 1 + 16    # an engine: its own transaction
    assert found_ids(engine) == []
    assert index_rows(engine) == (0, 0)


def test_posts_stored_after_deleting_the_newest_dataset_are_indexed(engine: Engine) -> None:
    add_dataset(engine, [post(1, account=1, text=UNRELATED)], name="a")
    newest = add_dataset(engine, [post(2, account=2, text=UNRELATED)], name="b")
    update_lookup_index(engine)
    delete_dataset(engine, newest)    # SQLite gives the next post the deleted post's id again
    assert find_similar(engine, UNRELATED).indexed_through == 1
    add_dataset(engine, [post(3, account=3, text=ORIGINAL)], name="c")
    assert update_lookup_index(engine) == 1
    assert found_ids(engine) == [post(3).post_id]


@pytest.mark.parametrize("status", ["running", "failed", "interrupted"])
def test_posts_of_incomplete_datasets_are_not_returned(engine: Engine, status: str) -> None:
    add_dataset(engine, [post(1, account=1, text=ORIGINAL)], name="done")
    unfinished = add_dataset(engine, [post(2, account=2, text=ORIGINAL)], status=status, name="other")
    update_lookup_index(engine)
    assert found_ids(engine) == [post(1).post_id]
    finish_dataset(engine, unfinished, "complete")
    assert found_ids(engine) == [post(1).post_id, post(2).post_id]   # no re-indexing needed


def test_changed_params_rebuild_the_index(engine: Engine) -> None:
    add_dataset(engine, relays())
    update_lookup_index(engine)
    other = LookupParams(bands=32)
    result = find_similar(engine, ORIGINAL, other)         # the index cannot answer these
    assert (result.matches, result.indexed_through, result.unindexed_posts) == ([], 0, 6)
    assert update_lookup_index(engine, other) == 4
    assert index_rows(engine) == (4, 3 * 32)
    assert len(find_similar(engine, ORIGINAL, other).matches) == 3
    assert update_lookup_index(engine) == 4
    assert index_rows(engine) == (4, 3 * 16)
    assert update_lookup_index(engine, LookupParams(threshold=0.5)) == 0   # same keys: nothing to do


def test_a_new_key_version_rebuilds_the_index(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    add_dataset(engine, relays())
    update_lookup_index(engine)
    monkeypatch.setattr(lookup, "KEY_VERSION", lookup.KEY_VERSION + 1)   # code that keys differently
    result = find_similar(engine, ORIGINAL)
    assert (result.matches, result.indexed_through, result.unindexed_posts) == ([], 0, 6)
    assert update_lookup_index(engine) == 4
    assert index_rows(engine) == (4, 3 * 16)
    with engine.connect() as connection:
        stored = connection.execute(select(LookupStateRow.params)).scalar_one()
    assert stored["key_version"] == lookup.KEY_VERSION
    assert len(found_ids(engine)) == 3


def test_reposts_share_band_rows_until_the_last_is_deleted(engine: Engine) -> None:
    # a post and its retweet with another link have one normal form: one text, banded once
    first = add_dataset(engine, [post(1, account=1, text=f"{ORIGINAL} https://t.co/aaa")], name="a")
    retweet = post(2, account=2, seconds=60, text=f"RT @user1: {ORIGINAL} https://t.co/bbb")
    second = add_dataset(engine, [retweet, post(3, account=3, seconds=120, text=UNRELATED)], name="b")
    assert update_lookup_index(engine) == 3
    assert index_rows(engine) == (3, 2 * 16)
    result = find_similar(engine, f"{ORIGINAL} https://t.co/zzz")
    assert [(m.post_id, m.similarity) for m in result.matches] == [(post(1).post_id, 1.0),
                                                                    (retweet.post_id, 1.0)]
    assert result.matches[1].text.startswith("RT @user1:")        # each match shows its own text
    delete_dataset(engine, first)
    assert index_rows(engine) == (2, 2 * 16)                      # the retweet still has the text
    assert found_ids(engine) == [retweet.post_id]
    delete_dataset(engine, second)
    assert index_rows(engine) == (0, 0)                           # no trace of either text


def test_purging_old_posts_drops_the_texts_only_they_had(engine: Engine) -> None:
    posts = [post(1, account=1, text=ORIGINAL), post(2, account=2, seconds=7200, text=ORIGINAL),
             post(3, account=3, text=UNRELATED)]
    add_dataset(engine, posts)
    update_lookup_index(engine)
    assert index_rows(engine) == (3, 2 * 16)
    with engine.begin() as connection:        # what purge_before does
        assert forget_posts_before(connection, T0 + timedelta(hours=1)) == 2 + 16
        connection.execute(delete(PostRow).where(PostRow.created_at < T0 + timedelta(hours=1)))
    assert index_rows(engine) == (1, 16)
    assert found_ids(engine) == [posts[1].post_id]
    assert find_similar(engine, UNRELATED).matches == []


def test_forgetting_posts_of_an_index_built_by_other_code_empties_it(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = add_dataset(engine, relays(), name="gone")
    add_dataset(engine, [post(7, account=7, text=UNRELATED)], name="kept")
    update_lookup_index(engine)
    monkeypatch.setattr(lookup, "KEY_VERSION", lookup.KEY_VERSION + 1)   # its band keys: unknown
    delete_dataset(engine, gone)
    assert index_rows(engine) == (0, 0)
    assert update_lookup_index(engine) == 1                          # rebuilt from the start
    assert found_ids(engine, UNRELATED) == [post(7).post_id]


def test_an_update_waits_for_a_delete_of_the_text_it_reposts(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; PostgreSQL's are ordered by FOR UPDATE")
    gone = add_dataset(engine, [post(1, account=1, text=ORIGINAL)], name="gone")
    update_lookup_index(engine)
    add_dataset(engine, [post(2, account=2, text=ORIGINAL)], name="repost")   # not indexed yet
    with engine.connect() as connection:
        deleting = connection.begin()
        forget_dataset_posts(connection, gone)          # the text's only indexed post: bands go
        connection.execute(delete(PostRow).where(PostRow.dataset_id == gone))
        # an updater now would see the text indexed and skip its bands, were it not made to wait
        updater = threading.Thread(target=update_lookup_index, args=(engine,))
        updater.start()
        updater.join(timeout=0.5)
        assert updater.is_alive()                       # waiting for the state row
        connection.execute(delete(DatasetRow).where(DatasetRow.id == gone))
        deleting.commit()
    updater.join()
    assert index_rows(engine) == (1, 16)
    assert found_ids(engine) == [post(2).post_id]


def test_a_text_without_content_is_refused(engine: Engine) -> None:
    with pytest.raises(LookupTextTooShort, match="at least 5 characters"):
        find_similar(engine, "RT @someone: https://t.co/abc")


def test_an_empty_database_answers_nothing(engine: Engine) -> None:
    assert update_lookup_index(engine) == 0
    result = find_similar(engine, ORIGINAL)
    assert (result.matches, result.indexed_through, result.unindexed_posts) == ([], 0, 0)


def test_time_range(engine: Engine) -> None:
    posts = [post(n, account=n, seconds=3600 * n, text=ORIGINAL) for n in range(1, 5)]
    add_dataset(engine, posts)
    update_lookup_index(engine)
    since, until = T0 + timedelta(hours=2), T0 + timedelta(hours=4)
    assert found_ids(engine, since=since, until=until) == [posts[1].post_id, posts[2].post_id]


def test_too_many_candidates_are_cut_and_said_so(engine: Engine) -> None:
    posts = [post(n, account=n % 3, seconds=n, text=ORIGINAL) for n in range(1, 13)]
    add_dataset(engine, posts)
    update_lookup_index(engine)
    result = find_similar(engine, ORIGINAL, LookupParams(max_candidates=5), limit=2)
    assert (result.candidates_checked, result.total_matches, result.truncated) == (5, 5, True)
    assert [m.post_id for m in result.matches] == [posts[0].post_id, posts[1].post_id]   # oldest first
    assert [(a.account_id, a.posts) for a in result.accounts] == [("1001", 2), ("1002", 2)]   # of 3
    assert result.total_accounts == 3
    assert result.accounts[0].first_at == posts[0].created_at
    assert result.accounts[0].last_at == posts[3].created_at
    whole = find_similar(engine, ORIGINAL, LookupParams(max_candidates=12))
    assert (whole.candidates_checked, whole.total_matches, whole.truncated) == (12, 12, False)


def test_naive_times_are_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        find_similar(engine, ORIGINAL, since=T0.replace(tzinfo=None))


def test_candidates_dropped_by_filters_are_replaced_by_later_ones(engine: Engine) -> None:
    posts = [post(n, account=n, seconds=n, text=ORIGINAL) for n in range(1, 10)]
    add_dataset(engine, posts[:6], status="failed", name="failed")
    add_dataset(engine, posts[6:], name="ok")
    update_lookup_index(engine)
    result = find_similar(engine, ORIGINAL, LookupParams(max_candidates=2))
    assert [m.post_id for m in result.matches] == [posts[6].post_id, posts[7].post_id]
    assert result.truncated
