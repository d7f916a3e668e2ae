"""The API's read queries on a real database (SQLite file and PostgreSQL), on hand-made posts with
a known answer: a relay of 30 accounts in 3 minutes and a ring of 5 reposting 8 times, 2 h apart."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, func, insert, select, text, update

from detector.errors import BadQuery, DatasetBusy
from detector.load import IngestOptions, ingest_file
from detector.pipeline import run_detection
from detector.store import make_engine, migrate, start_dataset
from detector.store.detections import latest_detection
from detector.store.lookup import update_lookup_index
from detector.store.queries import (
    MAX_BUCKETS,
    TimelineBucket,
    account_detail,
    bucket_unit,
    campaign_detail,
    campaign_graph,
    delete_dataset,
    fill_buckets,
    get_dataset,
    list_accounts,
    list_campaigns,
    list_datasets,
    post_url,
)
from detector.store.schema import (
    LookupBandRow,
    LookupTextRow,
    PostRow,
    RunComponentRow,
    StoredEvidenceRow,
    StoredTieRow,
)
from tests.conftest import POSTGRES_VARIABLE
from tests.factories import render
from tests.test_detect import RELAY_TEXT, hand_made

RING = [f"{1100 + m}" for m in range(5)]
RELAY = [f"{1200 + i}" for i in range(30)]


@dataclass(frozen=True)
class Detected:
    engine: Engine
    detection: int
    dataset: int
    ring: str           # campaign ids
    relay: str


def detect_hand_made(engine: Engine, folder: Path) -> Detected:
    """hand_made() ingested (with two bad lines kept as rejections) and detected once."""
    lines = render("twarc2", hand_made()).splitlines()
    lines[1:1] = ["not json at all", "{]"]
    dump = folder / "hand.jsonl"
    dump.write_text("\n".join(lines) + "\n")
    report = ingest_file(engine, dump, IngestOptions(parallel=False))
    assert report.dataset_id is not None
    detection, result = run_detection(engine)
    kinds = {c.kind: c.campaign_id for c in result.campaigns}
    with engine.begin() as c:                    # a tie leaving the ring, for the graph test
        component = c.execute(insert(RunComponentRow).values(detection_id=detection)).inserted_primary_key[0]
        c.execute(update(RunComponentRow).where(RunComponentRow.id == component).values(tie_set=component))
        c.execute(insert(StoredTieRow), [{"tie_set": component, "platform_a": "twitter",
                                          "account_a": "1100", "platform_b": "twitter", "account_b": "1200",
                                          "weight": 1.0, "contents": 1, "signals": "text"}])
    return Detected(engine, detection, report.dataset_id, kinds["network"], kinds["relay"])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def detected(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Detected]:
    """One detected database per backend, shared by the tests that only read: a database per
    test took most of this file's time (PostgreSQL's migrations alone take 0.7 s)."""
    folder = tmp_path_factory.mktemp("queries")
    with ExitStack() as cleanup:
        url = f"sqlite:///{folder / 'cib.db'}"
        if request.param == "postgres":
            url = cleanup.enter_context(fresh_postgres_schema())
        engine = make_engine(url)
        cleanup.callback(engine.dispose)
        migrate(engine)
        yield detect_hand_made(engine, folder)


@contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """As conftest's ``postgres_url``, for a module-scoped fixture."""
    base = os.environ.get(POSTGRES_VARIABLE)
    if not base:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_VARIABLE}")
    schema = f"cib_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.parametrize("platform, handle, post_id, expected", [
    ("twitter", "user1", "123", "https://twitter.com/user1/status/123"),
    ("X", None, "123", "https://twitter.com/i/web/status/123"),
    ("twitter", "a/../b", "123", "https://twitter.com/i/web/status/123"),  # not a handle: no path tricks
    ("twitter", "user1", "1.5e18", None),                                   # a float-mangled id
    ("facebook", "page", "123", None),                                      # no known link form
])
def test_post_url(platform: str, handle: str | None, post_id: str, expected: str | None) -> None:
    assert post_url(platform, handle, post_id) == expected


@pytest.mark.parametrize("requested, span, expected", [
    (None, timedelta(hours=6), "minute"),
    (None, timedelta(hours=7), "hour"),
    ("minute", timedelta(hours=20), "minute"),     # 1,200 buckets fit
    ("minute", timedelta(days=2), "hour"),         # 2,880 do not
    (None, timedelta(days=100), "day"),            # 2,400 hours do not either
    ("day", timedelta(minutes=1), "day"),
])
def test_bucket_unit(requested: str | None, span: timedelta, expected: str) -> None:
    assert bucket_unit(requested, span) == expected


def test_fill_buckets_adds_the_empty_ones_between() -> None:
    t = datetime(2024, 1, 1, tzinfo=UTC)
    counts = [TimelineBucket(t, 2, 1), TimelineBucket(t + timedelta(hours=3), 1, 1)]
    assert [(b.start - t, b.posts) for b in fill_buckets(counts, "hour")] == [
        (timedelta(hours=h), n) for h, n in ((0, 2), (1, 0), (2, 0), (3, 1))]
    far = [counts[0], TimelineBucket(t + timedelta(days=MAX_BUCKETS), 1, 1)]
    assert fill_buckets(far, "day") == tuple(far)      # too many to fill: left sparse
    assert fill_buckets([], "minute") == ()


def test_bad_arguments_say_what_to_give(detected: Detected) -> None:
    with pytest.raises(BadQuery, match="-score"):
        list_accounts(detected.engine, detected.detection, sort="handle")
    with pytest.raises(BadQuery, match="repost"):
        list_campaigns(detected.engine, detected.detection, signal="video")
    with pytest.raises(BadQuery, match="limit"):
        list_campaigns(detected.engine, detected.detection, limit=5000)
    with pytest.raises(BadQuery, match="offset"):
        list_datasets(detected.engine, offset=-1)
    with pytest.raises(BadQuery, match="bucket"):
        campaign_detail(detected.engine, detected.detection, detected.ring, bucket="week")


def test_accounts_filters_sorts_and_pages(detected: Detected) -> None:
    engine, d = detected.engine, detected.detection
    everyone = list_accounts(engine, d, limit=1000)
    assert everyone.total == len(everyone.items) >= 35
    scores = [a.score for a in everyone.items]
    assert scores == sorted(scores, reverse=True)
    flagged = list_accounts(engine, d, flagged=True, sort="account_id", limit=1000)
    assert [a.account_id for a in flagged.items] == sorted(RING + RELAY)
    assert all(a.flagged and a.campaign_id and a.handle == f"user{int(a.account_id) - 1000}"
               for a in flagged.items)
    assert list_accounts(engine, d, flagged=False).total == everyone.total - 35
    assert all(a.score >= 0.9 for a in list_accounts(engine, d, min_score=0.9, limit=1000).items)
    ring = list_accounts(engine, d, campaign=detected.ring, sort="-account_id")
    assert [a.account_id for a in ring.items] == sorted(RING, reverse=True)
    pages = [list_accounts(engine, d, flagged=True, limit=10, offset=o) for o in (0, 10, 20, 30)]
    assert [len(p.items) for p in pages] == [10, 10, 10, 5] and {p.total for p in pages} == {35}
    assert [a for p in pages for a in p.items] == list(list_accounts(engine, d, flagged=True).items)
    assert list_accounts(engine, 999).total == 0


def test_account_detail(detected: Detected) -> None:
    engine, d = detected.engine, detected.detection
    detail = account_detail(engine, d, "twitter", "1100")
    assert detail is not None and detail.summary.flagged and detail.summary.subscores["repost"] > 0.5
    assert detail.campaigns == (detected.ring,)
    assert detail.profile is not None and detail.profile.name == "Name user100"
    # 8 events of the ring, 5 posts each: its own and its 4 partners'
    assert len(detail.evidence) == 40 and {e.event_size for e in detail.evidence} == {5}
    assert sum(e.account_id == "1100" for e in detail.evidence) == 8
    own = next(e for e in detail.evidence if e.account_id == "1100")
    assert own.url == f"https://twitter.com/user100/status/{own.post_id}" and own.text.startswith("RT")
    two = account_detail(engine, d, "twitter", "1100", evidence_limit=2, partners_per_event=1)
    assert two is not None and len({e.event for e in two.evidence}) == 2
    assert 2 <= len(two.evidence) <= 4 and sum(e.account_id == "1100" for e in two.evidence) == 2


def test_an_account_without_ties_scores_zero_and_an_unknown_one_is_none(detected: Detected) -> None:
    engine, d = detected.engine, detected.detection
    crowd = account_detail(engine, d, "twitter", "1400")       # the famous-quote crowd
    assert crowd is not None and (crowd.summary.score, crowd.summary.flagged) == (0.0, False)
    assert crowd.summary.threshold == 0.5 and crowd.campaigns == () and crowd.evidence == ()
    assert account_detail(engine, d, "twitter", "nobody") is None
    assert account_detail(engine, 999, "twitter", "1100") is None


def test_campaigns_filters_and_sorts(detected: Detected) -> None:
    engine, d = detected.engine, detected.detection
    both = list_campaigns(engine, d)
    assert both.total == 2 and [c.rank for c in both.items] == [1, 2]
    relay = next(c for c in both.items if c.kind == "relay")
    assert (relay.size, relay.signals, relay.events) == (30, ("text",), 1)
    assert relay.span_seconds == (relay.end - relay.start).total_seconds() == pytest.approx(174, abs=1)
    assert relay.representative_text.startswith(RELAY_TEXT)
    ids = {sort: [c.campaign_id for c in list_campaigns(engine, d, sort=sort).items]
           for sort in ("size", "-size", "start", "-start")}
    assert ids["size"] == ids["-start"] == [detected.ring, detected.relay]
    assert ids["-size"] == ids["start"] == [detected.relay, detected.ring]
    for signal, expected in (("repost", detected.ring), ("text", detected.relay)):
        assert [c.campaign_id for c in list_campaigns(engine, d, signal=signal).items] == [expected]
    assert list_campaigns(engine, d, signal="link").total == 0
    assert [c.campaign_id for c in list_campaigns(engine, d, kind="relay", min_size=10).items] == [
        detected.relay]
    assert list_campaigns(engine, d, min_size=31).total == 0
    paged = list_campaigns(engine, d, limit=1, offset=1)
    assert (paged.total, [c.rank for c in paged.items]) == (2, [2])


def test_relay_detail_timeline_per_minute(detected: Detected) -> None:
    detail = campaign_detail(detected.engine, detected.detection, detected.relay, members_limit=10,
                             members_offset=25, evidence_limit=7)
    assert detail is not None and detail.features["size"] == 30
    assert (detail.members.total, len(detail.members.items)) == (30, 5)
    assert all(m.flagged and m.campaign_id == detected.relay for m in detail.members.items)
    # posted every 6 s from 21:45:12: 8 posts in 21:45, 10 in :46 and :47, 2 in :48
    assert detail.bucket == "minute"
    assert [(b.start.minute, b.posts, b.accounts) for b in detail.timeline] == [
        (45, 8, 8), (46, 10, 10), (47, 10, 10), (48, 2, 2)]
    assert detail.evidence.total == 30 and len(detail.evidence.items) == 7
    assert all(e.similarity is not None and e.url for e in detail.evidence.items)
    [message] = detail.messages
    assert (message.signal, message.posts, message.accounts) == ("text", 30, 30)
    assert message.text.startswith(RELAY_TEXT) and message.first == detail.summary.start


def test_ring_detail_timeline_per_hour_with_empty_hours(detected: Detected) -> None:
    detail = campaign_detail(detected.engine, detected.detection, detected.ring, evidence_limit=7,
                             evidence_offset=35)
    assert detail is not None and detail.bucket == "hour"      # 14 h: more than 6
    # eight bursts of 5 reposts, two hours apart: 15 hourly buckets, every other one empty
    assert [b.posts for b in detail.timeline] == [5, 0] * 7 + [5]
    assert sum(b.posts for b in detail.timeline) == detail.evidence.total == 40
    assert [e.event for e in detail.evidence.items] == [8] * 5
    assert len(detail.messages) == 8 and {(m.posts, m.accounts) for m in detail.messages} == {(5, 5)}
    minutes = campaign_detail(detected.engine, detected.detection, detected.ring, bucket="minute")
    assert minutes is not None and minutes.bucket == "minute"
    assert sum(b.posts for b in minutes.timeline) == 40 and len(minutes.timeline) > 800
    assert campaign_detail(detected.engine, detected.detection, "nope") is None


def test_campaign_graph_holds_members_and_their_ties_only(detected: Detected) -> None:
    engine, d = detected.engine, detected.detection
    ring = campaign_graph(engine, d, detected.ring)      # without the tie 1100-1200 that leaves it
    assert ring is not None
    assert sorted(ring.nodes) == [f"twitter:{a}" for a in RING] and ring.number_of_edges() == 10
    assert all(ring.nodes[n]["flagged"] and ring.nodes[n]["campaigns"] == detected.ring for n in ring)
    relay = campaign_graph(engine, d, detected.relay)    # one burst: no pairwise ties, one event hub
    assert relay is not None and relay.number_of_nodes() == 31 and relay.number_of_edges() == 30
    assert relay.nodes["event:1"]["kind"] == "event" and relay.degree("event:1") == 30
    accounts = [n for n, kind in relay.nodes(data="kind") if kind == "account"]
    assert len(accounts) == 30 and all(relay.has_edge("event:1", a) for a in accounts)
    assert campaign_graph(engine, d, "nope") is None


def test_datasets(detected: Detected) -> None:
    engine = detected.engine
    page = list_datasets(engine)
    assert page.total == 1 and page.items[0].rejections == ()
    assert list_datasets(engine, status="running").total == 0
    info = get_dataset(engine, detected.dataset)
    assert info is not None and (info.status, info.stored, info.rejected) == ("complete", 132, 2)
    assert [r.line for r in info.rejections] == [2, 3] and info.format == "twarc2"
    assert get_dataset(engine, 999) is None


def test_delete_dataset_removes_posts_bands_rejections(engine: Engine, tmp_path: Path) -> None:
    detected = detect_hand_made(engine, tmp_path)
    update_lookup_index(engine)
    with engine.begin() as c:     # as if another dataset's post had one of these texts
        shared = c.execute(select(LookupTextRow.text_key).limit(1)).scalar_one()
        c.execute(insert(LookupTextRow), [{"text_key": shared, "post_ref": 10**12}])
    assert delete_dataset(engine, detected.dataset) == 132
    with engine.connect() as c:
        assert c.execute(select(func.count()).select_from(PostRow)).scalar_one() == 0
        assert list(c.execute(select(LookupTextRow.post_ref)).scalars()) == [10**12]
        assert list(c.execute(select(LookupBandRow.text_key)).scalars()) == [shared] * 16
    assert get_dataset(engine, detected.dataset) is None
    assert delete_dataset(engine, detected.dataset) is None
    # the run that read it quoted its posts: it goes, an empty run with a newer id stands in
    assert campaign_detail(engine, detected.detection, detected.ring) is None
    stand_in = latest_detection(engine)
    assert stand_in is not None and stand_in.id > detected.detection
    assert stand_in.counts["campaigns"] == 0 and stand_in.counts["removed_posts"] == 132
    with engine.connect() as c:     # its evidence and ties went with it: no other run held them
        assert c.execute(select(func.count()).select_from(StoredEvidenceRow)).scalar_one() == 0
        assert c.execute(select(func.count()).select_from(StoredTieRow)).scalar_one() == 0


def test_a_dataset_being_ingested_is_not_deleted(engine: Engine) -> None:
    running = start_dataset(engine, name="big.jsonl", sha256="0" * 64, size_bytes=1, fmt="twarc2")
    with pytest.raises(DatasetBusy, match="still being ingested"):
        delete_dataset(engine, running)
    info = get_dataset(engine, running)
    assert info is not None and info.status == "running"
