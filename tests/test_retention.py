"""Retention: posts older than the cutoff go, with what was derived from them; the rest stays."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from detector.cli import main
from detector.cli_privacy import BadRetention, retention_period
from detector.load import IngestOptions, ingest_file
from detector.pipeline import run_detection
from detector.store.detections import latest_detection
from detector.store.lookup import update_lookup_index
from detector.store.retention import purge_before
from tests.factories import T0, write_file
from tests.test_detect import hand_made

DAY2 = T0 + timedelta(days=1)


def _count(engine: Engine, sql: str) -> int:
    with engine.connect() as c:
        return int(c.execute(text(sql)).scalar() or 0)


def _filled(engine: Engine, tmp_path: Path) -> None:
    """hand_made() spans about 2 days after T0: a relay, a ring, a quoted crowd."""
    ingest_file(engine, write_file(tmp_path / "d.jsonl", "twarc2", hand_made()), IngestOptions())
    update_lookup_index(engine)
    run_detection(engine)


def test_purge_removes_old_posts_their_index_rows_and_orphan_accounts(engine: Engine,
                                                                      tmp_path: Path) -> None:
    _filled(engine, tmp_path)
    posts = hand_made()
    old = [p for p in posts if p.created_at < DAY2]
    kept_accounts = {p.account_id for p in posts if p.created_at >= DAY2}
    before = latest_detection(engine)
    assert before is not None

    report = purge_before(engine, DAY2)

    assert report.posts == len(old) > 0
    assert _count(engine, "SELECT COUNT(*) FROM posts") == len(posts) - len(old)
    assert _count(engine, "SELECT COUNT(*) FROM posts WHERE created_at < "
                          f"'{DAY2.replace(tzinfo=None).isoformat(sep=' ')}'") == 0
    assert _count(engine, "SELECT COUNT(*) FROM lookup_texts WHERE post_ref NOT IN "
                          "(SELECT id FROM posts)") == 0
    assert _count(engine, "SELECT COUNT(*) FROM lookup_bands WHERE text_key NOT IN "   # no orphan texts
                          "(SELECT text_key FROM lookup_texts)") == 0
    assert report.lookup_rows > 0
    with engine.connect() as c:
        accounts = {r[0] for r in c.execute(text("SELECT account_id FROM accounts"))}
    assert accounts == kept_accounts
    # every run made from the removed posts is gone; an empty run with a newer id stands in
    stand_in = latest_detection(engine)
    assert stand_in is not None and stand_in.id > before.id
    assert stand_in.counts["campaigns"] == 0 and stand_in.counts["removed_posts"] == len(old)
    assert _count(engine, "SELECT COUNT(*) FROM detections") == 1
    for table in ("campaigns", "campaign_members", "account_scores", "evidence", "ties"):
        assert _count(engine, f"SELECT COUNT(*) FROM {table}") == 0
    # the lookup index is still whole for what is left, and detection runs on it again
    update_lookup_index(engine)
    detection_id, _ = run_detection(engine)
    assert detection_id > stand_in.id


def test_dry_run_counts_and_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    _filled(engine, tmp_path)
    total = _count(engine, "SELECT COUNT(*) FROM posts")
    report = purge_before(engine, DAY2, dry_run=True)
    assert report.dry_run and report.posts > 0 and report.detections == 1
    assert _count(engine, "SELECT COUNT(*) FROM posts") == total
    assert _count(engine, "SELECT COUNT(*) FROM detections") == 1


def test_nothing_old_enough_keeps_the_latest_run(engine: Engine, tmp_path: Path) -> None:
    _filled(engine, tmp_path)
    latest = latest_detection(engine)
    report = purge_before(engine, T0 - timedelta(days=1))
    assert report.posts == 0 and report.detections == 0
    after = latest_detection(engine)
    assert after is not None and latest is not None and after.id == latest.id


def test_cli_purge_detects_again_on_what_is_left(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "c.db")
    dump = write_file(tmp_path / "d.jsonl", "twarc2", hand_made())
    assert main(["ingest", str(dump), "--db", db]) == 0
    assert main(["detect", "--rule", "--db", db]) == 0
    capsys.readouterr()
    # the posts are from 2011: a retention of a year removes them all
    assert main(["purge", "--older-than", "365d", "--db", db]) == 0
    out = capsys.readouterr().out
    assert f"removed {len(hand_made())} posts" in out and "no post is left" in out
    assert main(["purge", "--older-than", "soon", "--db", db]) == 2


def test_retention_period_parsing() -> None:
    assert retention_period("90") == timedelta(days=90)
    assert retention_period("12h") == timedelta(hours=12)
    assert retention_period(None, {"CIB_RETENTION_DAYS": "30"}) == timedelta(days=30)
    with pytest.raises(BadRetention, match="--older-than"):
        retention_period(None, {})
    with pytest.raises(BadRetention, match="longer than zero"):
        retention_period("0")
