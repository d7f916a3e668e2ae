"""Evaluate flagged accounts against ground truth: precision, recall, F1, organic false positives,
recall per scenario, and agreement of campaigns (adjusted Rand index)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sklearn.metrics import adjusted_rand_score

AccountKey = tuple[str, str]


class TruthRow(Protocol):
    """A ground-truth label: ``simulate.Truth`` or any record with these fields."""

    @property
    def platform(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def coordinated(self) -> bool: ...
    @property
    def scenario(self) -> str: ...
    @property
    def campaign(self) -> str | None: ...


@dataclass(frozen=True)
class Evaluation:
    precision: float
    recall: float
    f1: float
    organic_fpr: float
    flagged: int
    coordinated: int
    organic: int
    by_scenario: dict[str, float]   # recall for coordinated scenarios, flag rate for organic ones
    ari: float

    def render(self) -> str:
        lines = [f"accounts: {self.coordinated} coordinated, {self.organic} organic; "
                 f"{self.flagged} flagged",
                 f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
                 f"organic false-positive rate {self.organic_fpr:.4f}  campaign ARI {self.ari:.3f}",
                 "per scenario (coordinated: recall; organic: share flagged):"]
        lines += [f"  {name:18} {value:.3f}" for name, value in sorted(self.by_scenario.items())]
        return "\n".join(lines)


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def evaluate(truth: Sequence[TruthRow], flagged: Mapping[AccountKey, str | None]) -> Evaluation:
    """``flagged``: every flagged account and its campaign id (or ``None``)."""
    hits = total = 0
    per_scenario: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    true_labels: list[str] = []
    found_labels: list[str] = []
    coordinated = organic = false_positives = 0
    for row in truth:
        key = (row.platform, row.account_id)
        is_flagged = key in flagged
        per_scenario[row.scenario][0] += is_flagged
        per_scenario[row.scenario][1] += 1
        if row.coordinated:
            coordinated += 1
            hits += is_flagged
            true_labels.append(row.campaign or f"?{key}")
            found_labels.append((flagged.get(key) or f"solo{key}") if is_flagged else f"none{key}")
        else:
            organic += 1
            false_positives += is_flagged
    total = len(flagged)
    precision, recall = _ratio(hits, total), _ratio(hits, coordinated)
    f1 = _ratio(2 * precision * recall, precision + recall)
    ari = float(adjusted_rand_score(true_labels, found_labels)) if true_labels else 0.0
    return Evaluation(round(precision, 4), round(recall, 4), round(f1, 4),
                      round(_ratio(false_positives, organic), 5), total, coordinated, organic,
                      {k: round(_ratio(v[0], v[1]), 4) for k, v in per_scenario.items()},
                      round(ari, 4))
