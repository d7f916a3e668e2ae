"""Answers remembered per data snapshot. A detection run never changes once stored, so an answer
about run N (a campaign, an account, a page of a list) stays true for as long as N is the latest;
keys carry the run's id (and, for lookups, a marker of the stored posts), so nothing stale is
ever served: a new run or new posts make new keys, and old ones age out."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")


class SnapshotCache:
    """A thread-safe LRU of at most ``size`` answers; ``size`` 0 turns it off."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        if self._size <= 0:
            return compute()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return self._entries[key]  # type: ignore[return-value]
        value = compute()  # outside the lock: two threads may compute the same answer once each
        with self._lock:
            self.misses += 1
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
