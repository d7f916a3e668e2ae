from __future__ import annotations

import pytest

from detector.features import _entropy, account_behaviour
from tests.factories import post


@pytest.mark.parametrize("counts, bins, expected", [
    ([10], 24, 0.0),                  # every post in one hour
    ([1] * 24, 24, 1.0),              # one post per hour of the day
    ([5, 5], 4, 0.5),                 # two of four bins: log 2 / log 4
    ([], 24, 0.0),
])
def test_entropy(counts: list[int], bins: int, expected: float) -> None:
    assert _entropy(counts, bins) == pytest.approx(expected)


def test_account_behaviour() -> None:
    posts = [post(1, account=1, seconds=0, client="Twitpop"),
             post(2, account=1, seconds=3600, client="Twitpop", repost_of="9"),
             post(3, account=1, seconds=7200, client="Twitter Web App", repost_of="9"),
             post(4, account=2, seconds=0)]
    found = account_behaviour(posts, {("twitter", "1001"), ("twitter", "1002")})
    first = found[("twitter", "1001")]
    assert first["posts"] == 3 and first["repost_ratio"] == pytest.approx(0.6667, abs=1e-4)
    assert first["main_client_share"] == pytest.approx(0.6667, abs=1e-4)
    assert first["hour_entropy"] == pytest.approx(1.0986 / 3.1781, abs=1e-3)   # 3 hours of 24
    assert "main_client_share" not in found[("twitter", "1002")]               # no app known: missing
    assert "main_client_rarity" not in found[("twitter", "1002")]


def test_app_rarity_and_account_age() -> None:
    from datetime import timedelta

    from tests.factories import T0

    posts = [post(1, account=1, client="Twitpop"), post(2, account=2, client="Twitter Web App"),
             post(3, account=3, client="Twitter Web App"), post(4, account=4, client="Twitter Web App")]
    keep = {("twitter", "1001"), ("twitter", "1002")}
    created = {("twitter", "1001"): T0 - timedelta(days=2)}
    found = account_behaviour(posts, keep, created)
    assert set(found) == keep
    assert found[("twitter", "1001")]["main_client_rarity"] == 0.75      # 1 of 4 accounts
    assert found[("twitter", "1002")]["main_client_rarity"] == 0.25      # 3 of 4 accounts
    assert found[("twitter", "1001")]["account_age_days"] == 2.0
    assert "account_age_days" not in found[("twitter", "1002")]
