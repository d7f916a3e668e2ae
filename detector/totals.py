"""Pair totals as arrays: what incremental detection keeps of every account pair that ever met.

A full run of millions of posts leaves millions of pairs, most of them one weak meeting short of
a tie. Kept as a dict of tuples they cost more to pickle and unpickle than the rest of an
incremental run; here they are one sorted key column (two account numbers), a weight column and
a contents count per signal, changed in one vectorized step per run (:meth:`PairTotals.apply`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from detector.graph import GraphParams, Pair, PairStats
from detector.link import SIGNALS, AccountKey

_SHIFT = np.int64(32)
_LOW = np.int64((1 << 32) - 1)
Delta = dict[Pair, list[float]]     # pair -> [weight, contents of each signal], to add


class Change(NamedTuple):
    """A delta as :meth:`PairTotals.apply` made it: the accounts it numbered first, and each
    pair's key and values. A run's log keeps this, not the delta: as arrays it is a tenth of
    the pickle and replays without numbering 400k pairs of accounts again."""

    accounts: list[AccountKey]
    keys: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]


def add_delta(delta: Delta, signal: str, contribution: Mapping[Pair, PairStats], sign: int) -> None:
    """Add (``sign`` 1) or take off (-1) one content's share of the pair totals."""
    slot = 1 + SIGNALS.index(signal)
    for pair, stats in contribution.items():
        entry = _entry(delta, pair)
        entry[0] += sign * stats.weight
        entry[slot] += sign * stats.contents


def _entry(delta: Delta, pair: Pair) -> list[float]:
    entry = delta.get(pair)
    if entry is None:
        entry = delta[pair] = [0.0] * (1 + len(SIGNALS))
    return entry


def add_change(delta: Delta, signal: str, old: Mapping[Pair, PairStats],
               new: Mapping[Pair, PairStats]) -> None:
    """Take one content's ``old`` share off and add its ``new`` one, as ``add_delta`` twice would,
    leaving out the pairs whose share did not change: a content's events made again from its
    last occasion on mostly give the same pairs the same weights (when the new posts start a
    new occasion, all of them)."""
    slot = 1 + SIGNALS.index(signal)
    for pair, stats in new.items():
        before = old.get(pair)
        if before is None:
            weight, contents = stats.weight, stats.contents
        elif before.weight == stats.weight and before.contents == stats.contents:
            continue
        else:
            weight, contents = stats.weight - before.weight, stats.contents - before.contents
        entry = _entry(delta, pair)
        entry[0] += weight
        entry[slot] += contents
    gone = {pair: stats for pair, stats in old.items() if pair not in new}
    add_delta(delta, signal, gone, -1)


class PairTotals:
    """Summed weight and contents per signal of every pair with at least one content."""

    def __init__(self, accounts: Sequence[AccountKey] = (), keys: npt.NDArray[np.int64] | None = None,
                 weight: npt.NDArray[np.float64] | None = None,
                 counts: npt.NDArray[np.int32] | None = None) -> None:
        self.accounts = list(accounts)
        self._number = {account: i for i, account in enumerate(self.accounts)}
        self.keys = keys if keys is not None else np.empty(0, dtype=np.int64)
        self.weight = weight if weight is not None else np.empty(0, dtype=np.float64)
        self.counts = counts if counts is not None else np.empty((0, len(SIGNALS)), dtype=np.int32)

    def __len__(self) -> int:
        return len(self.keys)

    def _account(self, account: AccountKey) -> int:
        number = self._number.get(account)
        if number is None:
            number = self._number[account] = len(self.accounts)
            self.accounts.append(account)
        return number

    def _pairs(self, keys: npt.NDArray[np.int64]) -> list[Pair]:
        accounts = self.accounts
        return [(accounts[a], accounts[b]) for a, b in
                zip((keys >> _SHIFT).tolist(), (keys & _LOW).tolist(), strict=True)]

    def apply(self, delta: Delta) -> Change | None:
        """Add a run's changes; pairs left with no content are dropped. Returns them numbered
        (:meth:`replay` makes them again on a copy of these totals), ``None`` when empty."""
        if not delta:
            return None
        known = len(self.accounts)
        found = np.fromiter(((self._account(a) << 32) | self._account(b) for a, b in delta),
                            dtype=np.int64, count=len(delta))
        values = np.array(list(delta.values()), dtype=np.float64).reshape(len(delta), -1)
        self._add(found, values)
        return Change(self.accounts[known:], found, values)

    def replay(self, change: Change) -> None:
        """Make a change :meth:`apply` returned, on the totals it was made on: the accounts it
        numbered are numbered alike."""
        for account in change.accounts:
            self._account(account)
        self._add(change.keys, change.values)

    def _add(self, found: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> None:
        change_weight, change_counts = values[:, 0], np.rint(values[:, 1:]).astype(np.int32)
        at = np.searchsorted(self.keys, found)
        known = at < len(self.keys)
        known[known] = self.keys[at[known]] == found[known]
        self.weight[at[known]] += change_weight[known]
        self.counts[at[known]] += change_counts[known]
        fresh = ~known
        if fresh.any():
            order = np.argsort(found[fresh], kind="stable")
            where = at[fresh][order]
            self.keys = np.insert(self.keys, where, found[fresh][order])
            self.weight = np.insert(self.weight, where, 0.0 + change_weight[fresh][order])
            self.counts = _insert_rows(self.counts, where, change_counts[fresh][order])
        # only the pairs changed can be left with no content (every pair kept has one)
        changed = np.searchsorted(self.keys, found)
        dead = changed[self.counts[changed].sum(axis=1) <= 0]
        if len(dead):
            live = np.ones(len(self.keys), dtype=bool)
            live[dead] = False
            self.keys, self.weight, self.counts = self.keys[live], self.weight[live], self.counts[live]

    def significant(self, params: GraphParams) -> dict[Pair, PairStats]:
        """The pairs that make a tie (``graph.account_graph``'s rule), as ``PairStats``."""
        contents = self.counts.sum(axis=1)
        kept = np.flatnonzero((contents >= params.min_contents) & (self.weight >= params.min_weight))
        bits = ((self.counts[kept] > 0) * (1 << np.arange(len(SIGNALS)))).sum(axis=1)
        return {pair: PairStats(weight, n, signals) for pair, weight, n, signals in zip(
            self._pairs(self.keys[kept]), self.weight[kept].tolist(), contents[kept].tolist(),
            bits.tolist(), strict=True)}

    def get(self, pair: Pair) -> PairStats | None:
        """One pair's totals (``None`` when it shares no content)."""
        a, b = self._number.get(pair[0]), self._number.get(pair[1])
        if a is None or b is None:
            return None
        key = np.int64((a << 32) | b)
        at = int(np.searchsorted(self.keys, key))
        if at == len(self.keys) or self.keys[at] != key:
            return None
        counts = self.counts[at]
        return PairStats(float(self.weight[at]), int(counts.sum()),
                         sum(1 << i for i, n in enumerate(counts.tolist()) if n > 0))

    def arrays(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int32]]:
        """The key, weight and counts columns, as the constructor takes them (for the cache)."""
        return self.keys, self.weight, self.counts


def _insert_rows(rows: npt.NDArray[np.int32], where: npt.NDArray[np.intp],
                 values: npt.NDArray[np.int32]) -> npt.NDArray[np.int32]:
    """``np.insert(rows, where, values, axis=0)``, each row moved as one item: numpy's insert
    along an axis of a 2-D array took 0.5 s of an update at 3M posts (7M rows), this a tenth."""
    whole = np.dtype((np.void, rows.dtype.itemsize * rows.shape[1]))
    moved = np.insert(np.ascontiguousarray(rows).view(whole).ravel(),
                      where, np.ascontiguousarray(values).view(whole).ravel())
    return moved.view(rows.dtype).reshape(-1, rows.shape[1])
