"""Run detection on what is stored, and store the result: the one place that joins the stages."""

from __future__ import annotations

from datetime import datetime
from importlib import metadata

from sqlalchemy import Engine

from detector.detect import Detection, DetectParams, detect
from detector.model import Scorer
from detector.store import account_creation, complete_datasets, iter_posts, refresh_statistics
from detector.store.detections import save_detection

LIBRARIES = ("cib-detector", "datasketch", "networkx", "numpy", "scikit-learn", "sqlalchemy")


def versions() -> dict[str, str]:
    """Versions of the libraries whose behaviour shapes a result."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "absent"
    return found


DEFAULT = DetectParams()


def scorer_versions(scorer: Scorer | None) -> dict[str, str]:
    """Which scorer made the scores: ``rule``, or the model's sha256 and training libraries."""
    if scorer is None:
        return {"scorer": "rule"}
    made = scorer.card.get("versions", {})
    return {"scorer": scorer.name, "scorer_sha256": scorer.sha256,
            "scorer_scikit-learn": str(made.get("scikit-learn", "unknown"))}


def run_detection(engine: Engine, params: DetectParams = DEFAULT,
                  since: datetime | None = None,
                  until: datetime | None = None,
                  scorer: Scorer | None = None) -> tuple[int, Detection]:
    """Detect on the posts of complete datasets in ``[since, until)`` and store the run; the
    trained ``scorer`` (see ``detector.model.load_scorer``) scores when given, else the rule."""
    datasets = complete_datasets(engine)
    posts = list(iter_posts(engine, since, until))  # linking needs random access by index
    result = detect(posts, params, account_creation(engine), scorer)
    detection_id = save_detection(engine, result, versions=versions() | scorer_versions(scorer),
                                  datasets=datasets, since=since, until=until)
    refresh_statistics(engine)
    return detection_id, result
