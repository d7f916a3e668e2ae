"""score: an account's evidence, the strongest first."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from detector.link import Event, Participation
from detector.score import _strongest

T = datetime(2024, 5, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_the_strongest_evidence_is_the_biggest_events_earliest_first() -> None:
    rng = random.Random(5)
    evidence = []
    for n in range(300):
        size = rng.randint(2, 6)
        people = tuple(Participation(("twitter", str(i)), f"p{n}-{i}", T + rng.randint(0, 30) * MINUTE)
                       for i in range(size))
        event = Event("text", f"t{n}", T, T, people, size, size)
        evidence.append((event, people[rng.randrange(size)]))
    expected = sorted(evidence, key=lambda ep: (-ep[0].size, ep[1].time))[:10]
    assert _strongest(evidence, 10) == expected
    assert [ep[0].size for ep in expected[:3]] == [6, 6, 6]
    assert _strongest(evidence[:4], 10) == sorted(evidence[:4], key=lambda ep: (-ep[0].size, ep[1].time))
