"""Store and read detection runs: one transaction per run, so readers see the old run or the new."""

from __future__ import annotations

import hashlib
import marshal
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Select, Table, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from detector.store.bulk import insert_columns, insert_rows
from detector.store.schema import (
    AccountScoreRow,
    CampaignMemberRow,
    CampaignRow,
    DetectionRow,
    EvidenceRow,
    PostRow,
    RunComponentRow,
    StoredEvidenceRow,
    StoredTieRow,
    TieRow,
)

if TYPE_CHECKING:
    import networkx as nx

    from detector.cluster import Campaign, Edge
    from detector.detect import Detection

MAX_EVENTS_PER_CAMPAIGN = 500


def _table(row: type) -> Table:
    return row.__table__  # type: ignore[attr-defined, no-any-return]


def _representative(campaign: Campaign, texts: dict[str, str]) -> str:
    for event in campaign.ranked_events():
        for p in event.participants:
            if texts.get(p.post_id):
                return texts[p.post_id]
    return ""


def _campaign_rows(detection_id: int, result: Detection, digests: Sequence[str],
                   sets: Sequence[int | None]) -> list[dict[str, Any]]:
    return [{"detection_id": detection_id, "campaign_id": c.campaign_id, "rank": rank,
             "kind": c.kind, "score": c.score, "size": len(c.members), "start": c.start,
             "end": c.end, "signals": c.signals, "events": len(c.events),
             "representative_text": _representative(c, result.texts), "features": c.features,
             "evidence_digest": digest, "evidence_set": evidence_set}
            for rank, (c, digest, evidence_set)
            in enumerate(zip(result.campaigns, digests, sets, strict=True), start=1)]


def _member_rows(detection_id: int, result: Detection) -> list[dict[str, Any]]:
    return [{"detection_id": detection_id, "campaign_id": c.campaign_id, "platform": a[0],
             "account_id": a[1]} for c in result.campaigns for a in c.members]


def _score_rows(detection_id: int, result: Detection) -> list[dict[str, Any]]:
    rank = {c.campaign_id: i for i, c in enumerate(result.campaigns)}
    threshold = result.params.score.threshold
    return [{"detection_id": detection_id, "platform": s.account[0], "account_id": s.account[1],
             "score": s.score, "threshold": threshold, "flagged": s.flagged,
             "campaign_id": min(s.campaign_ids, key=rank.__getitem__) if s.campaign_ids else None,
             "subscores": s.subscores, "features": s.features, "explanation": s.explanation or None}
            for s in result.scores.values()]


_EVIDENCE = ("event", "signal", "content_key", "event_size",                 # one per event
             "platform", "account_id", "post_id", "posted_at", "delay_s", "similarity")
ComponentRows = tuple[list[tuple[Any, ...]], int]   # a connected component's tie rows, their key
_TIE = ("platform_a", "account_a", "platform_b", "account_b", "weight", "contents", "signals")


def _digest(value: Any, size: int) -> bytes:
    """Of plain values (str, int, float, None, in lists and tuples): marshal's version 2 writes
    the same bytes for the same values."""
    return hashlib.blake2b(marshal.dumps(value, 2), digest_size=size).digest()


def _evidence(campaign: Campaign, similar: Mapping[tuple[str, str], float]) -> list[list[Any]]:
    """A campaign's evidence rows as columns (``_EVIDENCE``): a row per post of its first
    ``MAX_EVENTS_PER_CAMPAIGN`` events. Columns, not dicts: a third of the time at 3M posts."""
    columns: list[list[Any]] = [[] for _ in _EVIDENCE]
    (numbers, signals, keys, sizes, platforms, accounts, post_ids, times, delays,
     similarities) = columns
    for number, event in enumerate(campaign.ranked_events()[:MAX_EVENTS_PER_CAMPAIGN], start=1):
        people, start = event.participants, event.start
        first, count = people[0].post_id, len(people)
        for column, value in ((numbers, number), (signals, event.signal), (keys, event.key),
                              (sizes, event.size)):
            column.extend([value] * count)
        for p in people:
            platforms.append(p.account[0])
            accounts.append(p.account[1])
            post_ids.append(p.post_id)
            times.append(p.time)
            delays.append((p.time - start).total_seconds())
            similarities.append(similar.get((first, p.post_id)))
    return columns


def _evidence_digest(columns: list[list[Any]]) -> str:
    """What a campaign's evidence rows hold, but its run and campaign ids (times as POSIX
    seconds: exact to the microsecond)."""
    at = _EVIDENCE.index("posted_at")
    plain = [[t.timestamp() for t in column] if i == at else column for i, column in enumerate(columns)]
    return _digest(plain, 16).hex()


def _components(graph: nx.Graph, components: list[list[Edge]] | None = None) -> list[list[tuple[Any, ...]]]:
    """The ties of each connected component as rows (``_TIE``), in ``cluster.component_edges``'
    order (each tie from its lesser account, sorted; ``components`` when the run made them): the
    same ties give the same rows in the same order, whatever order the graph was built in."""
    # not at the top: cluster imports networkx, which the read commands start without
    from detector.cluster import component_edges

    adjacent = graph.adj
    parts = component_edges(graph) if components is None else components
    return [[(a[0], a[1], b[0], b[1], weight, data["contents"], data["signals"])
             for a, b, weight in edges for data in (adjacent[a][b],)]
            for edges in parts if edges]


def _component_key(rows: list[tuple[Any, ...]]) -> int:
    """A component's rows as a signed 64-bit number (``ties.component``)."""
    return int.from_bytes(_digest(rows, 8), "big", signed=True)


def _previous_run(c: Connection) -> int | None:
    """The newest run, whose sets the run being stored may share: on PostgreSQL its row is
    held (``FOR SHARE``) until this run is stored, so that a deletion of it waits and then
    leaves the sets this run points at (``retention.delete_runs``). SQLite has one writer."""
    return c.execute(select(DetectionRow.id).order_by(DetectionRow.id.desc()).limit(1)
                     .with_for_update(read=True)).scalar()


def _set_sizes(c: Connection, column: Any, sets: Select[Any]) -> dict[int, int]:
    """How many rows each of ``sets`` holds (``column``: the rows' set id)."""
    return dict(c.execute(select(column, func.count()).where(column.in_(sets)).group_by(column)).all())


def _store_evidence(c: Connection, detection_id: int, result: Detection, before: int | None,
                    columns: list[list[list[Any]]], digests: list[str]) -> int:
    """The campaigns' rows, each naming its evidence set: the set of a campaign of the run
    ``before`` with the same rows (the same digest, and as many rows: a set damaged since is
    not shared), else a new set of its own rows, whose id is its own row's. Returns the rows
    shared with the run before."""
    sizes = {digest: len(rows[0]) for digest, rows in zip(digests, columns, strict=True)}
    earlier: dict[str, int] = {} if before is None else dict(c.execute(  # type: ignore[arg-type]
        select(CampaignRow.evidence_digest, CampaignRow.evidence_set)
        .where(CampaignRow.detection_id == before, CampaignRow.evidence_digest.is_not(None),
               CampaignRow.evidence_set.is_not(None))).all())
    held = _set_sizes(c, StoredEvidenceRow.set_id, select(CampaignRow.evidence_set)
                      .where(CampaignRow.detection_id == before)) if earlier else {}
    earlier = {digest: rows_set for digest, rows_set in earlier.items()
               if held.get(rows_set) == sizes.get(digest)}
    insert_rows(c, _table(CampaignRow), _campaign_rows(detection_id, result, digests,
                                                       [earlier.get(digest) for digest in digests]))
    c.execute(update(_table(CampaignRow)).where(CampaignRow.detection_id == detection_id,
                                                CampaignRow.evidence_set.is_(None))
              .values(evidence_set=CampaignRow.id))
    set_of = dict(c.execute(select(CampaignRow.campaign_id, CampaignRow.evidence_set)
                            .where(CampaignRow.detection_id == detection_id)).all())
    sent: dict[str, list[Any]] = {"set_id": []} | {n: [] for n in _EVIDENCE}
    shared = 0
    for campaign, digest, rows in zip(result.campaigns, digests, columns, strict=True):
        if digest in earlier:
            shared += len(rows[0])
            continue
        sent["set_id"] += [set_of[campaign.campaign_id]] * len(rows[0])
        for name, column in zip(_EVIDENCE, rows, strict=True):
            sent[name] += column
    insert_columns(c, _table(StoredEvidenceRow), sent)
    return shared


def _store_ties(c: Connection, detection_id: int, parts: list[ComponentRows],
                before: int | None) -> int:
    """The graph's ties, a connected component at a time (``parts``: its rows and their key):
    each component points at the tie set of the run ``before``'s component with the same key
    (and as many ties), else at a new set of its own rows, whose id is its own row's. Returns
    the ties shared with the run before."""
    earlier: dict[int, int] = {} if before is None else dict(c.execute(  # type: ignore[arg-type]
        select(RunComponentRow.component, RunComponentRow.tie_set)
        .where(RunComponentRow.detection_id == before, RunComponentRow.component.is_not(None),
               RunComponentRow.tie_set.is_not(None))).all())
    held = _set_sizes(c, StoredTieRow.tie_set, select(RunComponentRow.tie_set)
                      .where(RunComponentRow.detection_id == before)) if earlier else {}
    sizes = {key: len(rows) for rows, key in parts}
    earlier = {key: ties_set for key, ties_set in earlier.items() if held.get(ties_set) == sizes.get(key)}
    insert_columns(c, _table(RunComponentRow), {
        "detection_id": [detection_id] * len(parts), "component": [key for _, key in parts],
        "tie_set": [earlier.get(key) for _, key in parts]})
    c.execute(update(_table(RunComponentRow)).where(RunComponentRow.detection_id == detection_id,
                                                    RunComponentRow.tie_set.is_(None))
              .values(tie_set=RunComponentRow.id))
    set_of = dict(c.execute(select(RunComponentRow.component, RunComponentRow.tie_set)
                            .where(RunComponentRow.detection_id == detection_id)).all())
    sent = [(set_of[key], *row) for rows, key in parts if key not in earlier for row in rows]
    insert_columns(c, _table(StoredTieRow), dict(zip(("tie_set", *_TIE),
                                                     map(list, zip(*sent, strict=True)), strict=True))
                   if sent else {})
    return sum(len(rows) for rows, key in parts if key in earlier)


@dataclass(frozen=True)
class RunRows:
    """What storing a run sends or copies, made from the run alone (:func:`run_rows`): each
    campaign's evidence as columns and its digest, each connected component's ties and key."""

    evidence: list[list[list[Any]]]
    digests: list[str]
    ties: list[ComponentRows]


def run_rows(result: Detection) -> RunRows:
    """A run's evidence and tie rows, before any database is asked: an incremental run makes
    them while its child writes the cache (0.5-1.2 s at 3M posts, traced)."""
    columns = [_evidence(campaign, result.similarity) for campaign in result.campaigns]
    return RunRows(columns, [_evidence_digest(rows) for rows in columns],
                   [(rows, _component_key(rows)) for rows in _components(result.graph, result.components)])


def save_detection(engine: Engine, result: Detection, *, versions: dict[str, str],
                   datasets: Sequence[int], since: datetime | None = None,
                   until: datetime | None = None, rows: RunRows | None = None) -> int:
    """Store a whole run in one transaction and return its id.

    Most of a run's evidence and ties are what the run before stored: after 10k new posts on
    3M, 79% of the evidence rows (258k of 325k) and 87% of the ties. Each campaign's evidence
    and each connected component's ties are stored with a digest of their rows, as a set of
    rows that later runs share: a campaign or component whose digest the run before has points
    at that run's set instead of storing the rows again (``schema.StoredEvidenceRow``,
    ``schema.RunComponentRow``). Copying them inside the database instead took 2 s of storing
    that run. Each run reads as holding all its rows (the views ``evidence`` and ``ties``).
    ``result.counts`` gets how many were shared (``evidence_shared``, ``ties_shared``).
    ``rows``: ``run_rows(result)``, when made."""
    made = rows if rows is not None else run_rows(result)
    digests = made.digests
    with engine.begin() as c:
        before = _previous_run(c)
        detection_id = int(c.execute(_table(DetectionRow).insert().values(
            created_at=datetime.now(UTC), params=result.params.to_json(), versions=versions,
            datasets=list(datasets), counts=result.counts, since=since, until=until,
        )).inserted_primary_key[0])  # type: ignore[index]
        shared = {"evidence_shared": _store_evidence(c, detection_id, result, before, made.evidence, digests),
                  "ties_shared": _store_ties(c, detection_id, made.ties, before)}
        for row_type, values in ((CampaignMemberRow, _member_rows(detection_id, result)),
                                 (AccountScoreRow, _score_rows(detection_id, result))):
            insert_rows(c, _table(row_type), values)
        result.counts |= shared
        c.execute(update(_table(DetectionRow)).where(DetectionRow.id == detection_id)
                  .values(counts=result.counts))
    return detection_id


def latest_detection(engine: Engine) -> DetectionRow | None:
    with engine.connect() as c:
        row = c.execute(select(_table(DetectionRow)).order_by(DetectionRow.id.desc()).limit(1)).first()
    return DetectionRow(**row._mapping) if row else None


def ranked_campaigns(engine: Engine, detection_id: int, limit: int | None = None) -> list[CampaignRow]:
    with engine.connect() as c:
        query = (select(_table(CampaignRow)).where(CampaignRow.detection_id == detection_id)
                 .order_by(CampaignRow.rank).limit(limit))
        return [CampaignRow(**r._mapping) for r in c.execute(query)]


def account_scores(engine: Engine, detection_id: int) -> Iterator[AccountScoreRow]:
    """Every scored account of a run, highest score first."""
    with engine.connect() as c:
        query = (select(_table(AccountScoreRow)).where(AccountScoreRow.detection_id == detection_id)
                 .order_by(AccountScoreRow.score.desc(), AccountScoreRow.platform,
                           AccountScoreRow.account_id))
        for row in c.execute(query):
            yield AccountScoreRow(**row._mapping)


@dataclass(frozen=True)
class EvidencePost:
    campaign_id: str
    event: int
    signal: str
    post_id: str
    account_id: str
    posted_at: datetime
    delay_s: float
    event_size: int
    similarity: float | None
    text: str


def account_evidence(engine: Engine, detection_id: int, platform: str, account_id: str,
                     limit: int = 20) -> tuple[AccountScoreRow | None, list[EvidencePost]]:
    """An account's score row and the posts that tie it to others (its own and its partners')."""
    with Session(engine) as session:
        row = session.scalars(select(AccountScoreRow).where(
            AccountScoreRow.detection_id == detection_id, AccountScoreRow.platform == platform,
            AccountScoreRow.account_id == account_id)).first()
        if row is None:
            return None, []
        own: dict[str, list[int]] = defaultdict(list)      # its events, by campaign
        for campaign_id, event in session.execute(select(EvidenceRow.campaign_id, EvidenceRow.event).where(
                EvidenceRow.detection_id == detection_id, EvidenceRow.platform == platform,
                EvidenceRow.account_id == account_id).limit(limit)):
            own[campaign_id].append(event)
        posts = []
        for campaign_id, events in sorted(own.items()):    # a campaign at a time: see queries
            query = (select(EvidenceRow, func.coalesce(PostRow.text, ""))
                     .outerjoin(PostRow, (PostRow.platform == EvidenceRow.platform)
                                & (PostRow.post_id == EvidenceRow.post_id))
                     .where(EvidenceRow.detection_id == detection_id, EvidenceRow.campaign_id == campaign_id,
                            EvidenceRow.event.in_(events))
                     .order_by(EvidenceRow.event, EvidenceRow.posted_at))
            posts += [EvidencePost(e.campaign_id, e.event, e.signal, e.post_id, e.account_id,
                                   e.posted_at, e.delay_s, e.event_size, e.similarity, text)
                      for e, text in session.execute(query).all()]
        session.expunge(row)
    return row, posts


def ties(engine: Engine, detection_id: int) -> list[TieRow]:
    with engine.connect() as c:
        return [TieRow(**r._mapping) for r in c.execute(
            select(_table(TieRow)).where(TieRow.detection_id == detection_id).order_by(TieRow.id))]


def campaign_members(engine: Engine, detection_id: int) -> list[CampaignMemberRow]:
    with engine.connect() as c:
        return [CampaignMemberRow(**r._mapping) for r in c.execute(
            select(_table(CampaignMemberRow)).where(CampaignMemberRow.detection_id == detection_id)
            .order_by(CampaignMemberRow.id))]
