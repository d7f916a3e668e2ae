"""The incremental cache's reads, on hand-made cache rows (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, select

from detector.errors import CacheOutdated
from detector.incremental import State
from detector.link import SIGNALS, LinkParams, content_keys
from detector.records import Post
from detector.store import slices
from detector.store.schema import PostRow
from detector.store.slices import SliceReader, Watermark, save_full
from tests.test_store_lookup import add_dataset

HASHTAGS = ("hashtags", "#a #b")
LINK = ("link", "https://example.org/x")
FRESH = ("repost", "never stored")


def _cache(engine: Engine) -> None:
    contents = [(*HASHTAGS, position) for position in (0, 2, 4, 6, 8)] + \
               [(*LINK, position) for position in (1, 3, 5, 7, 9)]
    save_full(engine, Watermark("h", (1,), 10, None), State(10), contents,
              [100 + position for position in range(10)], np.empty((0, 4), dtype=np.int64))


@pytest.mark.parametrize("chunk", [1, 500])
def test_content_posts_reads_each_content_from_its_position_on(engine: Engine, chunk: int,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each read asks from the lowest position among its contents: exact one content at a time,
    never less than asked for."""
    monkeypatch.setattr(slices, "_CHUNK", chunk)
    _cache(engine)
    found = SliceReader(engine).content_posts({HASHTAGS: 5, LINK: 0, FRESH: 0})
    assert found[LINK] == [(p, 100 + p) for p in (1, 3, 5, 7, 9)]
    assert FRESH not in found
    wanted = [(p, 100 + p) for p in (6, 8)]
    if chunk == 1:
        assert found[HASHTAGS] == wanted
    else:
        assert found[HASHTAGS][-2:] == wanted
        assert set(found[HASHTAGS]) <= {(p, 100 + p) for p in range(0, 10, 2)}
    assert SliceReader(engine).content_posts({HASHTAGS: 9, LINK: 10}).get(HASHTAGS) is None


def test_posts_hold_what_linking_keys_them_by_and_texts_are_read_apart(engine: Engine) -> None:
    """An update reads old posts for linking (no text) and, apart, the texts it fingerprints:
    each post gives the same content keys on every signal as the whole stored post, and a post
    gone since the cache was made stops the update."""
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    whole = [Post("twitter", "1", "a", at, "Vote for Bob! https://t.co/x #vote", "alice",
                  urls=("https://Example.org/x?utm_source=t",), hashtags=("vote", "Bob"),
                  mentions=("bob",), lang="en", client="Web"),
             Post("twitter", "2", "b", at + timedelta(seconds=5), "RT @alice: Vote for Bob!",
                  repost_of="1", hashtags=("vote",)),
             Post("twitter", "3", "c", at + timedelta(seconds=9), "@alice yes", reply_to="1",
                  quote_of="1", urls=("https://example.org/y",))]
    add_dataset(engine, whole)
    refs = {post_id: ref for ref, post_id in _refs(engine)}
    reader = SliceReader(engine)
    read = reader.posts([refs[p.post_id] for p in whole])
    again = [read[refs[p.post_id]] for p in whole]
    groups = {0: "t0"}
    keys = [content_keys(posts, groups, LinkParams()) for posts in (whole, again)]
    for signal in SIGNALS:
        assert [list(keys[0][signal](i, p)) for i, p in enumerate(whole)] == \
               [list(keys[1][signal](i, p)) for i, p in enumerate(again)], signal
    assert [(p.platform, p.post_id, p.account_id, p.created_at) for p in again] == \
           [(p.platform, p.post_id, p.account_id, p.created_at) for p in whole]
    assert reader.texts(sorted(refs.values())) == {refs[p.post_id]: p.text for p in whole}
    assert reader.posts_read == 6
    with pytest.raises(CacheOutdated):
        reader.texts([max(refs.values()) + 1])


def _refs(engine: Engine) -> list[tuple[int, str]]:
    with engine.connect() as c:
        return [(ref, post_id) for ref, post_id in c.execute(select(PostRow.id, PostRow.post_id))]
