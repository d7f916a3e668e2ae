"""Binning evidence posts into timelines, on times whose counts are known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from detector.report.timeline import bin_times, burst_zoom, choose_unit

T0 = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def at(*minutes: float) -> list[datetime]:
    return [T0 + timedelta(minutes=m) for m in minutes]


def test_minutes_with_empty_minutes_filled() -> None:
    series = bin_times(at(0, 0.5, 3.2, 3.9))
    assert series.unit == "minute"
    assert series.counts == (2, 0, 0, 2)
    assert series.starts[0] == T0 and series.starts[-1] == T0 + timedelta(minutes=3)


def test_bins_start_on_the_unit_boundary() -> None:
    series = bin_times([T0 + timedelta(minutes=7, seconds=30)] * 3, "hour")
    assert series.starts == (T0,) and series.counts == (3,)


def test_unit_follows_the_span() -> None:
    assert choose_unit(timedelta(hours=6)) == "minute"
    assert choose_unit(timedelta(hours=7)) == "hour"
    assert choose_unit(timedelta(days=90)) == "day"


def test_long_spans_are_drawn_per_hour() -> None:
    series = bin_times(at(0, 60 * 24))      # a day apart
    assert series.unit == "hour" and len(series.counts) == 25 and sum(series.counts) == 2


def test_no_times_no_bins() -> None:
    assert bin_times([]).counts == ()


def test_zoom_on_the_busiest_minute() -> None:
    times = at(0, 600, 600.2, 600.5, 601, 60 * 24)   # the busiest minute: 10:00 + 600 min
    zoom = burst_zoom(times)
    assert zoom is not None and zoom.unit == "minute" and len(zoom.counts) == 61
    assert zoom.starts[30] == T0 + timedelta(minutes=600) and zoom.counts[30] == 3
    assert zoom.counts[31] == 1 and sum(zoom.counts) == 4


def test_no_zoom_when_the_span_is_drawn_per_minute_already() -> None:
    assert burst_zoom(at(0, 1, 2)) is None
