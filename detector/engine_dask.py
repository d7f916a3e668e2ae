"""Detect on a Dask cluster: the local kernels run per time partition of the posts on the workers,
and only what crosses partitions is shuffled between them (band keys of text signatures, one
record per post and content, account-pair weights, app popularity). Results equal ``detect``'s.

Steps (each a set of futures; see :mod:`detector.partitioned` for the kernels):

1. read: one task per file or Parquet row group, posts bucketed by time partition;
2. partition: a partition's posts gathered from the read tasks and sorted, its run-wide offset;
3. fingerprint: signatures per partition; band keys shuffled by key to shards, which pick the
   candidate pairs; each pair verified where its second post lives (the first post's signature
   is sent there); the client joins the verified pairs into text groups (union-find);
4. link: (post, content key) records shuffled by content, so each content's occasions are cut
   whole by one task; per occasion, each pair's best weight, shuffled by account pair and summed
   in the local order; only the significant pairs come back;
5. conclude: the events campaigns can cite and per-account tallies come back, and
   ``detect.conclude`` finishes as it does locally.
"""

from __future__ import annotations

import operator
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine

from detector.cluster import Campaign
from detector.detect import (
    Cited,
    Detection,
    DetectParams,
    Fingerprints,
    PostFacts,
    Ties,
    _similarities,
    conclude,
)
from detector.errors import ClusterUnavailable, MissingInput
from detector.features import behaviour_features
from detector.graph import Pair, PairStats, account_graph
from detector.link import AccountKey, Event
from detector.model import Scorer
from detector.partitioned import (
    Printed,
    Tallies,
    app_popularity,
    band_keys,
    bucket_posts,
    candidate_pairs,
    content_hashes,
    crossing_records,
    export_sigs,
    fingerprint_part,
    group_roots,
    key_mask,
    key_records,
    link_contents,
    local_records,
    lookup,
    merge_tallies,
    own_tallies,
    pick_weights,
    read_source,
    select_events,
    shared_contents,
    significant_pairs,
    sorted_part,
    sources_of,
    split_records,
    tally_part,
    verify_pairs,
)
from detector.pipeline import scorer_versions, versions
from detector.records import Post
from detector.store import account_creation, complete_datasets, iter_posts, refresh_statistics
from detector.store.detections import save_detection
from detector.store.lookup import DETECTION_BATCH, update_lookup_index

try:
    from distributed import Client, Future, LocalCluster
except ImportError as exc:  # pragma: no cover - the optional extra is missing
    raise ClusterUnavailable("the Dask engine needs the dask extra: "
                             "pip install 'cib-detector[dask]'") from exc


@dataclass(frozen=True)
class Partitioning:
    """How the run is cut: time partitions of ``span``, and ``shards`` for each shuffle."""

    span: timedelta = timedelta(days=1)
    shards: int = 4

    def to_json(self) -> dict[str, str]:
        return {"engine": "dask", "partition_s": str(self.span.total_seconds()),
                "shards": str(self.shards)}


DEFAULT, DAILY = DetectParams(), Partitioning()


def connect(scheduler: str | None = None, workers: int = 2, timeout: float = 10.0) -> Client:
    """A client of the scheduler at ``scheduler``, or of a new local cluster of ``workers`` processes."""
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1,  # type: ignore[no-untyped-call]
                               processes=True, dashboard_address=":0")
        return Client(cluster)  # type: ignore[no-untyped-call]
    try:
        return Client(scheduler, timeout=timeout)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError) as exc:
        raise ClusterUnavailable(
            f"cannot reach the Dask scheduler at {scheduler}: start one with `dask scheduler` and "
            f"workers with `dask worker {scheduler}`, or leave --scheduler out to run a local "
            f"cluster") from exc


@contextmanager
def session(scheduler: str | None = None, workers: int = 2) -> Iterator[Client]:
    """A client for the length of a run; a local cluster it started is stopped after it."""
    client = connect(scheduler, workers)
    try:
        yield client
    finally:
        cluster = client.cluster if scheduler is None else None
        client.close()  # type: ignore[no-untyped-call]
        if cluster is not None:
            cluster.close()


def check_inputs(paths: Sequence[Path]) -> None:
    """Every input file exists (as seen from the client: workers must see the same paths)."""
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise MissingInput(f"input file not found: {', '.join(missing)}; on a cluster give paths "
                           f"on storage every worker mounts at the same place")


def detect_dask(client: Client, inputs: Sequence[Path] | Iterable[Post],
                params: DetectParams = DEFAULT, partitioning: Partitioning = DAILY,
                created: Mapping[AccountKey, datetime] | None = None,
                scorer: Scorer | None = None) -> Detection:
    """What ``detect(sorted posts, params, created, scorer)`` returns, computed on the cluster.

    ``inputs``: dump or Parquet files every worker can read (posts never pass through the
    client), or posts (scattered from the client: fine for what fits in its memory)."""
    if params.preset != "default":
        raise ValueError("the Dask engine runs the default preset; run --preset coortweet locally")
    run = _Run(client, params, partitioning)
    parts = run.partitions(inputs)
    printed = run.fingerprint(parts)
    linked = run.link(printed, run.text_roots(printed))
    graph = account_graph(run.pairs(linked), params.graph)
    events, total = run.events(linked, graph.nodes)
    keep = set(graph.nodes) | {p.account for e in events for p in e.participants}
    tallies, apps, everyone, accounts = run.tallies(parts, keep)
    facts = _Facts(run, printed, tallies, apps, everyone, created)
    result = conclude(Ties(params, events, graph), facts.post_facts(), created, scorer)
    result.counts["events"], result.counts["accounts"] = total, accounts
    return result


class _Run:
    """The futures of one run; each method is a step, returning futures that stay on workers."""

    def __init__(self, client: Client, params: DetectParams, partitioning: Partitioning) -> None:
        self.client: Any = client   # distributed's Client is not typed
        # pure=False: no hashing of arguments (large dicts and sets sent from here would be
        # tokenized for every task); no task here is submitted twice
        self.submit = partial(self.client.submit, pure=False)
        self.params, self.partitioning = params, partitioning
        self.shards = partitioning.shards
        self.counts: list[int] = []
        self.homes: list[str] = []

    def partitions(self, inputs: Sequence[Path] | Iterable[Post]) -> list[Future[Any]]:
        """Per time partition (in time order), a future of its sorted posts."""
        seconds = self.partitioning.span.total_seconds()
        items = list(inputs)  # paths or posts, told apart by type
        if items and all(isinstance(i, Path) for i in items):
            paths: list[Path] = items  # type: ignore[assignment]
            check_inputs(paths)
            parts = self._read(sources_of(paths), seconds)
        else:
            buckets = bucket_posts(items, seconds)  # type: ignore[arg-type]
            parts = self.client.scatter([sorted_part(buckets[n]) for n in sorted(buckets)], hash=False)
        self.counts = self.client.gather(self.client.map(len, parts))
        where = self.client.who_has(parts)
        self.homes = [sorted(where[part.key])[0] for part in parts]
        return parts

    def at(self, part: int, function: Any, *args: Any) -> Future[Any]:
        """A task on the worker that holds partition ``part``: its posts never move (the
        scheduler underestimates their size and would otherwise balance load by moving them)."""
        return self.submit(function, *args, workers=[self.homes[part]], allow_other_workers=False)

    def _read(self, sources: list[Any], seconds: float) -> list[Future[Any]]:
        reads = self.client.map(read_source, sources, seconds=seconds)
        held = self.client.gather(self.client.map(sorted, reads))  # partition numbers per source
        numbers = sorted(set().union(*map(set, held)))
        return [self.submit(sorted_part, *[self.submit(operator.getitem, r, n)
                                                  for r, h in zip(reads, held, strict=True) if n in h])
                for n in numbers]

    @property
    def offsets(self) -> list[int]:
        return [int(x) for x in np.cumsum([0, *self.counts])[:-1]]

    def fingerprint(self, parts: list[Future[Any]]) -> list[Future[Any]]:
        return [self.at(i, fingerprint_part, part, offset, self.params)
                for i, (part, offset) in enumerate(zip(parts, self.offsets, strict=True))]

    def text_roots(self, printed: list[Future[Any]]) -> list[dict[int, int]]:
        """Per partition, the first post of the text group of each of its posts in a group."""
        kept = sum(self.client.gather(self.client.map(_kept, printed)))
        roots = group_roots(self._verified(printed, kept)) if kept else {}
        ends = np.cumsum(self.counts)
        by_part: list[dict[int, int]] = [{} for _ in printed]
        for index, root in roots.items():
            by_part[int(np.searchsorted(ends, index, side="right"))][index] = root
        return by_part

    def _verified(self, printed: list[Future[Any]], kept: int) -> np.ndarray[Any, Any]:
        submit, shards = self.submit, self.shards
        keys = [self.at(i, band_keys, p, key_mask(kept), self.params, shards) for i, p in enumerate(printed)]
        candidates = [submit(candidate_pairs, *[submit(operator.getitem, k, s) for k in keys])
                      for s in range(shards)]
        pairs = np.unique(np.concatenate([np.empty((0, 2), np.int64),
                                          *self.client.gather(candidates)]), axis=0)
        ends = np.cumsum(self.counts)
        first, second = (np.searchsorted(ends, pairs[:, c], side="right") for c in (0, 1))
        verified = []
        for part in np.unique(second).tolist():
            mine = second == part
            foreign = [self.at(q, export_sigs, printed[q], np.unique(pairs[mine & (first == q), 0]))
                       for q in np.unique(first[mine]).tolist() if q != part]
            verified.append(self.at(part, _verify, printed[part], pairs[mine], self.params, *foreign))
        return np.concatenate([np.empty((0, 2), np.int64), *self.client.gather(verified)])

    def link(self, printed: list[Future[Any]], roots: list[dict[int, int]]) -> list[Future[Any]]:
        submit, shards = self.submit, self.shards
        records = [self.at(i, key_records, p, r, self.params)
                   for i, (p, r) in enumerate(zip(printed, roots, strict=True))]
        hashes = [self.at(i, content_hashes, r, shards) for i, r in enumerate(records)]
        shared = [submit(shared_contents, *[submit(operator.getitem, h, s) for h in hashes])
                  for s in range(shards)]
        splits = [self.at(i, split_records, r, shards, *shared) for i, r in enumerate(records)]
        here = [self.at(i, link_contents, self.params, shards, self.at(i, local_records, split))
                for i, split in enumerate(splits)]
        return here + [submit(link_contents, self.params, shards,
                              *[submit(crossing_records, split, s) for split in splits])
                       for s in range(shards)]

    def pairs(self, linked: list[Future[Any]]) -> dict[Pair, PairStats]:
        submit = self.submit
        found = [submit(significant_pairs, self.params.graph,
                        *[submit(pick_weights, part, s) for part in linked]) for s in range(self.shards)]
        pairs: dict[Pair, PairStats] = {}
        for shard in self.client.gather(found):
            pairs.update(shard)
        return pairs

    def events(self, linked: list[Future[Any]], nodes: Iterable[AccountKey]) -> tuple[list[Event], int]:
        """The events campaigns can cite, in the local run's order, and how many there are in all."""
        node_set = self.client.scatter([set(nodes)], broadcast=True, hash=False)[0]  # a list: one future
        chosen = self.client.gather([self.submit(select_events, part, node_set, self.params.graph)
                                     for part in linked])
        total = sum(self.client.gather(self.client.map(_count, linked)))
        return [e for _, e in sorted((x for shard in chosen for x in shard), key=_order)], total

    def tallies(self, parts: list[Future[Any]], keep: set[AccountKey]
                ) -> tuple[Tallies, dict[str, int], int, int]:
        kept = self.client.scatter([keep], broadcast=True, hash=False)[0]
        tallies = [self.at(i, tally_part, part, kept) for i, part in enumerate(parts)]
        popularity = self.submit(app_popularity, tallies)
        own = merge_tallies(self.client.gather([self.submit(own_tallies, t) for t in tallies]))
        apps, everyone, accounts = popularity.result()
        return own, apps, everyone, accounts


def _kept(printed: Printed) -> int:
    return len(printed.kept)


def _count(linked: Any) -> int:
    return int(linked.count)


def _order(item: tuple[Any, Event]) -> Any:
    return item[0]


def _verify(printed: Printed, pairs: np.ndarray[Any, Any], params: DetectParams,
            *foreign: tuple[Any, Any]) -> np.ndarray[Any, Any]:
    return verify_pairs(printed, pairs, params.similarity, *foreign)


class _Facts:
    """``detect.PostFacts`` answered by the cluster: texts and signatures fetched on demand."""

    def __init__(self, run: _Run, printed: list[Future[Any]], tallies: Tallies, apps: dict[str, int],
                 everyone: int, created: Mapping[AccountKey, datetime] | None) -> None:
        self.run, self.printed, self.tally = run, printed, tallies
        self.apps, self.everyone, self.created = apps, everyone, created
        self.found: dict[str, tuple[str, Any]] = {}

    def post_facts(self) -> PostFacts:
        per_account = Counter({a: t.posts for a, t in self.tally.tallies.items()})
        return PostFacts(sum(self.run.counts), per_account, self.behaviour, self.texts, self.similarities)

    def behaviour(self, keep: Any) -> dict[AccountKey, dict[str, float]]:
        tallies = {a: t for a, t in self.tally.tallies.items() if a in keep}
        return behaviour_features(tallies, self.tally.first, self.apps, self.everyone, self.created)

    def _lookup(self, cited: set[str]) -> None:
        wanted = cited - set(self.found)
        if wanted:
            client = self.run.client
            shared = client.scatter([wanted], broadcast=True, hash=False)[0]
            asked = [self.run.at(i, lookup, p, shared) for i, p in enumerate(self.printed)]
            for part in client.gather(asked):
                self.found.update(part)

    def texts(self, cited: set[Cited]) -> dict[str, str]:
        ids = {post_id for _, post_id in cited}
        self._lookup(ids)
        return {post_id: self.found[post_id][0] for post_id in self.found if post_id in ids}

    def similarities(self, found: Sequence[Campaign]) -> dict[tuple[str, str], float]:
        self._lookup({p.post_id for c in found for e in c.events for p in e.participants})
        with_sigs = [(post_id, sig) for post_id, (_, sig) in self.found.items() if sig is not None]
        if not with_sigs:
            return {}
        prints = Fingerprints({post_id: row for row, (post_id, _) in enumerate(with_sigs)},
                              np.stack([sig for _, sig in with_sigs]))
        return _similarities(found, prints)


def run_detection_dask(engine: Engine, client: Client, inputs: Sequence[Path] = (),
                       params: DetectParams = DEFAULT, partitioning: Partitioning = DAILY,
                       since: datetime | None = None, until: datetime | None = None,
                       scorer: Scorer | None = None) -> tuple[int, Detection]:
    """Detect on the cluster and store the run as ``pipeline.run_detection`` stores a local one.

    With ``inputs`` the workers read those files; without, the client reads the stored posts of
    complete datasets in ``[since, until)`` and scatters them (everything passes through it),
    and indexes the stored posts' texts for lookups, in this process."""
    if inputs:
        datasets: list[int] = []
        result = detect_dask(client, inputs, params, partitioning, None, scorer)
    else:
        datasets = complete_datasets(engine)
        result = detect_dask(client, iter_posts(engine, since, until), params, partitioning,
                             account_creation(engine), scorer)
    workers = len(client.scheduler_info()["workers"])
    result.path = f"dask: {workers} workers, partitions of {partitioning.span}"
    detection_id = save_detection(engine, result, datasets=datasets, since=since, until=until,
                                  versions=versions() | scorer_versions(scorer) | partitioning.to_json()
                                  | {"workers": str(workers)})
    if not inputs:   # as a local run, it brings the text-lookup index of the stored posts up to date
        update_lookup_index(engine, batch=DETECTION_BATCH)
    refresh_statistics(engine)
    return detection_id, result
