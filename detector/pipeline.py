"""Run detection on what is stored, and store the result: the one place that joins the stages."""

from __future__ import annotations

from datetime import datetime
from importlib import metadata

from sqlalchemy import Engine

from detector.detect import Detection, DetectParams, detect
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


def run_detection(engine: Engine, params: DetectParams = DEFAULT,
                  since: datetime | None = None,
                  until: datetime | None = None) -> tuple[int, Detection]:
    """Detect on the posts of complete datasets in ``[since, until)`` and store the run."""
    datasets = complete_datasets(engine)
    posts = list(iter_posts(engine, since, until))  # linking needs random access by index
    result = detect(posts, params, account_creation(engine))
    detection_id = save_detection(engine, result, versions=versions(), datasets=datasets,
                                  since=since, until=until)
    refresh_statistics(engine)
    return detection_id, result
