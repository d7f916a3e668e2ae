from __future__ import annotations

from dataclasses import dataclass

import pytest

from detector.evaluate import evaluate


@dataclass(frozen=True)
class Row:
    platform: str
    account_id: str
    coordinated: bool
    scenario: str
    campaign: str | None


TRUTH = [Row("twitter", "1", True, "relay", "A"), Row("twitter", "2", True, "relay", "A"),
         Row("twitter", "3", True, "corepost_ring", "B"), Row("twitter", "4", True, "corepost_ring", "B"),
         Row("twitter", "5", False, "share_button", None), Row("twitter", "6", False, "background", None),
         Row("twitter", "7", False, "background", None), Row("twitter", "8", False, "background", None)]


def test_known_counts() -> None:
    flagged = {("twitter", "1"): "x", ("twitter", "2"): "x", ("twitter", "3"): "y",
               ("twitter", "5"): "x"}
    result = evaluate(TRUTH, flagged)
    assert (result.precision, result.recall) == (0.75, 0.75)
    assert result.f1 == pytest.approx(0.75)
    assert result.organic_fpr == 0.25
    assert result.by_scenario == {"relay": 1.0, "corepost_ring": 0.5, "share_button": 1.0,
                                  "background": 0.0}


def test_perfect_campaigns_have_ari_one() -> None:
    flagged = {("twitter", "1"): "p", ("twitter", "2"): "p", ("twitter", "3"): "q",
               ("twitter", "4"): "q"}
    result = evaluate(TRUTH, flagged)
    assert (result.f1, result.organic_fpr, result.ari) == (1.0, 0.0, 1.0)


def test_nothing_flagged() -> None:
    result = evaluate(TRUTH, {})
    assert (result.precision, result.recall, result.f1) == (0.0, 0.0, 0.0)
