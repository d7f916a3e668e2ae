"""Storing a run: evidence and ties the run before stored the same are shared, not stored again,
and each run reads as holding all its rows either way, before and after runs are deleted."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from alembic import command
from sqlalchemy import Engine, delete, func, insert, inspect, select, text, update

from detector import aside
from detector.cluster import component_edges
from detector.pipeline import run_detection
from detector.simulate import SimulationParams, simulate
from detector.store import current_revision_of, make_engine, migrate, open_database
from detector.store.database import _alembic_config
from detector.store.detections import _components, _previous_run
from detector.store.retention import delete_runs
from detector.store.schema import (
    CampaignRow,
    DetectionRow,
    EvidenceRow,
    RunComponentRow,
    StoredEvidenceRow,
    StoredTieRow,
    TieRow,
)
from tests.test_incremental import ingest

_EVIDENCE = [c for c in EvidenceRow.__table__.columns if c.name not in ("id", "detection_id")]
_TIES = [c for c in TieRow.__table__.columns if c.name not in ("id", "detection_id")]


def stored(engine: Engine, run: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """A run's evidence rows (in each event's order) and its ties, without their ids."""
    with engine.connect() as c:
        evidence = [tuple(r) for r in c.execute(
            select(*_EVIDENCE).where(EvidenceRow.detection_id == run)
            .order_by(EvidenceRow.campaign_id, EvidenceRow.event, EvidenceRow.posted_at, EvidenceRow.id))]
        ties = sorted(tuple(r) for r in c.execute(select(*_TIES).where(TieRow.detection_id == run)))
    return evidence, ties


def halves() -> tuple[list[Any], list[Any]]:
    """Three days of simulated posts, cut half a day before the end."""
    posts = simulate(SimulationParams(accounts=300, days=3)).posts
    cut = posts[0].created_at + timedelta(days=2, hours=12)
    return [p for p in posts if p.created_at < cut], [p for p in posts if p.created_at >= cut]


def held(engine: Engine) -> tuple[int, int]:
    """The evidence and tie rows stored, whichever runs share them."""
    with engine.connect() as c:
        return (c.execute(select(func.count()).select_from(StoredEvidenceRow)).scalar_one(),
                c.execute(select(func.count()).select_from(StoredTieRow)).scalar_one())


def test_a_run_like_the_one_before_shares_all_its_rows(engine: Engine, tmp_path: Path) -> None:
    ingest(engine, tmp_path, halves()[0])
    first, _ = run_detection(engine)
    evidence, ties = stored(engine, first)
    assert evidence and ties
    assert held(engine) == (len(evidence), len(ties))
    second, again = run_detection(engine)
    assert (again.counts["evidence_shared"], again.counts["ties_shared"]) == (len(evidence), len(ties))
    assert stored(engine, second) == (evidence, ties)
    assert held(engine) == (len(evidence), len(ties))          # stored once for both runs


def test_deleting_runs_keeps_what_the_others_share_and_leaves_nothing_behind(
        engine: Engine, tmp_path: Path) -> None:
    old, new = halves()
    ingest(engine, tmp_path, old)
    first, _ = run_detection(engine)
    second, _ = run_detection(engine)                            # shares all of the first's
    ingest(engine, tmp_path, new)
    third, result = run_detection(engine)                        # shares some of the second's
    assert result.counts["evidence_shared"] > 0 and result.counts["ties_shared"] > 0
    kept = {run: stored(engine, run) for run in (second, third)}
    with engine.begin() as c:
        delete_runs(c, select(DetectionRow.id).where(DetectionRow.id == first))
    assert {run: stored(engine, run) for run in (second, third)} == kept
    with engine.begin() as c:
        delete_runs(c, select(DetectionRow.id).where(DetectionRow.id == second))
    assert stored(engine, third) == kept[third]
    assert held(engine) == tuple(map(len, kept[third]))       # the second's own rows went
    with engine.begin() as c:
        delete_runs(c, select(DetectionRow.id))
    assert held(engine) == (0, 0)


def test_rows_shared_or_sent_are_the_same(engine: Engine, tmp_path: Path) -> None:
    old, new = halves()
    ingest(engine, tmp_path, old)
    run_detection(engine)
    ingest(engine, tmp_path, new)
    updated, result = run_detection(engine)
    alone = open_database(f"sqlite:///{tmp_path / 'alone.db'}")    # all posts, no run before
    ingest(alone, tmp_path, old)
    ingest(alone, tmp_path, new)
    sent, fresh = run_detection(alone)
    evidence, ties = stored(engine, updated)
    assert (fresh.counts["evidence_shared"], fresh.counts["ties_shared"]) == (0, 0)
    assert 0 < result.counts["evidence_shared"] < len(evidence)     # some campaigns changed
    assert 0 < result.counts["ties_shared"] < len(ties)
    assert (evidence, ties) == stored(alone, sent)
    with engine.connect() as c, alone.connect() as other:
        digests = select(CampaignRow.campaign_id, CampaignRow.evidence_digest).order_by(CampaignRow.rank)
        assert c.execute(digests.where(CampaignRow.detection_id == updated)).all() == \
            other.execute(digests.where(CampaignRow.detection_id == sent)).all()


def test_an_incremental_run_stores_what_a_full_run_stores(engine: Engine, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An update makes the rows to store while its child writes the cache (as on a big one)."""
    monkeypatch.setattr(aside, "MIN_POSTS", 0)
    old, new = halves()
    ingest(engine, tmp_path, old)
    run_detection(engine, incremental=True)
    ingest(engine, tmp_path, new)
    updated, result = run_detection(engine, incremental=True)
    assert result.counts["incremental"] == 1
    assert result.counts["cache_saved_aside"] == int(aside.can_fork())
    alone = open_database(f"sqlite:///{tmp_path / 'alone.db'}")
    ingest(alone, tmp_path, old)
    ingest(alone, tmp_path, new)
    sent, _ = run_detection(alone)
    assert stored(engine, updated) == stored(alone, sent)


def test_runs_stored_before_digests_existed_are_not_copied_from(engine: Engine, tmp_path: Path) -> None:
    ingest(engine, tmp_path, halves()[0])
    first, _ = run_detection(engine)
    with engine.begin() as c:                   # as migration 0009 leaves the runs before it
        c.execute(update(CampaignRow).values(evidence_digest=None))
        c.execute(update(RunComponentRow).values(component=None))
    second, again = run_detection(engine)
    assert (again.counts["evidence_shared"], again.counts["ties_shared"]) == (0, 0)
    evidence, ties = stored(engine, second)
    before, ties_before = stored(engine, first)
    without_digest = _TIES.index(TieRow.__table__.c.component)
    assert evidence == before
    assert [t[:without_digest] for t in ties] == [t[:without_digest] for t in ties_before]


def test_ties_are_grouped_by_component_from_the_lesser_account() -> None:
    a, b, c, d, e = (("twitter", str(n)) for n in range(5))
    graph = nx.Graph()
    graph.add_edge(b, a, weight=2.0, contents=2, signals="text")
    graph.add_edge(c, d, weight=1.0, contents=1, signals="repost")
    graph.add_edge(c, b, weight=0.5, contents=1, signals="link")
    graph.add_node(e)                                    # no tie: no component
    rows = [[("twitter", "0", "twitter", "1", 2.0, 2, "text"),
             ("twitter", "1", "twitter", "2", 0.5, 1, "link"),
             ("twitter", "2", "twitter", "3", 1.0, 1, "repost")]]
    assert _components(graph) == rows
    assert _components(graph, component_edges(graph)) == rows      # as a run made them
    graph.add_edge(e, ("twitter", "9"), weight=1.0, contents=1, signals="text")
    assert len(_components(graph)) == 2


def test_migration_0010_keeps_every_run_s_rows_both_ways(database_url: str, tmp_path: Path) -> None:
    """Runs stored as sets read the same after a downgrade to 0009 (a table of rows per run)
    and after the upgrade back (each campaign and component its own set again)."""
    engine = make_engine(database_url)
    migrate(engine)
    old, new = halves()
    ingest(engine, tmp_path, old)
    first, _ = run_detection(engine)
    ingest(engine, tmp_path, new)
    second, result = run_detection(engine)
    assert result.counts["evidence_shared"] > 0
    runs = {run: stored(engine, run) for run in (first, second)}
    config = _alembic_config(engine)
    command.downgrade(config, "0009")
    with engine.connect() as c:
        for run, (evidence, ties) in runs.items():
            assert c.execute(text("SELECT count(*) FROM evidence WHERE detection_id = :run"),
                             {"run": run}).scalar() == len(evidence)
            assert c.execute(text("SELECT count(*) FROM ties WHERE detection_id = :run"),
                             {"run": run}).scalar() == len(ties)
    command.upgrade(config, "head")
    assert {run: stored(engine, run) for run in runs} == runs
    assert held(engine) == tuple(sum(len(part[i]) for part in runs.values()) for i in (0, 1))
    third, again = run_detection(engine)                    # shares with the migrated run
    assert (again.counts["evidence_shared"], again.counts["ties_shared"]) == tuple(map(len, runs[second]))
    assert stored(engine, third) == runs[second]
    engine.dispose()


def test_a_run_being_stored_keeps_the_sets_it_shares_when_their_run_is_deleted_meanwhile(
        database_url: str, tmp_path: Path) -> None:
    """PostgreSQL runs a deletion while a run is stored: the run being stored holds the newest
    run (whose sets it shares) until it is stored, and the deletion then keeps those sets."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: a deletion and a run being stored never overlap")
    engine = make_engine(database_url)
    migrate(engine)
    ingest(engine, tmp_path, halves()[0])
    first, _ = run_detection(engine)
    with engine.connect() as c:
        campaign = c.execute(select(CampaignRow.__table__).where(CampaignRow.detection_id == first)
                             .order_by(CampaignRow.rank).limit(1)).one()._asdict()
    deleted = threading.Event()

    def delete_first() -> None:
        with engine.begin() as c:
            delete_runs(c, select(DetectionRow.id).where(DetectionRow.id == first))
        deleted.set()

    deleting = threading.Thread(target=delete_first)
    with engine.begin() as storing:                 # as save_detection stores a run sharing a set
        assert _previous_run(storing) == first
        deleting.start()
        assert not deleted.wait(1.0)                # the deletion waits for the run to be stored
        run = storing.execute(insert(DetectionRow).values(
            created_at=campaign["start"], params={}, versions={}, datasets=[], counts={})
        ).inserted_primary_key[0]
        storing.execute(insert(CampaignRow).values(
            {k: v for k, v in campaign.items() if k != "id"} | {"detection_id": run}))
    deleting.join(30)
    assert deleted.is_set()
    with engine.connect() as c:
        shown = c.execute(select(func.count()).select_from(EvidenceRow)
                          .where(EvidenceRow.detection_id == run)).scalar_one()
        kept = c.execute(select(func.count()).select_from(StoredEvidenceRow)
                         .where(StoredEvidenceRow.set_id == campaign["evidence_set"])).scalar_one()
    assert shown == kept > 0
    engine.dispose()


def test_migration_0010_stopped_half_way_leaves_the_database_at_0009(database_url: str,
                                                                     tmp_path: Path) -> None:
    """A step near its end fails (an index of that name already exists): nothing of it stays,
    the runs read as before, and it runs whole once the cause is gone."""
    engine = make_engine(database_url)
    migrate(engine)
    ingest(engine, tmp_path, halves()[0])
    run, _ = run_detection(engine)
    rows = stored(engine, run)
    config = _alembic_config(engine)
    command.downgrade(config, "0009")
    with engine.begin() as c:
        c.execute(text("CREATE INDEX ix_tie_rows_set ON posts (id)"))
    with pytest.raises(Exception, match="ix_tie_rows_set"):
        command.upgrade(config, "head")
    with engine.connect() as c:
        assert current_revision_of(engine) == "0009"
        assert "evidence_set" not in {column["name"] for column in inspect(c).get_columns("campaigns")}
        assert not {"evidence_rows", "tie_rows", "run_components"} & set(inspect(c).get_table_names())
        assert c.execute(text("SELECT count(*) FROM evidence WHERE detection_id = :run"),
                         {"run": run}).scalar() == len(rows[0])
    with engine.begin() as c:
        c.execute(text("DROP INDEX ix_tie_rows_set"))
    command.upgrade(config, "head")
    assert stored(engine, run) == rows
    engine.dispose()


def test_a_set_damaged_since_is_stored_anew_not_shared(engine: Engine, tmp_path: Path) -> None:
    """Rows gone from a set (a hand edit, a failed repair) are not handed on: the next run
    whose campaign or component has that digest stores its rows again."""
    ingest(engine, tmp_path, halves()[0])
    first, _ = run_detection(engine)
    evidence, ties = stored(engine, first)
    with engine.begin() as c:
        damaged = c.execute(select(CampaignRow.evidence_set).where(CampaignRow.detection_id == first)
                            .order_by(CampaignRow.rank).limit(1)).scalar_one()
        cut = c.execute(select(StoredEvidenceRow.id).where(StoredEvidenceRow.set_id == damaged)
                        .order_by(StoredEvidenceRow.id).limit(1)).scalar_one()
        c.execute(delete(StoredEvidenceRow).where(StoredEvidenceRow.id == cut))
        component = c.execute(select(RunComponentRow.tie_set).where(RunComponentRow.detection_id == first)
                              .limit(1)).scalar_one()
        lost = c.execute(delete(StoredTieRow).where(StoredTieRow.tie_set == component)).rowcount
        in_set = c.execute(select(func.count()).select_from(StoredEvidenceRow)
                           .where(StoredEvidenceRow.set_id == damaged)).scalar_one()
    second, again = run_detection(engine)
    assert again.counts["evidence_shared"] == len(evidence) - in_set - 1
    assert again.counts["ties_shared"] == len(ties) - lost
    assert stored(engine, second) == (evidence, ties)
