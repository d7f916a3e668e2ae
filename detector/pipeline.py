"""Run detection on what is stored, and store the result: the one place that joins the stages."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import metadata

from sqlalchemy import Engine

from detector.detect import Detection, DetectParams
from detector.incremental import thaw
from detector.model import Scorer, ScorerSource, resolve_scorer
from detector.refresh import Cached, WarmCache, detect_full, detect_incremental, plan
from detector.store import account_creation, complete_datasets, refresh_statistics
from detector.store.detections import RunRows, run_rows, save_detection
from detector.store.lookup import DETECTION_BATCH, update_lookup_index

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
                  scorer: ScorerSource = None, *, full: bool = False,
                  incremental: bool = False, warm: WarmCache | None = None) -> tuple[int, Detection]:
    """Detect on the posts of complete datasets in ``[since, until)`` and store the run; the
    trained ``scorer`` (see ``detector.model.load_scorer``) scores when given, else the rule; a
    ``DeferredScorer`` is loaded once the fingerprinting child is started.

    With ``incremental``, a full run keeps a cache of its events and pair totals, and later runs
    update it (:mod:`detector.refresh`) when it explains what changed since, unless ``full``.
    Off by default: keeping the cache doubles a full run's time. ``result.path`` and
    ``result.counts`` say which ran. A long-lived process passes the same ``warm`` to each
    run: the cache stays loaded between them (:class:`detector.refresh.WarmCache`).

    Every run also brings the text-lookup index up to date (``detector.store.lookup``), with
    the normal forms and signatures its fingerprinting made when it can."""
    with _collector_paused():
        return _run(engine, params, since, until, scorer, full=full, incremental=incremental,
                    warm=warm)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector off for a run: a run makes millions of objects that live until
    it ends and almost no garbage in cycles (24k objects at 3M posts, left to the next
    collection), and the collector walked the living ones again and again: 331 collections,
    1.4 s of an incremental run at 3M posts. Where it was off already, it stays off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        thaw()                          # what loading the incremental cache froze, if it ran
        if enabled:
            gc.enable()


def _run(engine: Engine, params: DetectParams, since: datetime | None, until: datetime | None,
         scorer: ScorerSource, *, full: bool, incremental: bool,
         warm: WarmCache | None) -> tuple[int, Detection]:
    datasets = complete_datasets(engine)
    created = account_creation(engine)
    cached = (plan(engine, params, datasets, windowed=since is not None or until is not None,
                   full=full, warm=warm) if incremental else "incremental updates not asked for")
    rows: list[RunRows] = []                # made while the cache's writing child finishes
    if isinstance(cached, Cached):
        result, extra = detect_incremental(engine, params, cached, created, resolve_scorer(scorer),
                                           warm, meanwhile=lambda made: rows.append(run_rows(made)))
        result.path = (f"incremental{' (cache kept loaded)' if cached.kept else ''}: "
                       f"{extra['new_posts']:,} new posts, {extra['contents_touched']:,} contents touched")
        if not extra.pop("cache_saved"):
            result.path += "; the cache was left as another run wrote it meanwhile"
    else:
        result, extra = detect_full(engine, params, datasets, since, until, created, scorer,
                                    cache=incremental and since is None and until is None,
                                    warm=warm)
        result.path = f"full: {cached}"
    result.counts |= {"incremental": int(isinstance(cached, Cached))} | extra
    used = versions() | scorer_versions(resolve_scorer(scorer))
    detection_id = save_detection(engine, result, versions=used, datasets=datasets, since=since,
                                  until=until, rows=rows[0] if rows else None)
    # the text-lookup index: the fingerprinting child of a full run indexed what it read (while
    # this process concluded); the rest (posts outside a time window, incremental and small
    # runs, a child that failed) is indexed here
    update_lookup_index(engine, batch=DETECTION_BATCH)
    refresh_statistics(engine)
    return detection_id, result
