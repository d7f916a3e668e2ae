"""The trained scorer: features in a fixed order, calibrated probabilities, per-feature reasons.

A ``Scorer`` is the trained model (mean imputation of missing features, standard scaling, then
logistic regression calibrated by sigmoid on group folds) with the threshold chosen at training
and the model card. The card holds the model's numbers (its linear form, ``detector.linear``), so
loading imports neither scikit-learn nor joblib; an older card without them has its scikit-learn
``Pipeline`` unpickled, which needs the scikit-learn minor version that saved it.
It rescores only the accounts the detection's graph touched; every other account stays at 0, as
with the rule. ``load_scorer`` returns ``None`` (and says why, once) when the model is missing or
was made for other features, another format or another scikit-learn, so the caller keeps the rule.

A feature the dump cannot supply (the posting-app features of an account none of whose posts
names its app) is NaN in the feature vector: the pipeline imputes the training mean, so it
contributes 0 to the score, and it is left out of the explanation.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from detector.errors import IncompatibleModel
from detector.linear import LinearForm
from detector.link import AccountKey
from detector.score import AccountScore

if TYPE_CHECKING:   # scikit-learn takes a second to import: only training and older cards need it
    from sklearn.pipeline import Pipeline

logger = logging.getLogger(__name__)

FORMAT = 2                           # 2: NaN marks a missing feature, imputed by the pipeline
MODEL_VARIABLE = "CIB_MODEL"
RULE = "rule"                        # as a model path: score with the documented rule, silently
DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "models" / "scorer.joblib"
LINEAR = "linear"                    # the card's key for the pipeline's numbers (LinearForm.to_json)
TOP_REASONS = 5

# counts and durations are heavy-tailed: the model sees log1p of them
LOGGED = ("strength", "ties", "events", "median_delay_s", "posts")
PLAIN = ("share_of_posts_in_events", "repost_ratio", "hour_entropy", "main_client_share",
         "main_client_rarity")
# absent from an account's features when the dump does not say: missing (NaN), not 0
MAY_BE_MISSING = frozenset({"main_client_share", "main_client_rarity"})
SUBSCORES = ("text", "repost", "link", "reply", "hashtags", "relay")
# account_age_days is left out: many dump formats do not carry creation dates
FEATURE_NAMES: tuple[str, ...] = (*(f"log_{n}" for n in LOGGED), *PLAIN,
                                  *(f"sub_{n}" for n in SUBSCORES), "campaigns", "rule_score")


def feature_vector(features: Mapping[str, float], subscores: Mapping[str, float],
                   campaigns: int, rule_score: float) -> list[float]:
    """One account's features in ``FEATURE_NAMES`` order. An absent feature counts as 0, except
    those in ``MAY_BE_MISSING`` (the dump carries no posting app for the account): NaN."""
    def plain(name: str) -> float:
        if name in MAY_BE_MISSING and name not in features:
            return math.nan
        return float(features.get(name, 0.0))

    return [*(math.log1p(max(float(features.get(n, 0.0)), 0.0)) for n in LOGGED),
            *(plain(n) for n in PLAIN),
            *(float(subscores.get(n, 0.0)) for n in SUBSCORES),
            float(campaigns), float(rule_score)]


def contributions(pipeline: Pipeline, rows: np.ndarray) -> np.ndarray:
    """Per row and feature: coefficient x standardized value, averaged over the calibration folds.

    They sum (with the intercept) to the log-odds before calibration, which is monotone in the
    calibrated probability: a positive value pushed the score up. A missing (NaN) feature is
    imputed with its training mean, i.e. standardized 0: its contribution is exactly 0."""
    scaled = pipeline[:-1].transform(rows)
    fitted = pipeline[-1].calibrated_classifiers_
    coef = np.mean([c.estimator.coef_[0] for c in fitted], axis=0)
    return np.where(np.isnan(rows), 0.0, np.asarray(scaled * coef))


def top_reasons(values: np.ndarray, names: tuple[str, ...] = FEATURE_NAMES,
                limit: int = TOP_REASONS) -> list[dict[str, float | str]]:
    """The features that pushed a score most, either way, largest first; features that did not
    push it at all (missing from the dump) are not reasons and are left out."""
    order = [i for i in np.argsort(-np.abs(values), kind="stable") if values[i] != 0][:limit]
    return [{"feature": names[i], "contribution": round(float(values[i]), 4)} for i in order]


@dataclass(frozen=True)
class Scorer:
    """A fitted model, the threshold it flags at, and where it came from.

    The model is the pipeline's linear form when there is one (what ``read_scorer`` gives for a
    current card: ``pipeline`` is then ``None``), else the fitted pipeline (training, older cards);
    both score the same."""

    pipeline: Pipeline | None
    threshold: float
    sha256: str
    card: dict[str, Any] = field(default_factory=dict)
    linear: LinearForm | None = None

    def __post_init__(self) -> None:
        if self.pipeline is None and self.linear is None:
            raise ValueError("a Scorer needs a fitted pipeline or its linear form")

    @property
    def name(self) -> str:
        return f"model:{self.sha256[:12]}"

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """The calibrated probability that each row's account is coordinated."""
        if self.linear is not None:
            return self.linear.probabilities(rows)
        assert self.pipeline is not None       # __post_init__
        return np.asarray(self.pipeline.predict_proba(rows)[:, 1])

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        """What each feature of each row added to its log-odds; see the module's ``contributions``."""
        if self.linear is not None:
            return self.linear.contributions(rows)
        assert self.pipeline is not None
        return contributions(self.pipeline, rows)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def card_path(model: Path) -> Path:
    return model.with_suffix(".json")


def check_card(card: Mapping[str, Any]) -> None:
    """Raise ``IncompatibleModel`` unless the card matches this code's format and features."""
    if card.get("format") != FORMAT:
        raise IncompatibleModel(f"model format {card.get('format')!r}, this code reads {FORMAT}; "
                                "retrain with `cib train`")
    if tuple(card.get("features", ())) != FEATURE_NAMES:
        raise IncompatibleModel("the model was trained on other features than this code computes; "
                                "retrain with `cib train`")


def check_library(card: Mapping[str, Any]) -> None:
    """Raise ``IncompatibleModel`` unless this scikit-learn can unpickle the card's pipeline (same
    minor version); the linear form needs no such check."""
    import sklearn

    made = str(card.get("versions", {}).get("scikit-learn", ""))
    if made.split(".")[:2] != sklearn.__version__.split(".")[:2]:
        raise IncompatibleModel(f"the model was saved by scikit-learn {made}, this is "
                                f"{sklearn.__version__}; retrain with `cib train` or install {made}")


def default_model_path() -> Path:
    """``$CIB_MODEL`` if set (``rule`` for the rule), else ``models/scorer.joblib`` of this
    checkout (an editable install finds it; elsewhere set ``CIB_MODEL``)."""
    return Path(os.environ.get(MODEL_VARIABLE) or DEFAULT_MODEL)


def read_scorer(path: Path) -> Scorer:
    """Load a scorer and its card; ``IncompatibleModel`` says what is wrong with them.

    A card with the linear form gives a scorer of it alone (no scikit-learn import); the joblib
    file is still read, to check that it is the one the card describes."""
    if not path.is_file() or not card_path(path).is_file():
        raise IncompatibleModel(f"no trained model at {path} (and its card {card_path(path).name})")
    card = json.loads(card_path(path).read_text(encoding="utf-8"))
    check_card(card)
    digest = file_sha256(path)
    if card.get("sha256") not in (None, digest):
        raise IncompatibleModel(f"{path.name} does not match its card (sha256 differs); retrain")
    threshold = float(card["threshold"]["value"])
    if LINEAR in card:
        return Scorer(None, threshold, digest, card, LinearForm.from_json(card[LINEAR], len(FEATURE_NAMES)))
    return Scorer(read_pipeline(path, card), threshold, digest, card)


def read_pipeline(path: Path, card: Mapping[str, Any]) -> Pipeline:
    """Unpickle the fitted pipeline at ``path`` (joblib), once its card says this scikit-learn can."""
    check_library(card)
    import joblib

    return joblib.load(path)


class DeferredScorer:
    """A scorer loaded on first use: ``cib detect`` starts its fingerprinting child first, then
    loads the model while the child works (milliseconds from the linear form, about a second
    for an older card whose pipeline needs scikit-learn). Loaded once."""

    def __init__(self, load: Callable[[], Scorer | None]) -> None:
        self._load: Callable[[], Scorer | None] | None = load
        self._scorer: Scorer | None = None

    def get(self) -> Scorer | None:
        if self._load is not None:
            self._scorer, self._load = self._load(), None
        return self._scorer


ScorerSource = Scorer | DeferredScorer | None
"""What detection scores with: a scorer, one loaded when first needed, or ``None`` (the rule)."""


def resolve_scorer(source: ScorerSource) -> Scorer | None:
    """The scorer of ``source``, loading it now if it was deferred."""
    return source.get() if isinstance(source, DeferredScorer) else source


def load_scorer(path: Path | None = None,
                warn: Callable[[str], None] = logger.warning) -> Scorer | None:
    """The trained scorer at ``path`` (default: ``default_model_path()``), or ``None`` after one
    warning that the documented rule will score instead; the path ``rule`` asks for the rule."""
    path = path or default_model_path()
    if str(path) == RULE:            # asked for the rule: nothing to warn about
        return None
    try:
        return read_scorer(path)
    except (IncompatibleModel, OSError, ValueError, KeyError) as exc:
        warn(f"warning: scoring with the rule, not the trained model: {exc}")
        return None


def rescore(scorer: Scorer, scores: Mapping[AccountKey, AccountScore]) -> None:
    """Replace the rule's scores by the model's, in place; the rule's score stays as sub-score
    ``rule`` and each account gets the features that pushed its score most."""
    accounts = list(scores.values())
    if not accounts:
        return
    rows = np.array([feature_vector(s.features, s.subscores, len(s.campaign_ids), s.score)
                     for s in accounts])
    for s, p, parts in zip(accounts, scorer.probabilities(rows), scorer.contributions(rows), strict=True):
        s.subscores["rule"] = s.score
        s.score = round(float(p), 4)
        s.flagged = s.score >= scorer.threshold
        s.explanation = top_reasons(parts)
