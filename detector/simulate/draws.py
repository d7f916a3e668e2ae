"""Small seeded random helpers: per-phase generators, counts, distributions, times of day."""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections.abc import Sequence
from functools import lru_cache
from itertools import accumulate
from typing import TYPE_CHECKING

from detector.simulate.banks import _RHYTHMS
from detector.simulate.params import DAY, HOUR, SimulationParams

if TYPE_CHECKING:
    from detector.simulate.accounts import _Member


def _rng(params: SimulationParams, phase: str) -> random.Random:
    return random.Random(f"{params.seed}:{phase}")


def _pick(rng: random.Random, table: Sequence[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in table], [w for _, w in table])[0]


def _count(rng: random.Random, low: float, high: float, factor: float) -> int:
    """At least one; on average ``uniform(low, high) * factor``, rounded at random."""
    value = rng.uniform(low, high) * factor
    return max(1, int(value) + (rng.random() < value % 1))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _weighted_sample(rng: random.Random, items: Sequence[_Member], weights: Sequence[float],
                     k: int) -> list[_Member]:
    """``k`` distinct items, each drawn with probability proportional to its weight."""
    keys = ((rng.random() ** (1.0 / w), i) for i, w in enumerate(weights) if w > 0)
    return [items[i] for _, i in heapq.nlargest(k, keys)]


@lru_cache(maxsize=512)
def _hours(profile: str, offset: int) -> tuple[float, ...]:
    """Cumulative weights of the 24 UTC hours for a local-time rhythm ``offset`` hours from UTC."""
    local = _RHYTHMS[profile]
    return tuple(accumulate(local[(hour + offset) % 24] for hour in range(24)))


def _at(rng: random.Random, hours: tuple[float, ...], day: int) -> int:
    """A moment (ms from the start) on ``day`` at an hour drawn from ``hours``."""
    hour = bisect.bisect_right(hours, rng.random() * hours[-1])
    return day * DAY + min(hour, 23) * HOUR + rng.randrange(HOUR)
