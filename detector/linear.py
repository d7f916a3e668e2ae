"""The trained scorer as plain numbers, evaluated with numpy exactly as scikit-learn evaluates it.

The scorer is mean imputation, standard scaling, then logistic regression calibrated by a
sigmoid on each of a few folds, the calibrated probabilities averaged over the folds: a handful of
vectors. ``linear_form`` reads them off the fitted pipeline when it is trained; the model card
keeps them as JSON, so detection scores without importing scikit-learn or joblib (a second on a
small machine). The tests hold ``probabilities`` and ``contributions`` to scikit-learn's answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from detector.errors import IncompatibleModel

if TYPE_CHECKING:   # only training reads a form off a pipeline
    from sklearn.pipeline import Pipeline

FIX = "retrain with `cib train`"


@dataclass(frozen=True, eq=False)   # eq=False: arrays do not compare to one bool; compare to_json()
class LinearForm:
    """The fitted pipeline's numbers: per feature, then per calibration fold (one row each)."""

    means: np.ndarray       # (features,) put in place of a missing (NaN) feature: training means
    center: np.ndarray      # (features,) the scaler's mean
    scale: np.ndarray       # (features,) the scaler's scale (1 for a feature that never varied)
    coef: np.ndarray        # (folds, features) each fold's logistic-regression coefficients
    intercept: np.ndarray   # (folds,)
    a: np.ndarray           # (folds,) each fold's calibration: p = 1 / (1 + exp(a * f + b)),
    b: np.ndarray           # (folds,)   f the fold's decision value (log-odds)

    @property
    def width(self) -> int:
        return len(self.means)

    def standardized(self, rows: np.ndarray) -> np.ndarray:
        """``rows`` imputed and scaled, as the pipeline's first two steps transform them."""
        rows = self._checked(rows)
        return np.asarray((np.where(np.isnan(rows), self.means, rows) - self.center) / self.scale)

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """The calibrated probability of the positive class (coordinated) of each row: as
        ``CalibratedClassifierCV.predict_proba(rows)[:, 1]``, the mean over the folds."""
        scaled = self.standardized(rows)
        total = np.zeros(len(scaled))
        for coef, intercept, a, b in zip(self.coef, self.intercept, self.a, self.b, strict=True):
            decision = (scaled @ coef[:, np.newaxis]).reshape(-1) + intercept
            p = _expit(-(a * decision + b))
            p[(p > 1.0) & (p <= 1.0 + 1e-5)] = 1.0     # as scikit-learn clips rounding above 1
            total += p
        return total / len(self.intercept)

    def contributions(self, rows: np.ndarray) -> np.ndarray:
        """Per row and feature: coefficient x standardized value, the coefficient averaged over
        the folds; exactly 0 for a missing (NaN) feature, which is imputed with its mean."""
        scaled = self.standardized(rows)
        return np.where(np.isnan(rows), 0.0, scaled * np.mean(self.coef, axis=0))

    def to_json(self) -> dict[str, Any]:
        """Plain lists of floats; JSON writes each float in full (``repr``), so it reads back equal."""
        return {"impute_means": self.means.tolist(), "scale_mean": self.center.tolist(),
                "scale": self.scale.tolist(),
                "folds": [{"coef": c.tolist(), "intercept": float(i), "a": float(a), "b": float(b)}
                          for c, i, a, b in zip(self.coef, self.intercept, self.a, self.b, strict=True)]}

    @classmethod
    def from_json(cls, data: object, width: int) -> LinearForm:
        """The form ``to_json`` wrote, for ``width`` features; ``IncompatibleModel`` says what is
        missing or malformed."""
        if not isinstance(data, Mapping):
            raise _damaged("is not an object")
        folds = _field(data, "folds")
        if not isinstance(folds, list) or not folds or not all(isinstance(f, Mapping) for f in folds):
            raise _damaged("has no list of folds")
        return cls(means=_vector(_field(data, "impute_means"), "impute_means", width),
                   center=_vector(_field(data, "scale_mean"), "scale_mean", width),
                   scale=_nonzero(_vector(_field(data, "scale"), "scale", width)),
                   coef=np.array([_vector(_field(f, "coef"), "coef", width) for f in folds]),
                   intercept=_scalars(folds, "intercept"), a=_scalars(folds, "a"), b=_scalars(folds, "b"))

    def _checked(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=float)
        if rows.ndim != 2 or rows.shape[1] != self.width:
            raise ValueError(f"rows of {self.width} features expected, got an array of shape {rows.shape}")
        if np.isinf(rows).any():     # scikit-learn refuses them too: a feature is never infinite
            raise ValueError("a feature is infinite; missing features are NaN")
        return rows


def _expit(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))`` as scipy's ``expit`` computes it; 0 where ``exp`` overflows."""
    with np.errstate(over="ignore"):
        return np.asarray(1.0 / (1.0 + np.exp(-z)))


def _damaged(problem: str) -> IncompatibleModel:
    return IncompatibleModel(f"the model card's linear form {problem}; {FIX}")


def _field(data: Mapping[str, Any], name: str) -> Any:
    if name not in data:
        raise _damaged(f"has no {name!r}")
    return data[name]


def _vector(value: object, name: str, width: int) -> np.ndarray:
    """``value`` as finite floats, one per feature."""
    if not isinstance(value, list) or not all(_is_number(v) for v in value):
        raise _damaged(f"has a {name!r} that is not a list of numbers")
    if len(value) != width:
        raise _damaged(f"has {len(value)} values in {name!r} for the {width} features this code computes")
    return _finite(np.array(value, dtype=float), name)


def _scalars(folds: list[Mapping[str, Any]], name: str) -> np.ndarray:
    """One number per fold."""
    values = [_field(f, name) for f in folds]
    if not all(_is_number(v) for v in values):
        raise _damaged(f"has a fold whose {name!r} is not a number")
    return _finite(np.array(values, dtype=float), name)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(values: np.ndarray, name: str) -> np.ndarray:
    if not np.isfinite(values).all():
        raise _damaged(f"has a {name!r} that is not finite")
    return values


def _nonzero(scale: np.ndarray) -> np.ndarray:
    if (scale == 0).any():
        raise _damaged("has a 'scale' of 0 (scikit-learn uses 1 for a constant feature)")
    return scale


def linear_form(pipeline: Pipeline) -> LinearForm:
    """The numbers of a fitted ``make_pipeline`` pipeline; ``ValueError`` for any other shape of
    pipeline, whose scores this form would not reproduce."""
    impute, scale, model = _parts(pipeline)
    folds = model.calibrated_classifiers_
    return LinearForm(means=np.array(impute.statistics_, dtype=float),
                      center=np.array(scale.mean_, dtype=float),
                      scale=np.array(scale.scale_, dtype=float),
                      coef=np.array([f.estimator.coef_[0] for f in folds], dtype=float),
                      intercept=np.array([np.ravel(f.estimator.intercept_)[0] for f in folds], dtype=float),
                      a=np.array([f.calibrators[0].a_ for f in folds], dtype=float),
                      b=np.array([f.calibrators[0].b_ for f in folds], dtype=float))


def _parts(pipeline: Pipeline) -> tuple[Any, Any, Any]:
    """The imputer, scaler and calibrated model, after checking they are what the form assumes."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    steps = [step for _, step in pipeline.steps]
    expected = ("mean imputation (no indicator) -> standard scaling -> logistic regression "
                "calibrated by sigmoid, two classes")
    if len(steps) != 3:
        raise ValueError(f"the linear form needs {expected}; got {len(steps)} steps")
    impute, scale, model = steps
    if not (isinstance(impute, SimpleImputer) and impute.strategy == "mean" and not impute.add_indicator
            and _is_nan(impute.missing_values) and np.isfinite(impute.statistics_).all()
            and isinstance(scale, StandardScaler) and scale.with_mean and scale.with_std
            and isinstance(model, CalibratedClassifierCV) and model.method == "sigmoid"
            and len(model.classes_) == 2
            and all(isinstance(f.estimator, LogisticRegression) and len(f.calibrators) == 1
                    for f in model.calibrated_classifiers_)):
        raise ValueError(f"the linear form needs {expected}; got {pipeline}")
    return impute, scale, model


def _is_nan(value: object) -> bool:
    return isinstance(value, float) and np.isnan(value)
