"""Train the scorer on simulated, labeled dumps and evaluate it on dumps it never saw.

Three disjoint sets of simulator configurations: *train* (fit), *validation* (choose the
threshold) and *test* (report). Test configurations use seeds and variants (scale, density,
accounts, days) used nowhere else, so the held-out numbers are not tuned on. Each dump goes
through ``detect()`` in memory with the rule; its scored accounts are the examples and the
simulator's truth gives the labels. Accounts the graph never touched are not examples: both the
rule and the model leave them at 0, and they count as misses in every metric.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from detector.detect import DetectParams, detect
from detector.errors import IncompatibleModel, TrainingDataError
from detector.linear import linear_form
from detector.link import AccountKey
from detector.model import (
    FEATURE_NAMES,
    FORMAT,
    LINEAR,
    Scorer,
    card_path,
    feature_vector,
    file_sha256,
    read_pipeline,
)
from detector.score import AccountScore
from detector.simulate import SimulationParams, Truth, simulate

Config = dict[str, Any]
FPR_CAP = 0.01
RANDOM_STATE = 0

TRAIN: tuple[Config, ...] = (
    {"seed": 101}, {"seed": 102, "scale": 0.5}, {"seed": 103, "scale": 1.5},
    {"seed": 104, "accounts": 1500, "days": 5}, {"seed": 105, "posts_per_account": 12.0},
    {"seed": 106, "accounts": 3000, "scale": 2.0}, {"seed": 107, "days": 3, "scale": 0.75},
    {"seed": 108, "posts_per_account": 5.0, "scale": 1.25},
)
VALIDATION: tuple[Config, ...] = (
    {"seed": 201, "accounts": 2500, "days": 6},
    {"seed": 202, "scale": 0.6, "posts_per_account": 10.0},
)
TEST: tuple[Config, ...] = (
    {"seed": 301, "accounts": 4000, "days": 10, "scale": 2.5},
    {"seed": 302, "accounts": 1000, "days": 3, "scale": 0.4, "posts_per_account": 16.0},
    {"seed": 303, "days": 14, "posts_per_account": 4.0},
)
QUICK_TRAIN: tuple[Config, ...] = ({"seed": 102, "accounts": 800, "days": 3, "scale": 1.5},
                                   {"seed": 103, "accounts": 800, "days": 3})
QUICK_VALIDATION: tuple[Config, ...] = ({"seed": 104, "accounts": 800, "days": 3},)
QUICK_TEST: tuple[Config, ...] = ({"seed": 101, "accounts": 800, "days": 3},)


@dataclass(frozen=True)
class LabeledDump:
    """One simulated dump after detection by the rule: its account scores and its truth."""

    config: Config
    scores: dict[AccountKey, AccountScore]
    truth: list[Truth]

    def labels(self) -> dict[AccountKey, bool]:
        return {(t.platform, t.account_id): t.coordinated for t in self.truth}


@dataclass(frozen=True)
class Counts:
    """Confusion counts over every account of one or more dumps."""

    tp: int
    fp: int
    fn: int
    organic: int

    def metrics(self) -> dict[str, float | int]:
        flagged, positives = self.tp + self.fp, self.tp + self.fn
        precision = self.tp / flagged if flagged else 0.0
        recall = self.tp / positives if positives else 0.0
        f1 = 2 * self.tp / (2 * self.tp + self.fp + self.fn) if positives or flagged else 0.0
        return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4),
                "organic_fpr": round(self.fp / self.organic, 5) if self.organic else 0.0,
                "flagged": flagged, "coordinated": positives, "organic": self.organic}


def labeled_dump(config: Config, params: DetectParams | None = None) -> LabeledDump:
    """Simulate one configuration and detect on it with the rule (no database)."""
    sim = simulate(SimulationParams(**config))
    return LabeledDump(dict(config), detect(sim.posts, params or DetectParams()).scores, sim.truth)


def rows_of(scores: Iterable[AccountScore]) -> np.ndarray:
    return np.array([feature_vector(s.features, s.subscores, len(s.campaign_ids), s.score)
                     for s in scores], dtype=float).reshape(-1, len(FEATURE_NAMES))


def build_training_set(dumps: Sequence[LabeledDump]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(X, y, groups)``: one row per scored account, labeled by truth, grouped by dump."""
    xs, ys, groups = [], [], []
    for number, dump in enumerate(dumps):
        labels = dump.labels()
        xs.append(rows_of(dump.scores.values()))
        ys += [labels.get(a, False) for a in dump.scores]
        groups += [number] * len(dump.scores)
    return np.vstack(xs), np.array(ys, dtype=int), np.array(groups)


def make_pipeline(groups: np.ndarray, y: np.ndarray) -> Pipeline:
    """Mean imputation of missing (NaN) features, scaling, then logistic regression calibrated
    (sigmoid) on folds that keep dumps whole. The imputer keeps features that are missing in
    every training row (``keep_empty_features``) so the width always matches ``FEATURE_NAMES``."""
    folds = min(4, len(set(groups.tolist())))
    splits = list(GroupKFold(n_splits=folds).split(np.zeros((len(y), 1)), y, groups))
    model = LogisticRegression(C=1.0, max_iter=2000, random_state=RANDOM_STATE)
    return Pipeline([("impute", SimpleImputer(strategy="mean", keep_empty_features=True)),
                     ("scale", StandardScaler()),
                     ("model", CalibratedClassifierCV(model, method="sigmoid", cv=splits))])


def fit_pipeline(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> Pipeline:
    """The fitted pipeline; ``TrainingDataError`` unless both classes and two dumps are present."""
    if len(set(y.tolist())) < 2 or len(set(groups.tolist())) < 2:
        raise TrainingDataError(f"{len(y)} examples from {len(set(groups.tolist()))} dumps with "
                                f"{int(y.sum())} coordinated: training needs both classes and at "
                                "least two dumps; simulate more or larger configurations")
    return make_pipeline(groups, y).fit(x, y)


def choose_threshold(probabilities: np.ndarray, labels: np.ndarray, missed: int, organic: int,
                     cap: float = FPR_CAP) -> float:
    """The threshold with the best F1 whose organic false-positive rate stays at most ``cap``.

    ``missed``: coordinated accounts no score reaches (always false negatives); ``organic``: all
    organic accounts, scored or not. Ties go to the higher threshold (fewer flags)."""
    probabilities = np.round(probabilities, 4)  # as scores are stored and compared
    best, best_f1 = 1.0, -1.0
    positives = int(labels.sum()) + missed
    for candidate in sorted(set(probabilities.tolist()), reverse=True):
        flagged = probabilities >= candidate
        tp = int((flagged & (labels == 1)).sum())
        fp = int((flagged & (labels == 0)).sum())
        if organic and fp / organic > cap:
            break
        f1 = 2 * tp / (2 * tp + fp + (positives - tp)) if positives else 0.0
        if f1 > best_f1:
            best, best_f1 = candidate, f1
    return float(best)


def count(dumps: Sequence[LabeledDump], flagged_of: Callable[[LabeledDump], set[AccountKey]]) -> Counts:
    tp = fp = fn = organic = 0
    for dump in dumps:
        flagged = flagged_of(dump)
        for account, coordinated in dump.labels().items():
            hit = account in flagged
            tp, fp = tp + (hit and coordinated), fp + (hit and not coordinated)
            fn, organic = fn + (coordinated and not hit), organic + (not coordinated)
    return Counts(tp, fp, fn, organic)


def rule_flags(dump: LabeledDump) -> set[AccountKey]:
    return {a for a, s in dump.scores.items() if s.flagged}


def model_flags(pipeline: Pipeline, threshold: float) -> Callable[[LabeledDump], set[AccountKey]]:
    def flags(dump: LabeledDump) -> set[AccountKey]:
        if not dump.scores:
            return set()
        p = np.round(pipeline.predict_proba(rows_of(dump.scores.values()))[:, 1], 4)
        return {a for a, v in zip(dump.scores, p, strict=True) if v >= threshold}
    return flags


@dataclass(frozen=True)
class Plan:
    """Which configurations train, validate and test."""

    train: tuple[Config, ...] = TRAIN
    validation: tuple[Config, ...] = VALIDATION
    test: tuple[Config, ...] = TEST


QUICK = Plan(QUICK_TRAIN, QUICK_VALIDATION, QUICK_TEST)


def _versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("cib-detector", "scikit-learn", "numpy", "joblib", "datasketch", "networkx"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


def _threshold(pipeline: Pipeline, dumps: Sequence[LabeledDump]) -> tuple[float, dict[str, Any]]:
    x, y, _ = build_training_set(dumps)
    totals = count(dumps, lambda d: set())      # nothing flagged: fn = coordinated, organic = all
    missed = totals.fn - int(y.sum())
    p = pipeline.predict_proba(x)[:, 1] if len(y) else np.zeros(0)
    threshold = choose_threshold(p, y, missed, totals.organic)
    why = (f"the highest F1 on the validation dumps (never used to fit) among thresholds whose "
           f"organic false-positive rate is at most {FPR_CAP:.0%}")
    return threshold, {"value": threshold, "why": why,
                       "validation": count(dumps, model_flags(pipeline, threshold)).metrics(),
                       "validation_rule": count(dumps, rule_flags).metrics()}


def _held_out(pipeline: Pipeline, threshold: float, dumps: Sequence[LabeledDump]) -> dict[str, Any]:
    flags = model_flags(pipeline, threshold)
    model, rule = count(dumps, flags).metrics(), count(dumps, rule_flags).metrics()
    return {"pooled": {"model": model, "rule": rule,
                       "f1_gain": round(float(model["f1"]) - float(rule["f1"]), 4)},
            "by_config": [{"config": d.config, "model": count([d], flags).metrics(),
                           "rule": count([d], rule_flags).metrics()} for d in dumps]}


def _describe(pipeline: Pipeline) -> dict[str, Any]:
    model = pipeline[-1]
    return {"steps": [name for name, _ in pipeline.steps],
            "classifier": "LogisticRegression",
            "classifier_params": {k: v for k, v in model.estimator.get_params().items()
                                  if isinstance(v, int | float | str | bool) or v is None},
            "calibration": {"method": model.method, "cv": "GroupKFold by dump",
                            "folds": len(model.calibrated_classifiers_)}}


def train(plan: Plan = Plan(), progress: Callable[[str], None] = lambda _m: None,
          ) -> tuple[Scorer, dict[str, Any]]:
    """Fit on ``plan.train``, choose the threshold on ``plan.validation``, report on ``plan.test``."""
    start = time.perf_counter()
    sets = {}
    for name, configs in (("train", plan.train), ("validation", plan.validation), ("test", plan.test)):
        progress(f"simulating and detecting {len(configs)} {name} dumps")
        sets[name] = [labeled_dump(c) for c in configs]
    x, y, groups = build_training_set(sets["train"])
    progress(f"fitting on {len(y)} scored accounts ({int(y.sum())} coordinated)")
    pipeline = fit_pipeline(x, y, groups)
    threshold, chosen = _threshold(pipeline, sets["validation"])
    card = {
        "format": FORMAT, "features": list(FEATURE_NAMES), "model": _describe(pipeline),
        "random_state": RANDOM_STATE, "threshold": chosen,
        "data": {"source": "detector.simulate at the configurations below, detected with the "
                           "default DetectParams; no labeled real dump with organic accounts is "
                           "available (the bundled IRA demo holds only campaign accounts)",
                 "examples": "accounts the rule scored (graph or campaign); others stay 0",
                 "train_rows": len(y), "train_coordinated": int(y.sum()),
                 **{name: [d.config for d in sets[name]] for name in sets}},
        "held_out": _held_out(pipeline, threshold, sets["test"]),
        "versions": _versions(),
    }
    card["training_seconds"] = round(time.perf_counter() - start, 1)
    return Scorer(pipeline, threshold, "", card), card


def save(scorer: Scorer, card: Mapping[str, Any], out: Path) -> Path:
    """Write ``scorer.joblib`` and its card ``scorer.json`` in ``out``; the card gets the
    pipeline's linear form (what detection scores with) and the joblib's sha256."""
    import joblib

    if scorer.pipeline is None:
        raise ValueError("only a scorer with its fitted pipeline can be saved; train one with `cib train`")
    out.mkdir(parents=True, exist_ok=True)
    path = out / "scorer.joblib"
    joblib.dump(scorer.pipeline, path)
    _write_card(path, {**card, LINEAR: linear_form(scorer.pipeline).to_json(), "sha256": file_sha256(path)})
    return path


def add_linear_form(path: Path) -> None:
    """Add the linear form to the card of the pipeline at ``path``, an older card without it;
    every other field stays as it was, the joblib file is not touched."""
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    if card.get("sha256") != file_sha256(path):
        raise IncompatibleModel(f"{path.name} does not match its card (sha256 differs); retrain")
    rest = {k: v for k, v in card.items() if k not in (LINEAR, "sha256")}
    form = linear_form(read_pipeline(path, card)).to_json()
    _write_card(path, {**rest, LINEAR: form, "sha256": card["sha256"]})


def _write_card(path: Path, card: Mapping[str, Any]) -> None:
    card_path(path).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n", encoding="utf-8")
