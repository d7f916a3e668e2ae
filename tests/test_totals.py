"""Pair totals as arrays: the same sums, ties and drops as a dict of pairs would give."""

from __future__ import annotations

import numpy as np
import pytest

from detector.graph import GraphParams, PairStats
from detector.link import SIGNALS
from detector.totals import Delta, PairTotals, _insert_rows, add_change, add_delta

A, B, C, D = (("twitter", str(n)) for n in range(1, 5))


def totals_of(*contributions: tuple[str, dict[tuple[tuple[str, str], tuple[str, str]], PairStats], int]
              ) -> PairTotals:
    totals, delta = PairTotals(), Delta()
    for signal, contribution, sign in contributions:
        add_delta(delta, signal, contribution, sign)
    totals.apply(delta)
    return totals


def test_contents_add_up_per_pair_and_signal() -> None:
    totals = totals_of(("text", {(A, B): PairStats(0.5, 1), (C, D): PairStats(0.25, 1)}, 1),
                       ("repost", {(A, B): PairStats(0.75, 2)}, 1))
    assert len(totals) == 2
    assert totals.get((A, B)) == PairStats(1.25, 3, 0b11)      # text and repost bits
    assert totals.get((C, D)) == PairStats(0.25, 1, 0b1)
    assert totals.get((A, C)) is None and totals.get((A, ("mastodon", "9"))) is None


def test_a_later_run_changes_known_pairs_adds_new_ones_and_drops_emptied_ones() -> None:
    totals = totals_of(("text", {(A, B): PairStats(0.5, 1), (C, D): PairStats(0.25, 1)}, 1))
    delta = Delta()
    add_delta(delta, "text", {(C, D): PairStats(0.25, 1)}, -1)          # its content is made again
    add_delta(delta, "hashtags", {(A, B): PairStats(1.0, 1), (B, C): PairStats(0.5, 1),
                                  (A, D): PairStats(0.125, 1)}, 1)
    totals.apply(delta)
    assert len(totals) == 3 and totals.get((C, D)) is None
    assert totals.get((A, B)) == PairStats(1.5, 2, 0b10001)
    assert totals.get((B, C)) == PairStats(0.5, 1, 0b10000)
    assert list(totals.keys) == sorted(totals.keys)                     # still searchable


def test_significant_keeps_only_ties() -> None:
    totals = totals_of(("text", {(A, B): PairStats(1.0, 1), (C, D): PairStats(0.9, 1),
                                 (A, C): PairStats(0.5, 1)}, 1),
                       ("link", {(A, B): PairStats(0.75, 1), (C, D): PairStats(0.5, 1)}, 1))
    kept = totals.significant(GraphParams(min_contents=2, min_weight=1.5))
    assert kept == {(A, B): PairStats(1.75, 2, 0b101)}                  # C-D: 1.4 < 1.5


def test_arrays_round_trip() -> None:
    totals = totals_of(("reply", {(A, B): PairStats(0.3, 1), (B, D): PairStats(0.6, 2)}, 1))
    again = PairTotals(totals.accounts, *(column.copy() for column in totals.arrays()))
    assert again.get((B, D)) == PairStats(pytest.approx(0.6), 2, 0b1000)  # type: ignore[arg-type]
    assert again.significant(GraphParams(min_contents=1, min_weight=0.0)) == \
        totals.significant(GraphParams(min_contents=1, min_weight=0.0))


def test_a_change_replayed_on_a_copy_gives_the_same_totals() -> None:
    """What the cache's log keeps: the change numbered, new accounts included, replayed on the
    totals it was made on."""
    totals = totals_of(("text", {(A, B): PairStats(0.5, 1), (C, D): PairStats(0.25, 1)}, 1))
    copy = PairTotals(totals.accounts, *(column.copy() for column in totals.arrays()))
    E = ("mastodon", "5")
    delta = Delta()
    add_delta(delta, "text", {(C, D): PairStats(0.25, 1)}, -1)
    add_delta(delta, "link", {(A, E): PairStats(0.5, 1), (E, B): PairStats(0.75, 1)}, 1)
    change = totals.apply(delta)
    assert change is not None and change.accounts == [E] and len(change.keys) == 3
    copy.replay(change)
    assert copy.accounts == totals.accounts
    assert (copy.keys == totals.keys).all() and (copy.weight == totals.weight).all()
    assert (copy.counts == totals.counts).all() and copy.get((C, D)) is None
    assert totals.apply(Delta()) is None


def test_a_content_made_again_changes_only_the_pairs_whose_share_changed() -> None:
    """``add_change`` gives the totals that taking the old share off and adding the new one
    give, and leaves the pairs whose share is the same out of the delta."""
    old = {(A, B): PairStats(0.5, 1), (A, C): PairStats(0.25, 1), (B, C): PairStats(0.75, 1)}
    new = {(A, B): PairStats(0.5, 1), (A, C): PairStats(0.625, 1), (C, D): PairStats(0.375, 1)}
    delta = Delta()
    add_change(delta, "text", old, new)
    assert set(delta) == {(A, C), (B, C), (C, D)}
    assert delta == {(A, C): [0.375, 0, 0, 0, 0, 0], (B, C): [-0.75, -1, 0, 0, 0, 0],   # weight,
                     (C, D): [0.375, 1, 0, 0, 0, 0]}                     # then contents per signal
    before = totals_of(("text", old, 1), ("link", {(B, C): PairStats(1.0, 1)}, 1))
    after = totals_of(("text", old, 1), ("link", {(B, C): PairStats(1.0, 1)}, 1))
    before.apply(delta)
    twice = Delta()
    add_delta(twice, "text", old, -1)
    add_delta(twice, "text", new, 1)
    after.apply(twice)
    for pair in ((A, B), (A, C), (B, C), (C, D)):
        assert before.get(pair) == after.get(pair)
    assert before.get((B, C)) == PairStats(1.0, 1, 0b100)         # its text share taken off
    add_change(empty := Delta(), "text", new, new)
    assert empty == {}


def test_rows_inserted_as_numpy_inserts_them() -> None:
    rng = np.random.default_rng(7)
    rows = rng.integers(0, 9, (50, len(SIGNALS))).astype(np.int32)
    where = np.sort(rng.integers(0, 51, 12))
    values = rng.integers(0, 9, (12, len(SIGNALS))).astype(np.int32)
    assert (_insert_rows(rows, where, values) == np.insert(rows, where, values, axis=0)).all()
    assert _insert_rows(rows[:0], np.zeros(2, dtype=np.intp), values[:2]).tolist() == values[:2].tolist()


def test_a_pair_left_without_content_is_dropped_and_the_rest_stay_sorted() -> None:
    totals = totals_of(("text", {(A, B): PairStats(0.5, 1), (C, D): PairStats(0.25, 1)}, 1))
    delta = Delta()
    add_delta(delta, "text", {(A, B): PairStats(0.5, 1)}, -1)
    add_delta(delta, "text", {(A, D): PairStats(0.75, 1), (B, C): PairStats(0.5, 1)}, 1)
    add_delta(delta, "link", {(B, D): PairStats(0.5, 1)}, 1)
    add_delta(delta, "link", {(B, D): PairStats(0.5, 1)}, -1)     # in and out in one run
    totals.apply(delta)
    assert totals.get((A, B)) is None and totals.get((B, D)) is None
    assert len(totals) == 3 and list(totals.keys) == sorted(totals.keys)
    assert totals.get((A, D)) == PairStats(0.75, 1, 0b1)
