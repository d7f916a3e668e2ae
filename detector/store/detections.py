"""Store and read detection runs: one transaction per run, so readers see the old run or the new."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Table, func, select
from sqlalchemy.orm import Session

from detector.store.bulk import insert_columns, insert_rows
from detector.store.schema import (
    AccountScoreRow,
    CampaignMemberRow,
    CampaignRow,
    DetectionRow,
    EvidenceRow,
    PostRow,
    TieRow,
)

if TYPE_CHECKING:
    from detector.cluster import Campaign
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


def _campaign_rows(detection_id: int, result: Detection) -> list[dict[str, Any]]:
    return [{"detection_id": detection_id, "campaign_id": c.campaign_id, "rank": rank,
             "kind": c.kind, "score": c.score, "size": len(c.members), "start": c.start,
             "end": c.end, "signals": c.signals, "events": len(c.events),
             "representative_text": _representative(c, result.texts), "features": c.features}
            for rank, c in enumerate(result.campaigns, start=1)]


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


_EVIDENCE = ("campaign_id", "event", "signal", "content_key", "event_size",   # one per event
             "platform", "account_id", "post_id", "posted_at", "delay_s", "similarity")


def _evidence_columns(detection_id: int, result: Detection) -> dict[str, list[Any]]:
    """A row per post of each campaign's first ``MAX_EVENTS_PER_CAMPAIGN`` events, as columns:
    at 3M posts 325k rows, made as dicts in 0.9 s, as columns in a third of that."""
    columns: dict[str, list[Any]] = {name: [] for name in _EVIDENCE}
    (campaign_ids, numbers, signals, keys, sizes,
     platforms, accounts, post_ids, times, delays, similarities) = columns.values()
    similar = result.similarity
    for campaign in result.campaigns:
        events = campaign.ranked_events()[:MAX_EVENTS_PER_CAMPAIGN]
        for number, event in enumerate(events, start=1):
            people, start = event.participants, event.start
            first, count = people[0].post_id, len(people)
            for column, value in ((campaign_ids, campaign.campaign_id), (numbers, number),
                                  (signals, event.signal), (keys, event.key), (sizes, event.size)):
                column.extend([value] * count)
            for p in people:
                platforms.append(p.account[0])
                accounts.append(p.account[1])
                post_ids.append(p.post_id)
                times.append(p.time)
                delays.append((p.time - start).total_seconds())
                similarities.append(similar.get((first, p.post_id)))
    return {"detection_id": [detection_id] * len(post_ids)} | columns


def _tie_columns(detection_id: int, result: Detection) -> dict[str, list[Any]]:
    edges = list(result.graph.edges(data=True))
    return {"detection_id": [detection_id] * len(edges),
            "platform_a": [a[0] for a, _, _ in edges], "account_a": [a[1] for a, _, _ in edges],
            "platform_b": [b[0] for _, b, _ in edges], "account_b": [b[1] for _, b, _ in edges],
            "weight": [d["weight"] for _, _, d in edges],
            "contents": [d["contents"] for _, _, d in edges],
            "signals": [d["signals"] for _, _, d in edges]}


def save_detection(engine: Engine, result: Detection, *, versions: dict[str, str],
                   datasets: Sequence[int], since: datetime | None = None,
                   until: datetime | None = None) -> int:
    """Store a whole run in one transaction and return its id."""
    with engine.begin() as c:
        detection_id = int(c.execute(_table(DetectionRow).insert().values(
            created_at=datetime.now(UTC), params=result.params.to_json(), versions=versions,
            datasets=list(datasets), counts=result.counts, since=since, until=until,
        )).inserted_primary_key[0])  # type: ignore[index]
        for row_type, rows in ((CampaignRow, _campaign_rows(detection_id, result)),
                               (CampaignMemberRow, _member_rows(detection_id, result)),
                               (AccountScoreRow, _score_rows(detection_id, result))):
            insert_rows(c, _table(row_type), rows)
        insert_columns(c, _table(EvidenceRow), _evidence_columns(detection_id, result))
        insert_columns(c, _table(TieRow), _tie_columns(detection_id, result))
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
        own = select(EvidenceRow.campaign_id, EvidenceRow.event).where(
            EvidenceRow.detection_id == detection_id, EvidenceRow.platform == platform,
            EvidenceRow.account_id == account_id).limit(limit).subquery()
        query = (select(EvidenceRow, func.coalesce(PostRow.text, ""))
                 .join(own, (own.c.campaign_id == EvidenceRow.campaign_id)
                       & (own.c.event == EvidenceRow.event))
                 .outerjoin(PostRow, (PostRow.platform == EvidenceRow.platform)
                            & (PostRow.post_id == EvidenceRow.post_id))
                 .where(EvidenceRow.detection_id == detection_id)
                 .order_by(EvidenceRow.campaign_id, EvidenceRow.event, EvidenceRow.posted_at))
        posts = [EvidencePost(e.campaign_id, e.event, e.signal, e.post_id, e.account_id,
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
