"""Posts per minute (or hour, or day) of a campaign's bursts, as plain series to plot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

UNITS = {"minute": 60, "hour": 3600, "day": 86400}
MINUTES_UP_TO = timedelta(hours=6)      # a span this short is drawn per minute
MAX_BINS = 2000                          # coarser units beyond this many bins
BURST_MARGIN = timedelta(minutes=30)     # the zoom on the busiest minute: this much either side


@dataclass(frozen=True)
class Series:
    """Counts per bin; ``starts[i]`` is the start (UTC) of bin ``i``, every bin present."""

    unit: str
    starts: tuple[datetime, ...]
    counts: tuple[int, ...]

    @property
    def peak(self) -> int:
        return max(self.counts, default=0)


def choose_unit(span: timedelta) -> str:
    """Minutes for 6 hours or less, else hours, else days when hours would pass ``MAX_BINS``."""
    if span <= MINUTES_UP_TO:
        return "minute"
    return "hour" if span.total_seconds() / UNITS["hour"] < MAX_BINS else "day"


def _seconds(times: Sequence[datetime]) -> np.ndarray:
    return np.array([t.timestamp() for t in times], dtype=np.float64)


def bin_times(times: Sequence[datetime], unit: str | None = None,
              start: datetime | None = None, end: datetime | None = None) -> Series:
    """Count ``times`` per ``unit`` (chosen from their span when None), from the bin of
    ``start`` (default: the first time) to the bin of ``end`` (default: the last)."""
    if not times and (start is None or end is None):
        return Series(unit or "minute", (), ())
    seconds = _seconds(times)
    low = start.timestamp() if start is not None else float(seconds.min())
    high = end.timestamp() if end is not None else float(seconds.max())
    unit = unit or choose_unit(timedelta(seconds=high - low))
    step = UNITS[unit]
    first, last = int(low // step), int(high // step)
    bins = (seconds // step).astype(np.int64)
    inside = bins[(bins >= first) & (bins <= last)]
    counts = np.bincount(inside - first, minlength=last - first + 1)
    starts = tuple(datetime.fromtimestamp((first + i) * step, UTC) for i in range(len(counts)))
    return Series(unit, starts, tuple(int(c) for c in counts))


def burst_zoom(times: Sequence[datetime]) -> Series | None:
    """Posts per minute for an hour around the busiest minute; None when the whole span is
    short enough to be drawn per minute already."""
    if not times or max(times) - min(times) <= MINUTES_UP_TO:
        return None
    minutes = (_seconds(times) // 60).astype(np.int64)
    values, counts = np.unique(minutes, return_counts=True)
    busiest = datetime.fromtimestamp(int(values[int(np.argmax(counts))]) * 60, UTC)
    return bin_times(times, "minute", busiest - BURST_MARGIN, busiest + BURST_MARGIN)
