"""The reads ``cib report`` needs beyond the API's, and the record of the reports written."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import Row

from detector.store.queries import (
    MAX_LIMIT,
    AccountSummary,
    CampaignSummary,
    EvidenceItem,
    list_accounts,
    list_campaigns,
    post_url,
)
from detector.store.schema import (
    AccountScoreRow,
    CampaignMemberRow,
    DatasetRow,
    DetectionRow,
    EvidenceRow,
    PostRow,
    ReportRow,
)

E, P = EvidenceRow, PostRow


@dataclass(frozen=True)
class DatasetRef:
    """A dataset a run read; ``name`` is None when the dataset was deleted since."""

    id: int
    name: str | None
    format: str | None
    status: str | None
    stored: int | None
    rejected: int | None


@dataclass(frozen=True)
class RunInfo:
    """A detection run as a report shows it: when, on what, with which settings, what it found."""

    detection_id: int
    created_at: datetime
    params: dict[str, Any]
    versions: dict[str, Any]
    counts: dict[str, Any]
    since: datetime | None
    until: datetime | None
    datasets: tuple[DatasetRef, ...]


@dataclass(frozen=True)
class ReportRecord:
    id: int
    created_at: datetime
    detection_id: int
    baseline_detection_id: int | None
    since: str
    out_dir: str
    counts: dict[str, Any]


# Runs

def _dataset_refs(engine: Engine, ids: Sequence[int]) -> tuple[DatasetRef, ...]:
    with engine.connect() as c:
        rows = {r.id: r for r in c.execute(select(DatasetRow.__table__).where(DatasetRow.id.in_(ids)))}
    return tuple(DatasetRef(i, rows[i].name, rows[i].format, rows[i].status, rows[i].stored,
                            rows[i].rejected) if i in rows else DatasetRef(i, None, None, None, None, None)
                 for i in ids)


def _run_info(engine: Engine, row: Row[Any] | None) -> RunInfo | None:
    if row is None:
        return None
    return RunInfo(row.id, row.created_at, row.params, row.versions, row.counts, row.since, row.until,
                   _dataset_refs(engine, [int(i) for i in row.datasets]))


def run_info(engine: Engine, detection_id: int) -> RunInfo | None:
    with engine.connect() as c:
        row = c.execute(select(DetectionRow.__table__).where(DetectionRow.id == detection_id)).first()
    return _run_info(engine, row)


def latest_run(engine: Engine) -> RunInfo | None:
    with engine.connect() as c:
        row = c.execute(select(DetectionRow.__table__).order_by(DetectionRow.id.desc()).limit(1)).first()
    return _run_info(engine, row)


def run_before(engine: Engine, moment: datetime) -> RunInfo | None:
    """The newest detection run created strictly before ``moment``."""
    with engine.connect() as c:
        row = c.execute(select(DetectionRow.__table__).where(DetectionRow.created_at < moment)
                        .order_by(DetectionRow.created_at.desc(), DetectionRow.id.desc())
                        .limit(1)).first()
    return _run_info(engine, row)


# A run's campaigns and accounts, whole

def all_campaigns(engine: Engine, detection_id: int) -> list[CampaignSummary]:
    """Every campaign of a run, by rank."""
    found: list[CampaignSummary] = []
    while True:
        page = list_campaigns(engine, detection_id, sort="rank", limit=MAX_LIMIT, offset=len(found))
        found.extend(page.items)
        if len(found) >= page.total or not page.items:
            return found


def member_sets(engine: Engine, detection_id: int) -> dict[str, frozenset[tuple[str, str]]]:
    """Each campaign's members as (platform, account_id) pairs."""
    members: dict[str, set[tuple[str, str]]] = defaultdict(set)
    with engine.connect() as c:
        for campaign_id, platform, account_id in c.execute(
                select(CampaignMemberRow.campaign_id, CampaignMemberRow.platform,
                       CampaignMemberRow.account_id)
                .where(CampaignMemberRow.detection_id == detection_id)):
            members[campaign_id].add((platform, account_id))
    return {k: frozenset(v) for k, v in members.items()}


def flagged_keys(engine: Engine, detection_id: int) -> set[tuple[str, str]]:
    """(platform, account_id) of every account a run flagged for review."""
    with engine.connect() as c:
        return {(p, a) for p, a in c.execute(
            select(AccountScoreRow.platform, AccountScoreRow.account_id)
            .where(AccountScoreRow.detection_id == detection_id, AccountScoreRow.flagged.is_(True)))}


def flagged_accounts(engine: Engine, detection_id: int) -> list[AccountSummary]:
    """Every flagged account of a run, highest score first, with its handle."""
    found: list[AccountSummary] = []
    while True:
        page = list_accounts(engine, detection_id, flagged=True, limit=MAX_LIMIT, offset=len(found))
        found.extend(page.items)
        if len(found) >= page.total or not page.items:
            return found


# Evidence

def evidence_sample(engine: Engine, detection_id: int, campaign_id: str, events: int = 5,
                    per_event: int = 6) -> tuple[EvidenceItem, ...]:
    """The first ``per_event`` posts of the campaign's ``events`` biggest events (event numbers
    are by size), with their texts and links."""
    ranked = (select(E.id, func.row_number().over(partition_by=E.event,
                                                  order_by=(E.posted_at, E.id)).label("n"))
              .where(E.detection_id == detection_id, E.campaign_id == campaign_id, E.event <= events)
              .subquery())
    query = (select(E.campaign_id, E.event, E.signal, E.platform, E.account_id, P.handle, E.post_id,
                    E.posted_at, E.delay_s, E.event_size, E.similarity,
                    func.coalesce(P.text, "").label("text"))
             .outerjoin(P, (P.platform == E.platform) & (P.post_id == E.post_id))
             .where(E.detection_id == detection_id, E.campaign_id == campaign_id,   # a shared row is in
                    E.id.in_(select(ranked.c.id).where(ranked.c.n <= per_event)))  # each run sharing it
             .order_by(E.event, E.posted_at, E.id))
    with engine.connect() as c:
        return tuple(EvidenceItem(**r._mapping, url=post_url(r.platform, r.handle, r.post_id))
                     for r in c.execute(query))


def evidence_times(engine: Engine, detection_id: int,
                   campaign_ids: Sequence[str]) -> dict[str, list[datetime]]:
    """The times of every evidence post of the given campaigns, in order, by campaign."""
    found: dict[str, list[datetime]] = {c: [] for c in campaign_ids}
    with engine.connect() as c:
        for campaign_id, posted_at in c.execute(
                select(E.campaign_id, E.posted_at)
                .where(E.detection_id == detection_id, E.campaign_id.in_(campaign_ids))
                .order_by(E.campaign_id, E.posted_at)):
            found[campaign_id].append(posted_at)
    return found


# The reports written

def record_report(engine: Engine, *, detection_id: int, baseline_detection_id: int | None, since: str,
                  out_dir: str, counts: dict[str, Any], created_at: datetime | None = None) -> int:
    """Remember a report that was written; returns its id."""
    with engine.begin() as c:
        result = c.execute(ReportRow.__table__.insert().values(  # type: ignore[attr-defined]
            created_at=created_at or datetime.now(UTC), detection_id=detection_id,
            baseline_detection_id=baseline_detection_id, since=since, out_dir=out_dir, counts=counts))
        return int(result.inserted_primary_key[0])  # type: ignore[index]


def reports(engine: Engine) -> list[ReportRecord]:
    """Every report written, oldest first."""
    with engine.connect() as c:
        return [ReportRecord(**r._mapping) for r in c.execute(
            select(ReportRow.__table__).order_by(ReportRow.id))]


def last_report(engine: Engine) -> ReportRecord | None:
    with engine.connect() as c:
        row = c.execute(select(ReportRow.__table__).order_by(ReportRow.id.desc()).limit(1)).first()
    return ReportRecord(**row._mapping) if row else None
