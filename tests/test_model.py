"""The trained scorer: fitting, threshold choice, explanations, loading and falling back to the rule."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import sklearn
from sklearn.pipeline import Pipeline

from detector.cli import main
from detector.detect import detect
from detector.linear import LinearForm, linear_form
from detector.model import (
    DEFAULT_MODEL,
    FEATURE_NAMES,
    FORMAT,
    LINEAR,
    MAY_BE_MISSING,
    Scorer,
    card_path,
    contributions,
    feature_vector,
    load_scorer,
    read_scorer,
    rescore,
    top_reasons,
)
from detector.score import AccountScore
from detector.simulate import SimulationParams, simulate
from detector.store import open_database
from detector.store.detections import save_detection
from detector.store.queries import list_accounts
from detector.train import build_training_set, choose_threshold, fit_pipeline, labeled_dump, save

WIDTH = len(FEATURE_NAMES)
CLIENT = [FEATURE_NAMES.index(n) for n in sorted(MAY_BE_MISSING)]


def separable(rows_per_group: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Four groups; the first feature alone separates the classes (high: coordinated)."""
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.1, size=(4 * rows_per_group, WIDTH))
    y = np.tile([1, 0], 2 * rows_per_group)
    x[:, 0] += 2 * y
    return x, y, np.repeat(np.arange(4), rows_per_group)


def card(**changes: Any) -> dict[str, Any]:
    return {"format": FORMAT, "features": list(FEATURE_NAMES),
            "versions": {"scikit-learn": sklearn.__version__}, "threshold": {"value": 0.5}} | changes


def saved(tmp_path: Path, **changes: Any) -> Path:
    x, y, groups = separable()
    return save(Scorer(fit_pipeline(x, y, groups), 0.5, ""), card(**changes), tmp_path)


def edit_card(path: Path, edit: Callable[[dict[str, Any]], object]) -> Path:
    """Change the card of the model at ``path`` in place (the joblib file stays as it is)."""
    data = json.loads(card_path(path).read_text())
    edit(data)
    card_path(path).write_text(json.dumps(data))
    return path


def without_linear_form(path: Path) -> Path:
    """The card as cards were before the linear form: loading unpickles the pipeline."""
    return edit_card(path, lambda c: c.pop(LINEAR))


def awkward_rows(center: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Rows around the training data and far from it: the app features missing in some (NaN),
    all-zero rows, huge and hugely negative values that saturate the sigmoids, the means."""
    rng = np.random.default_rng(7)
    rows = center + scale * rng.normal(0, 3, size=(300, WIDTH))
    rows[np.ix_(rng.random(len(rows)) < 0.3, CLIENT)] = np.nan
    rows[:20, CLIENT] = np.nan
    rows[20:30] = 0.0
    rows[30:35], rows[35:40] = 1e6, -1e6
    rows[40:45] = rng.choice([-1e12, 0.0, 1e12], size=(5, WIDTH))
    rows[45] = center
    rows[46:50, CLIENT] = np.nan
    rows[46:50, :5] = 1e9
    return rows


def fresh_pipeline() -> Pipeline:
    """A small pipeline fitted on rows whose app features are sometimes missing."""
    x, y, groups = separable()
    x[::3, CLIENT] = np.nan
    return fit_pipeline(x, y, groups)


def test_calibrated_probabilities_rank_the_separating_feature() -> None:
    x, y, groups = separable()
    p = fit_pipeline(x, y, groups).predict_proba(x)[:, 1]
    assert ((p >= 0) & (p <= 1)).all()
    assert p[y == 1].min() > p[y == 0].max()


@pytest.mark.parametrize(("cap", "expected"), [
    (1.0, 0.3),    # no cap: flag down to 0.3 -> tp 3, fp 1, fn 0: F1 0.857
    (0.1, 0.3),    # one organic of ten flagged is exactly the cap
    (0.05, 0.9),   # the organic 0.8 may not be flagged: 0.9 alone, F1 0.5
])
def test_threshold_maximises_f1_under_the_fpr_cap(cap: float, expected: float) -> None:
    p = np.array([0.9, 0.8, 0.6, 0.3, 0.2])
    labels = np.array([1, 0, 1, 1, 0])
    assert choose_threshold(p, labels, missed=0, organic=10, cap=cap) == expected


def test_threshold_rate_is_over_every_organic_account() -> None:
    p = np.array([0.9, 0.5, 0.4])
    labels = np.array([0, 1, 1])        # an organic account scores highest
    assert choose_threshold(p, labels, missed=3, organic=100, cap=0.01) == 0.4  # 1 of 100: 1%
    assert choose_threshold(p, labels, missed=3, organic=50, cap=0.01) == 1.0   # 2%: flag none


def test_contributions_are_signed_and_ranked() -> None:
    x, y, groups = separable()
    pipeline = fit_pipeline(x, y, groups)
    parts = contributions(pipeline, x)
    assert parts.shape == x.shape
    high, low = parts[y == 1, 0], parts[y == 0, 0]
    assert (high > 0).all() and (low < 0).all()        # the separating feature pushes both ways
    reasons = top_reasons(parts[0], limit=3)
    assert reasons[0]["feature"] == FEATURE_NAMES[0]
    assert [abs(float(r["contribution"])) for r in reasons] == sorted(
        (abs(float(r["contribution"])) for r in reasons), reverse=True)


def test_rescore_replaces_the_rule_and_explains(tmp_path: Path) -> None:
    scorer = read_scorer(saved(tmp_path))
    strong = AccountScore(("t", "a"), 0.9, {"text": 0.9}, {"strength": 40.0, "events": 9.0}, ["n1"])
    weak = AccountScore(("t", "b"), 0.1, {}, {"strength": 0.0})
    rescore(scorer, {s.account: s for s in (strong, weak)})
    for s in (strong, weak):
        assert 0 <= s.score <= 1 and s.flagged == (s.score >= 0.5)
        assert len(s.explanation) == 5 and s.explanation[0]["feature"] in FEATURE_NAMES
    assert strong.subscores["rule"] == 0.9


def test_round_trip_keeps_pipeline_threshold_and_digest(tmp_path: Path) -> None:
    path = saved(tmp_path, threshold={"value": 0.42})
    scorer = load_scorer(path)
    assert scorer is not None and scorer.threshold == 0.42
    assert json.loads(path.with_suffix(".json").read_text())["sha256"] == scorer.sha256
    x, _, _ = separable()
    assert scorer.probabilities(x).shape == (len(x),)


@pytest.mark.parametrize(("changes", "says"), [
    ({"features": ["strength", "ties"]}, "other features"),
    ({"format": FORMAT + 1}, "format"),
])
def test_incompatible_model_falls_back_with_one_warning(tmp_path: Path, changes: dict[str, Any],
                                                        says: str) -> None:
    warnings: list[str] = []
    assert load_scorer(saved(tmp_path, **changes), warnings.append) is None
    assert len(warnings) == 1 and "scoring with the rule" in warnings[0] and says in warnings[0]


def test_only_an_unpickled_pipeline_needs_the_scikit_learn_it_was_saved_by(tmp_path: Path) -> None:
    path = saved(tmp_path, versions={"scikit-learn": "0.24.2"})
    assert read_scorer(path).linear is not None         # plain numbers: any scikit-learn, or none
    warnings: list[str] = []
    assert load_scorer(without_linear_form(path), warnings.append) is None
    assert len(warnings) == 1 and "scikit-learn 0.24.2" in warnings[0]


def test_a_card_without_the_linear_form_scores_with_its_pipeline(tmp_path: Path) -> None:
    path = saved(tmp_path)
    linear = read_scorer(path)
    pickled = read_scorer(without_linear_form(path))
    assert linear.pipeline is None and pickled.pipeline is not None and pickled.linear is None
    assert linear.sha256 == pickled.sha256 and linear.name == pickled.name
    x, _, _ = separable()
    rows = awkward_rows(x.mean(axis=0), x.std(axis=0))
    assert np.abs(linear.probabilities(rows) - pickled.probabilities(rows)).max() <= 1e-12
    assert np.abs(linear.contributions(rows) - pickled.contributions(rows)).max() <= 1e-12


@pytest.mark.parametrize(("model", "pipeline"), [
    ("shipped", lambda: joblib.load(DEFAULT_MODEL)),
    ("fresh", fresh_pipeline),
])
def test_linear_form_scores_as_scikit_learn(model: str, pipeline: Callable[[], Pipeline]) -> None:
    fitted = pipeline()
    form = read_scorer(DEFAULT_MODEL).linear if model == "shipped" else linear_form(fitted)
    assert form is not None
    if model == "shipped":     # the card's numbers are those of the joblib it describes
        assert form.to_json() == linear_form(fitted).to_json()
    rows = awkward_rows(form.center, form.scale)
    expected = fitted.predict_proba(rows)[:, 1]
    assert np.abs(form.probabilities(rows) - expected).max() <= 1e-12
    assert np.abs(form.contributions(rows) - contributions(fitted, rows)).max() <= 1e-12
    assert (form.contributions(rows)[np.isnan(rows)] == 0).all()
    assert {0.0, 1.0} <= set(form.probabilities(rows[30:45]).tolist())   # saturated, not NaN


def test_linear_form_reads_back_from_json_unchanged() -> None:
    form = linear_form(fresh_pipeline())
    again = LinearForm.from_json(json.loads(json.dumps(form.to_json())), WIDTH)
    assert again.to_json() == form.to_json()
    rows = awkward_rows(form.center, form.scale)
    assert np.array_equal(again.probabilities(rows), form.probabilities(rows))
    assert np.array_equal(again.contributions(rows), form.contributions(rows))


def test_linear_form_refuses_rows_scikit_learn_refuses() -> None:
    form = linear_form(fresh_pipeline())
    with pytest.raises(ValueError, match="18 features"):
        form.probabilities(np.zeros((2, WIDTH - 1)))
    with pytest.raises(ValueError, match="infinite"):
        form.probabilities(np.full((1, WIDTH), np.inf))


def test_reading_the_shipped_model_imports_no_learning_library() -> None:
    # detection loads the scorer every run: scikit-learn and joblib would cost it a second
    probe = ("import sys, numpy; from detector.model import DEFAULT_MODEL, read_scorer; "
             "s = read_scorer(DEFAULT_MODEL); rows = numpy.zeros((2, len(s.card['features']))); "
             "s.probabilities(rows); s.contributions(rows); print(s.linear is not None, "
             "sorted(m for m in ('sklearn', 'joblib', 'scipy') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "True []"


def _first_fold(card: dict[str, Any]) -> dict[str, Any]:
    fold: dict[str, Any] = card[LINEAR]["folds"][0]
    return fold


@pytest.mark.parametrize(("damage", "says"), [
    (lambda c: c[LINEAR].pop("scale"), "has no 'scale'"),
    (lambda c: _first_fold(c).pop("b"), "has no 'b'"),
    (lambda c: _first_fold(c)["coef"].pop(), f"{WIDTH - 1} values in 'coef' for the {WIDTH} features"),
    (lambda c: [v.pop() for v in (c[LINEAR]["impute_means"], c[LINEAR]["scale_mean"],
                                  c[LINEAR]["scale"], *(f["coef"] for f in c[LINEAR]["folds"]))],
     f"{WIDTH - 1} values in 'impute_means'"),          # consistent, but for other features
    (lambda c: _first_fold(c).update(a="-0.7"), "'a' is not a number"),
    (lambda c: c[LINEAR]["scale"].__setitem__(0, 0.0), "'scale' of 0"),
    (lambda c: c[LINEAR].update(folds=[]), "no list of folds"),
    (lambda c: c.update({LINEAR: None}), "is not an object"),
])
def test_damaged_linear_form_falls_back_with_one_warning(
        tmp_path: Path, damage: Callable[[dict[str, Any]], object], says: str) -> None:
    warnings: list[str] = []
    assert load_scorer(edit_card(saved(tmp_path), damage), warnings.append) is None
    assert len(warnings) == 1 and "scoring with the rule" in warnings[0]
    assert "linear form" in warnings[0] and says in warnings[0] and "cib train" in warnings[0]


def test_a_model_file_that_is_not_the_cards_is_refused(tmp_path: Path) -> None:
    path = saved(tmp_path)
    path.write_bytes(path.read_bytes() + b"\0")       # the linear form alone would still score
    warnings: list[str] = []
    assert load_scorer(path, warnings.append) is None
    assert len(warnings) == 1 and "does not match its card" in warnings[0]


def test_missing_model_falls_back_and_rule_is_silent(tmp_path: Path) -> None:
    warnings: list[str] = []
    assert load_scorer(tmp_path / "none.joblib", warnings.append) is None
    assert len(warnings) == 1 and "no trained model" in warnings[0]
    assert load_scorer(Path("rule"), warnings.append) is None and len(warnings) == 1


def test_shipped_model_loads_and_beat_the_rule_on_held_out_dumps() -> None:
    scorer = load_scorer(DEFAULT_MODEL)
    assert scorer is not None, "models/scorer.joblib is missing or stale: run `cib train`"
    pooled = scorer.card["held_out"]["pooled"]
    assert pooled["model"]["f1"] > pooled["rule"]["f1"]
    assert pooled["model"]["organic_fpr"] <= 0.01
    assert not {tuple(c.items()) for c in scorer.card["data"]["test"]} & {
        tuple(c.items()) for c in scorer.card["data"]["train"] + scorer.card["data"]["validation"]}


def test_detection_with_the_model_stores_its_reasons(tmp_path: Path) -> None:
    scorer = load_scorer(DEFAULT_MODEL)
    assert scorer is not None
    sim = simulate(SimulationParams(seed=5, accounts=300, days=2))
    result = detect(sim.posts, scorer=scorer)
    assert result.scorer == scorer.name and result.params.score.threshold == scorer.threshold
    engine = open_database(str(tmp_path / "cib.db"))
    detection_id = save_detection(engine, result, versions={}, datasets=[])
    top = list_accounts(engine, detection_id, limit=1).items[0]
    assert top.threshold == scorer.threshold and top.explanation
    assert {"feature", "contribution"} == set(top.explanation[0])


def test_training_set_rows_follow_feature_names() -> None:
    dump = labeled_dump({"seed": 3, "accounts": 300, "days": 2})
    x, y, groups = build_training_set([dump, dump])
    assert x.shape == (2 * len(dump.scores), WIDTH) and set(groups.tolist()) == {0, 1}
    assert y.sum() > 0


def test_cib_train_quick_writes_a_loadable_card(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--quick", "--out", str(tmp_path)]) == 0
    assert "held-out: model F1" in capsys.readouterr().out
    written = json.loads((tmp_path / "scorer.json").read_text())
    assert written["features"] == list(FEATURE_NAMES)
    assert {"model", "rule", "f1_gain"} <= set(written["held_out"]["pooled"])
    assert written["threshold"]["why"] and written["versions"]["scikit-learn"] == sklearn.__version__
    loaded = load_scorer(tmp_path / "scorer.joblib")
    assert loaded is not None and loaded.linear is not None and LINEAR in written


def test_account_without_client_gets_no_client_contribution_or_reason(tmp_path: Path) -> None:
    client = [FEATURE_NAMES.index(n) for n in ("main_client_share", "main_client_rarity")]
    x, y, groups = separable()
    x[:, client] += 3 * y[:, None]                     # the app features are strong evidence here
    scorer = Scorer(fit_pipeline(x, y, groups), 0.5, "")
    no_app = AccountScore(("t", "a"), 0.9, {"text": 0.9},
                          {"strength": 40.0, "events": 9.0, "posts": 12.0}, ["n1"])
    with_app = AccountScore(("t", "b"), 0.9, {"text": 0.9},
                            {"strength": 40.0, "events": 9.0, "posts": 12.0,
                             "main_client_share": 0.0, "main_client_rarity": 0.0}, ["n1"])
    rows = np.array([feature_vector(s.features, s.subscores, 1, s.score) for s in (no_app, with_app)])
    assert np.isnan(rows[0, client]).all() and not np.isnan(rows[1]).any()
    parts = contributions(scorer.pipeline, rows)
    assert (parts[0, client] == 0).all() and (parts[1, client] != 0).all()
    # the missing features are imputed with the training mean: the score is as if they were average
    average = rows[:1].copy()
    average[0, client] = scorer.pipeline.named_steps["impute"].statistics_[client]
    assert scorer.probabilities(rows[:1]) == pytest.approx(scorer.probabilities(average))
    rescore(scorer, {s.account: s for s in (no_app, with_app)})
    assert no_app.explanation and not {"main_client_share", "main_client_rarity"} & {
        str(r["feature"]) for r in no_app.explanation}
    assert all(float(r["contribution"]) != 0 for r in no_app.explanation)
    assert {"main_client_share", "main_client_rarity"} <= {str(r["feature"]) for r in with_app.explanation}


def test_dump_without_clients_gives_no_client_reasons() -> None:
    scorer = load_scorer(DEFAULT_MODEL)
    assert scorer is not None
    sim = simulate(SimulationParams(seed=5, accounts=300, days=2))
    result = detect([replace(p, client=None) for p in sim.posts], scorer=scorer)
    assert result.scores
    for s in result.scores.values():
        assert "main_client_share" not in s.features and "main_client_rarity" not in s.features
        assert not {"main_client_share", "main_client_rarity"} & {str(r["feature"]) for r in s.explanation}


def test_a_deferred_scorer_is_loaded_once_and_scores_as_the_loaded_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from detector import aside
    from detector.load import IngestOptions, ingest_file
    from detector.model import DeferredScorer
    from detector.pipeline import run_detection
    from detector.store.detections import account_scores, latest_detection
    from tests.factories import write_file

    sim = simulate(SimulationParams(seed=5, accounts=300, days=2))
    dump = write_file(tmp_path / "sim.jsonl", "twarc2", sim.posts)
    monkeypatch.setattr(aside, "MIN_POSTS", 0)     # the fingerprinting child is started first
    runs = []
    loads: list[int] = []
    for name in ("loaded", "deferred"):
        engine = open_database(str(tmp_path / f"{name}.db"))
        ingest_file(engine, dump, IngestOptions())
        scorer = load_scorer(DEFAULT_MODEL) if name == "loaded" else DeferredScorer(
            lambda: loads.append(1) or load_scorer(DEFAULT_MODEL))
        detection_id, _ = run_detection(engine, scorer=scorer)
        stored = latest_detection(engine)
        assert stored is not None and stored.id == detection_id
        runs.append((stored.versions,
                     [(s.account_id, s.score, s.flagged) for s in account_scores(engine, detection_id)]))
    assert loads == [1]
    assert runs[0] == runs[1] and runs[1][0]["scorer"] != "rule"
