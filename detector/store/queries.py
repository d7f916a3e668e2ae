"""The reads behind the REST API: pages of accounts, campaigns and datasets, and their details.

Every query here is served by an index (``bench/bench_queries.py --plans`` prints the plans) and
reads at most one page, one account or one campaign's evidence: never a whole table. Results are
plain frozen dataclasses; a detection is named by its ``detections.id``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, NamedTuple, TypeVar

import networkx as nx
from sqlalchemy import Engine, Select, String, Text, cast, delete, distinct, exists, func, select, tuple_
from sqlalchemy.engine import Connection, Row
from sqlalchemy.sql.elements import ColumnElement

from detector.errors import BadQuery, DatasetBusy
from detector.export import build_graph, node_id
from detector.link import SIGNALS
from detector.records import Account, Rejected
from detector.store.database import flush_deleted
from detector.store.lookup import forget_dataset_posts
from detector.store.reader import rejections
from detector.store.retention import forget_cache, replace_runs
from detector.store.schema import (
    AccountRow,
    AccountScoreRow,
    CampaignMemberRow,
    CampaignRow,
    DatasetRow,
    DetectionRow,
    EvidenceRow,
    PostRow,
    RejectionRow,
    TieRow,
)

T = TypeVar("T")
MAX_LIMIT = 1000
MAX_BUCKETS = 2000
MAX_EVIDENCE_POSTS = 1000      # at most this many posts in an account's evidence
BUCKETS = {"minute": 60, "hour": 3600, "day": 86400}
_TWITTER = ("twitter", "x")
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,50}$")

S, A, M, C, E, P = AccountScoreRow, AccountRow, CampaignMemberRow, CampaignRow, EvidenceRow, PostRow


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a sorted list, and how many items the whole (filtered) list has."""

    items: tuple[T, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class AccountSummary:
    platform: str
    account_id: str
    handle: str | None
    score: float
    threshold: float
    flagged: bool
    campaign_id: str | None          # the best-ranked campaign it belongs to
    subscores: dict[str, float]
    features: dict[str, float]
    explanation: list[dict[str, Any]] = field(default_factory=list)  # a trained scorer's reasons


@dataclass(frozen=True)
class EvidenceItem:
    """A post of a co-action event: who, when, how long after the event's first post, and a link."""

    campaign_id: str
    event: int
    signal: str
    platform: str
    account_id: str
    handle: str | None
    post_id: str
    posted_at: datetime
    delay_s: float
    event_size: int
    similarity: float | None
    text: str                        # "" when the post's dataset was deleted
    url: str | None


@dataclass(frozen=True)
class AccountDetail:
    summary: AccountSummary
    campaigns: tuple[str, ...]       # every campaign it is a member of, best-ranked first
    evidence: tuple[EvidenceItem, ...]
    profile: Account | None          # the stored profile, when a dump carried one


@dataclass(frozen=True)
class CampaignSummary:
    campaign_id: str
    rank: int
    kind: str
    score: float
    size: int
    start: datetime
    end: datetime
    span_seconds: float
    signals: tuple[str, ...]
    events: int
    representative_text: str


@dataclass(frozen=True)
class CampaignMember:
    platform: str
    account_id: str
    handle: str | None
    score: float
    flagged: bool
    campaign_id: str | None          # the member's best-ranked campaign (maybe another one)


@dataclass(frozen=True)
class Message:
    """One content the campaign pushed (a near-duplicate text, a reposted post, a link...)."""

    signal: str
    content_key: str
    text: str                        # the first post of its biggest burst
    posts: int
    accounts: int
    first: datetime
    last: datetime


@dataclass(frozen=True)
class TimelineBucket:
    start: datetime
    posts: int
    accounts: int


@dataclass(frozen=True)
class CampaignDetail:
    summary: CampaignSummary
    features: dict[str, float]
    members: Page[CampaignMember]
    messages: tuple[Message, ...]
    bucket: str                      # "minute", "hour" or "day"
    timeline: tuple[TimelineBucket, ...]
    evidence: Page[EvidenceItem]


@dataclass(frozen=True)
class DatasetInfo:
    id: int
    name: str
    sha256: str
    format: str
    size_bytes: int
    status: str
    read: int
    stored: int
    duplicates: int
    rejected: int
    error: str | None
    started_at: datetime
    finished_at: datetime | None
    rejections: tuple[Rejected, ...] = ()   # the first ones; filled by get_dataset only


def post_url(platform: str, handle: str | None, post_id: str) -> str | None:
    """A link to the post on its platform, or None when we do not know how to build one.

    Twitter resolves ``i/web/status/ID`` for any account, so an unknown handle still links.
    """
    if platform.lower() not in _TWITTER or not post_id.isdigit():
        return None
    who = handle if handle and _HANDLE.match(handle) else "i/web"
    return f"https://twitter.com/{who}/status/{post_id}"


def _check_page(limit: int, offset: int) -> None:
    if not 0 <= limit <= MAX_LIMIT:
        raise BadQuery(f"limit {limit} is out of range; give 0 to {MAX_LIMIT}")
    if offset < 0:
        raise BadQuery(f"offset {offset} is negative; give 0 or more")


def _order(sort: str, choices: Mapping[str, tuple[Any, ...]]) -> tuple[Any, ...]:
    if sort not in choices:
        raise BadQuery(f"unknown sort {sort!r}; choose one of {', '.join(choices)}")
    return choices[sort]


def _count(c: Connection, query: Select[*tuple[Any, ...]]) -> int:
    return int(c.execute(select(func.count()).select_from(query.subquery())).scalar_one())


# Accounts

_ACCOUNT_SORTS = {
    # ties follow the score's direction so one index scan serves the whole order
    "-score": (S.score.desc(), S.platform.desc(), S.account_id.desc()),
    "score": (S.score, S.platform, S.account_id),
    "account_id": (S.platform, S.account_id),
    "-account_id": (S.platform.desc(), S.account_id.desc()),
}


def _account_select() -> Select[*tuple[Any, ...]]:
    return (select(S.platform, S.account_id, A.handle, S.score, S.threshold, S.flagged,
                   S.campaign_id, S.subscores, S.features, S.explanation)
            .outerjoin(A, (A.platform == S.platform) & (A.account_id == S.account_id)))


def _account_summary(row: Row[Any]) -> AccountSummary:
    return AccountSummary(platform=row.platform, account_id=row.account_id, handle=row.handle,
                          score=row.score, threshold=row.threshold, flagged=bool(row.flagged),
                          campaign_id=row.campaign_id, subscores=row.subscores,
                          features=row.features, explanation=row.explanation or [])


def _members_of(detection_id: int, campaign_id: str) -> Select[*tuple[Any, ...]]:
    return select(M.platform, M.account_id).where(M.detection_id == detection_id,
                                                  M.campaign_id == campaign_id)


def _account_filters(detection_id: int, min_score: float | None, campaign: str | None,
                     flagged: bool | None) -> list[ColumnElement[bool]]:
    where = [S.detection_id == detection_id]
    if min_score is not None:
        where.append(S.score >= min_score)
    if flagged is not None:
        where.append(S.flagged == flagged)
    if campaign is not None:
        where.append(tuple_(S.platform, S.account_id).in_(_members_of(detection_id, campaign)))
    return where


def list_accounts(engine: Engine, detection_id: int, *, min_score: float | None = None,
                  campaign: str | None = None, flagged: bool | None = None, sort: str = "-score",
                  limit: int = 50, offset: int = 0) -> Page[AccountSummary]:
    """Scored accounts of a run; ``campaign`` keeps the members of that campaign (any, not
    only their best-ranked one). Sorts: ``-score``, ``score``, ``account_id``, ``-account_id``."""
    _check_page(limit, offset)
    order = _order(sort, _ACCOUNT_SORTS)
    where = _account_filters(detection_id, min_score, campaign, flagged)
    # the page's ids first, from the index alone; then only those rows: a deep offset skips
    # index entries, not rows with their JSON
    page = select(S.id).where(*where).order_by(*order).limit(limit).offset(offset).subquery()
    with engine.connect() as c:
        total = int(c.execute(select(func.count()).select_from(S).where(*where)).scalar_one())
        rows = c.execute(_account_select().join(page, page.c.id == S.id).order_by(*order))
        items = tuple(_account_summary(r) for r in rows)
    return Page(items, total, limit, offset)


def _profile(c: Connection, platform: str, account_id: str) -> Account | None:
    row = c.execute(select(A.platform, A.account_id, A.handle, A.name, A.created_at, A.followers,
                           A.following, A.posts_count)
                    .where(A.platform == platform, A.account_id == account_id)).first()
    return Account(**row._mapping) if row else None


def _unscored(c: Connection, detection_id: int, profile: Account) -> AccountSummary | None:
    """A stored account without any significant tie: score 0, which is what "no signal" means."""
    params = c.execute(select(DetectionRow.params).where(DetectionRow.id == detection_id)).scalar()
    if params is None:
        return None
    return AccountSummary(profile.platform, profile.account_id, profile.handle, 0.0,
                          float(params["score"]["threshold"]), False, None, {}, {})


def _account_campaigns(c: Connection, detection_id: int, platform: str,
                       account_id: str) -> tuple[str, ...]:
    return tuple(c.execute(
        select(M.campaign_id).join(C, (C.detection_id == M.detection_id)
                                   & (C.campaign_id == M.campaign_id))
        .where(M.detection_id == detection_id, M.platform == platform, M.account_id == account_id)
        .order_by(C.rank)).scalars())


def _evidence_select() -> Select[*tuple[Any, ...]]:
    return (select(E.campaign_id, E.event, E.signal, E.platform, E.account_id, P.handle, E.post_id,
                   E.posted_at, E.delay_s, E.event_size, E.similarity,
                   func.coalesce(P.text, "").label("text"))
            .outerjoin(P, (P.platform == E.platform) & (P.post_id == E.post_id)))


def _evidence_item(row: Row[Any]) -> EvidenceItem:
    return EvidenceItem(**row._mapping, url=post_url(row.platform, row.handle, row.post_id))


def _account_evidence(c: Connection, detection_id: int, platform: str, account_id: str,
                      limit: int, partners: int) -> tuple[EvidenceItem, ...]:
    """The account's first ``limit`` events (by time): its own post and the first ``partners``
    posts of each, so a relay of hundreds does not bury the others.

    The events' posts are read a campaign at a time (an account's first events are in a few):
    through the ``evidence`` view, one query for all took 100 ms at 3M posts instead of 10,
    its window walking every evidence row of the run. Campaigns in order of their ids, as
    both databases order these (a letter, then digits)."""
    is_own = (E.platform == platform) & (E.account_id == account_id)
    own = c.execute(select(E.campaign_id, E.event).where(E.detection_id == detection_id, is_own)
                    .order_by(E.posted_at, E.campaign_id, E.event).limit(limit)).all()
    events: dict[str, list[int]] = defaultdict(list)
    for campaign_id, event in own:
        events[campaign_id].append(event)
    rows: list[Row[Any]] = []
    for campaign_id, numbers in sorted(events.items()):
        where = (E.detection_id == detection_id, E.campaign_id == campaign_id)
        number = func.row_number().over(partition_by=E.event, order_by=(E.posted_at, E.id))
        ranked = (select(E.id, is_own.label("own"), number.label("n"))
                  .where(*where, E.event.in_(numbers)).subquery())
        kept = select(ranked.c.id).where(ranked.c.own | (ranked.c.n <= partners))
        rows += c.execute(_evidence_select().where(*where, E.id.in_(kept))
                          .order_by(E.event, E.posted_at, E.id)).all()
    return tuple(_evidence_item(r) for r in rows[:MAX_EVIDENCE_POSTS])


def account_detail(engine: Engine, detection_id: int, platform: str, account_id: str,
                   evidence_limit: int = 20, partners_per_event: int = 10) -> AccountDetail | None:
    """An account's score, campaigns, evidence (posts of its first ``evidence_limit`` events)
    and profile; None if the run or the account is unknown.

    A stored account that no tie links to anyone gets score 0 and no evidence.
    """
    _check_page(evidence_limit, 0)
    if partners_per_event < 0:
        raise BadQuery(f"partners_per_event {partners_per_event} is negative; give 0 or more")
    with engine.connect() as c:
        row = c.execute(_account_select().where(
            S.detection_id == detection_id, S.platform == platform, S.account_id == account_id)).first()
        profile = _profile(c, platform, account_id)
        if row is not None:
            summary: AccountSummary | None = _account_summary(row)
        else:
            summary = _unscored(c, detection_id, profile) if profile else None
        if summary is None:
            return None
        return AccountDetail(summary, _account_campaigns(c, detection_id, platform, account_id),
                             _account_evidence(c, detection_id, platform, account_id, evidence_limit,
                                               partners_per_event),
                             profile)


# Campaigns

_CAMPAIGN_SORTS = {
    "rank": (C.rank,), "-rank": (C.rank.desc(),),
    "-score": (C.score.desc(), C.rank), "score": (C.score, C.rank),
    "-size": (C.size.desc(), C.rank), "size": (C.size, C.rank),
    "-start": (C.start.desc(), C.rank), "start": (C.start, C.rank),
}


def _campaign_summary(row: Row[Any]) -> CampaignSummary:
    return CampaignSummary(campaign_id=row.campaign_id, rank=row.rank, kind=row.kind, score=row.score,
                           size=row.size, start=row.start, end=row.end,
                           span_seconds=(row.end - row.start).total_seconds(),
                           signals=tuple(row.signals), events=row.events,
                           representative_text=row.representative_text)


def _signal_filter(signal: str) -> ColumnElement[bool]:
    """Campaigns whose JSON list of signals holds ``signal``: a LIKE on the JSON text, which is
    exact because every signal name is a plain word and none is inside another in quotes."""
    if signal not in SIGNALS:
        raise BadQuery(f"unknown signal {signal!r}; signals are {', '.join(SIGNALS)}")
    return cast(C.signals, Text).like(f'%"{signal}"%')


def list_campaigns(engine: Engine, detection_id: int, *, min_score: float | None = None,
                   min_size: int | None = None, signal: str | None = None, kind: str | None = None,
                   sort: str = "-score", limit: int = 50, offset: int = 0) -> Page[CampaignSummary]:
    """Campaigns of a run. Sorts: ``rank``, ``score``, ``size``, ``start``, each also with ``-``."""
    _check_page(limit, offset)
    order = _order(sort, _CAMPAIGN_SORTS)
    where = [C.detection_id == detection_id]
    if min_score is not None:
        where.append(C.score >= min_score)
    if min_size is not None:
        where.append(C.size >= min_size)
    if signal is not None:
        where.append(_signal_filter(signal))
    if kind is not None:
        where.append(C.kind == kind)
    with engine.connect() as c:
        total = int(c.execute(select(func.count()).select_from(C).where(*where)).scalar_one())
        rows = c.execute(select(C.__table__).where(*where).order_by(*order).limit(limit).offset(offset))
        items = tuple(_campaign_summary(r) for r in rows)
    return Page(items, total, limit, offset)


def _campaign_members(c: Connection, detection_id: int, campaign_id: str, limit: int,
                      offset: int) -> Page[CampaignMember]:
    members = _members_of(detection_id, campaign_id)
    query = (select(M.platform, M.account_id, A.handle,
                    func.coalesce(S.score, 0.0).label("score"),
                    func.coalesce(S.flagged, False).label("flagged"), S.campaign_id)
             .outerjoin(S, (S.detection_id == M.detection_id) & (S.platform == M.platform)
                        & (S.account_id == M.account_id))
             .outerjoin(A, (A.platform == M.platform) & (A.account_id == M.account_id))
             .where(M.detection_id == detection_id, M.campaign_id == campaign_id)
             .order_by(func.coalesce(S.score, 0.0).desc(), M.platform, M.account_id)
             .limit(limit).offset(offset))
    items = tuple(CampaignMember(r.platform, r.account_id, r.handle, float(r.score), bool(r.flagged),
                                 r.campaign_id) for r in c.execute(query))
    return Page(items, _count(c, members), limit, offset)


def _account_key(platform: Any, account_id: Any) -> Any:
    """One value per account, to count distinct (platform, account_id) pairs."""
    return platform + ":" + account_id


def _messages(c: Connection, detection_id: int, campaign_id: str, limit: int) -> tuple[Message, ...]:
    """The contents with the most evidence posts. A content's posts are one per account and
    burst, so ``count(*)`` counts distinct posts; its text is the first post of its biggest
    burst (lowest event number), found through the event index rather than a window function
    (three times slower on a 4,000-post campaign)."""
    where = (E.detection_id == detection_id, E.campaign_id == campaign_id)
    groups = (select(E.signal, E.content_key, func.count().label("posts"),
                     func.count(distinct(_account_key(E.platform, E.account_id))).label("accounts"),
                     func.min(E.posted_at).label("first"), func.max(E.posted_at).label("last"),
                     func.min(E.event).label("event"))
              .where(*where).group_by(E.signal, E.content_key)
              .order_by(func.count().desc(), func.min(E.posted_at), E.signal, E.content_key)
              .limit(limit).subquery())
    first_text = (select(func.coalesce(P.text, ""))
                  .select_from(E).outerjoin(P, (P.platform == E.platform) & (P.post_id == E.post_id))
                  .where(*where, E.event == groups.c.event).order_by(E.posted_at, E.id).limit(1)
                  .scalar_subquery())
    query = (select(groups, first_text.label("text"))
             .order_by(groups.c.posts.desc(), groups.c.first, groups.c.signal, groups.c.content_key))
    return tuple(Message(signal=r.signal, content_key=r.content_key, text=r.text or "", posts=r.posts,
                         accounts=r.accounts, first=_utc(r.first), last=_utc(r.last))
                 for r in c.execute(query))


def _utc(value: Any) -> datetime:
    """A time computed by the database (a min, a bucket): text on SQLite, aware on PostgreSQL."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    moment: datetime = value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_SQLITE_BUCKETS = {"minute": (16, ":00"), "hour": (13, ":00:00"), "day": (10, "")}
_POSTGRES_BUCKETS = {"minute": 'YYYY-MM-DD HH24:MI:00', "hour": 'YYYY-MM-DD HH24:00:00',
                     "day": 'YYYY-MM-DD'}


def _bucket_of(dialect: str, unit: str) -> Any:
    """The start of ``evidence.posted_at``'s bucket as ISO text, the same on both databases.

    SQLite keeps times as SQLAlchemy's fixed ``YYYY-MM-DD HH:MM:SS.ffffff`` text: cutting it is
    exact and twice as fast as ``strftime``.
    """
    if dialect == "sqlite":
        length, pad = _SQLITE_BUCKETS[unit]
        return func.substr(E.posted_at, 1, length, type_=String) + pad
    return func.to_char(func.timezone("UTC", E.posted_at), _POSTGRES_BUCKETS[unit])


def bucket_unit(requested: str | None, span: timedelta) -> str:
    """``requested`` (minute if the span is 6 h or less, else hour, when None), coarsened until
    the span fits in ``MAX_BUCKETS`` buckets (day is the coarsest)."""
    if requested is not None and requested not in BUCKETS:
        raise BadQuery(f"unknown bucket {requested!r}; choose one of {', '.join(BUCKETS)}")
    unit = requested or ("minute" if span <= timedelta(hours=6) else "hour")
    units = list(BUCKETS)
    for candidate in units[units.index(unit):]:
        if span.total_seconds() / BUCKETS[candidate] + 2 <= MAX_BUCKETS:
            return candidate
    return "day"


def fill_buckets(counts: Sequence[TimelineBucket], unit: str) -> tuple[TimelineBucket, ...]:
    """``counts`` (sorted, non-empty buckets) with the empty buckets between them added,
    unless that would pass ``MAX_BUCKETS``."""
    if not counts:
        return ()
    step = timedelta(seconds=BUCKETS[unit])
    if (counts[-1].start - counts[0].start) / step >= MAX_BUCKETS:
        return tuple(counts)
    found = {b.start: b for b in counts}
    filled, moment = [], counts[0].start
    while moment <= counts[-1].start:
        filled.append(found.get(moment, TimelineBucket(moment, 0, 0)))
        moment += step
    return tuple(filled)


def _timeline(c: Connection, detection_id: int, campaign_id: str, unit: str) -> tuple[TimelineBucket, ...]:
    """Evidence posts (as many as evidence rows) and distinct accounts per bucket."""
    bucket = _bucket_of(c.dialect.name, unit).label("bucket")
    query = (select(bucket, func.count(), func.count(distinct(_account_key(E.platform, E.account_id))))
             .where(E.detection_id == detection_id, E.campaign_id == campaign_id)
             .group_by(bucket).order_by(bucket))
    counts = [TimelineBucket(_utc(start), posts, accounts) for start, posts, accounts in c.execute(query)]
    return fill_buckets(counts, unit)


def _campaign_evidence(c: Connection, detection_id: int, campaign_id: str, limit: int,
                       offset: int) -> Page[EvidenceItem]:
    where = (E.detection_id == detection_id, E.campaign_id == campaign_id)
    query = (_evidence_select().where(*where).order_by(E.event, E.posted_at, E.id)
             .limit(limit).offset(offset))
    items = tuple(_evidence_item(r) for r in c.execute(query))
    total = int(c.execute(select(func.count()).select_from(E).where(*where)).scalar_one())
    return Page(items, total, limit, offset)


def campaign_detail(engine: Engine, detection_id: int, campaign_id: str, *, members_limit: int = 100,
                    members_offset: int = 0, evidence_limit: int = 50, evidence_offset: int = 0,
                    messages_limit: int = 20, bucket: str | None = None) -> CampaignDetail | None:
    """A campaign: summary, features, members by score, the contents it pushed (most posted
    first), a timeline of its evidence posts, and a page of evidence; None if unknown.

    The timeline counts evidence rows, so it sums to the evidence total (a post cited for its
    text and for its link counts twice); its buckets run from the first to the last post.
    """
    for limit, offset in ((members_limit, members_offset), (evidence_limit, evidence_offset),
                          (messages_limit, 0)):
        _check_page(limit, offset)
    with engine.connect() as c:
        row = c.execute(select(C.__table__).where(C.detection_id == detection_id,
                                                  C.campaign_id == campaign_id)).first()
        if row is None:
            return None
        unit = bucket_unit(bucket, row.end - row.start)
        return CampaignDetail(
            summary=_campaign_summary(row), features=row.features,
            members=_campaign_members(c, detection_id, campaign_id, members_limit, members_offset),
            messages=_messages(c, detection_id, campaign_id, messages_limit), bucket=unit,
            timeline=_timeline(c, detection_id, campaign_id, unit),
            evidence=_campaign_evidence(c, detection_id, campaign_id, evidence_limit, evidence_offset))


class _Tie(NamedTuple):
    platform_a: str
    account_a: str
    platform_b: str
    account_b: str
    weight: float
    contents: int
    signals: str


class _Score(NamedTuple):
    platform: str
    account_id: str
    score: float
    flagged: bool
    campaign_id: str | None


class _Member(NamedTuple):
    platform: str
    account_id: str
    campaign_id: str


def _plain(c: Connection, row_type: type[NamedTuple], table: type, *where: Any,
           order: Sequence[Any]) -> list[Any]:
    """Rows of ``table`` as ``row_type``, to stand in for the ORM rows ``build_graph`` reads
    attributes of: building ORM objects took 70% of the call, and SQLAlchemy rows' attribute
    access a third (measured on a 3,000-tie campaign)."""
    query = select(*(getattr(table, name) for name in row_type._fields)).where(*where).order_by(*order)
    return [row_type(*r) for r in c.execute(query)]


def campaign_graph(engine: Engine, detection_id: int, campaign_id: str) -> nx.Graph | None:
    """The campaign's members (scores, campaigns) and the significant ties among them only."""
    members = _members_of(detection_id, campaign_id)
    with engine.connect() as c:
        if c.execute(select(C.id).where(C.detection_id == detection_id,
                                        C.campaign_id == campaign_id)).first() is None:
            return None
        ties = _plain(c, _Tie, TieRow, TieRow.detection_id == detection_id,
                      tuple_(TieRow.platform_a, TieRow.account_a).in_(members),
                      tuple_(TieRow.platform_b, TieRow.account_b).in_(members), order=(TieRow.id,))
        scores = _plain(c, _Score, S, S.detection_id == detection_id,
                        tuple_(S.platform, S.account_id).in_(members), order=(S.platform, S.account_id))
        memberships = _plain(c, _Member, M, M.detection_id == detection_id,
                             tuple_(M.platform, M.account_id).in_(members), order=(M.id,))
        graph = build_graph(ties, scores, memberships)
        if graph.number_of_edges() == 0:  # a relay: one burst, no pairwise ties; show its events
            _add_event_hubs(c, graph, detection_id, campaign_id)
        return graph


HUB_EVENTS = 20


def _add_event_hubs(c: Connection, graph: nx.Graph, detection_id: int, campaign_id: str) -> None:
    """Each of the campaign's largest events as a node (``kind`` "event") tied to the accounts
    that took part: the shape of a relay, whose accounts met once and so have no pairwise ties."""
    rows = c.execute(select(E.event, E.signal, E.content_key, E.event_size, E.platform, E.account_id)
                     .where(E.detection_id == detection_id, E.campaign_id == campaign_id,
                            E.event <= HUB_EVENTS).order_by(E.event, E.posted_at, E.id))
    for event, signal, key, size, platform, account_id in rows:
        hub = f"event:{event}"
        if hub not in graph:
            graph.add_node(hub, kind="event", label=f"event {event} ({signal}, {size} accounts)",
                           signal=signal, content=key[:200], size=size)
        graph.add_edge(hub, node_id(platform, account_id), weight=1.0, contents=1, signals=signal)


# Datasets

def _dataset_info(row: Row[Any], kept: Sequence[Rejected] = ()) -> DatasetInfo:
    return DatasetInfo(id=row.id, name=row.name, sha256=row.sha256, format=row.format,
                       size_bytes=row.size_bytes, status=row.status, read=row.read, stored=row.stored,
                       duplicates=row.duplicates, rejected=row.rejected, error=row.error,
                       started_at=row.started_at, finished_at=row.finished_at,
                       rejections=tuple(kept))


def list_datasets(engine: Engine, *, status: str | None = None, limit: int = 50,
                  offset: int = 0) -> Page[DatasetInfo]:
    """Datasets, newest first (without their rejections: ask ``get_dataset``)."""
    _check_page(limit, offset)
    where = [DatasetRow.status == status] if status is not None else []
    with engine.connect() as c:
        total = int(c.execute(select(func.count()).select_from(DatasetRow).where(*where)).scalar_one())
        rows = c.execute(select(DatasetRow.__table__).where(*where).order_by(DatasetRow.id.desc())
                         .limit(limit).offset(offset))
        items = tuple(_dataset_info(r) for r in rows)
    return Page(items, total, limit, offset)


def get_dataset(engine: Engine, dataset_id: int, rejections_limit: int = 20) -> DatasetInfo | None:
    """A dataset with its first ``rejections_limit`` rejected records; None if unknown."""
    with engine.connect() as c:
        row = c.execute(select(DatasetRow.__table__).where(DatasetRow.id == dataset_id)).first()
    if row is None:
        return None
    return _dataset_info(row, rejections(engine, dataset_id, rejections_limit))


def _only_authored_in(dataset_id: int) -> ColumnElement[bool]:
    """Accounts that wrote posts of this dataset and of no other."""
    def authored(where: ColumnElement[bool]) -> ColumnElement[bool]:
        return exists().where(where, P.platform == AccountRow.platform, P.account_id == AccountRow.account_id)
    return authored(P.dataset_id == dataset_id) & ~authored(P.dataset_id != dataset_id)


def delete_dataset(engine: Engine, dataset_id: int) -> int | None:
    """Delete a dataset, its posts, their lookup bands, its rejections, the accounts that wrote
    only in it and the incremental-detection cache, in one transaction; returns how many posts
    went, or None if there is no such dataset.

    Detection runs made from it go too (their campaigns quote its posts), an empty run standing
    in until detection runs again. Raises ``DatasetBusy`` while the dataset is being ingested.
    """
    with engine.begin() as c:
        status = c.execute(select(DatasetRow.status).where(DatasetRow.id == dataset_id)
                           .with_for_update()).scalar()
        if status is None:
            return None
        if status == "running":
            raise DatasetBusy(f"dataset {dataset_id} is still being ingested; delete it after its "
                              "ingest finishes or fails")
        forget_dataset_posts(c, dataset_id)  # its bands, and the watermark if its posts were newest
        forget_cache(c)                      # the incremental cache names its posts too
        c.execute(delete(AccountRow).where(_only_authored_in(dataset_id)))
        removed = c.execute(delete(P).where(P.dataset_id == dataset_id)).rowcount
        c.execute(delete(RejectionRow).where(RejectionRow.dataset_id == dataset_id))
        c.execute(delete(DatasetRow).where(DatasetRow.id == dataset_id))
        runs = [run for run, used in c.execute(select(DetectionRow.id, DetectionRow.datasets))
                if dataset_id in (used or [])]
        if runs:
            replace_runs(c, select(DetectionRow.id).where(DetectionRow.id.in_(runs)), int(removed or 0))
    flush_deleted(engine)
    return int(removed or 0)
