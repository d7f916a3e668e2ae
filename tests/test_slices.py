"""The incremental cache's reads, on hand-made cache rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import Engine

from detector.incremental import State
from detector.store import slices
from detector.store.slices import SliceReader, Watermark, save_full

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
