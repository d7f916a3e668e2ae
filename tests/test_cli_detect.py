"""The detection commands through ``main``, on a real database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from detector.cli import main
from tests.factories import write_file
from tests.test_detect import hand_made


@pytest.fixture
def detected(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    dump = write_file(tmp_path / "hand.jsonl", "twarc2", hand_made())
    assert main(["ingest", str(dump), "--db", database_url]) == 0
    assert main(["detect", "--db", database_url]) == 0
    out = capsys.readouterr().out
    assert "2 campaigns, 35 accounts flagged" in out
    return database_url


def test_campaigns_json(detected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["campaigns", "--json", "--db", detected]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted((r["kind"], r["size"]) for r in rows) == [("network", 5), ("relay", 30)]
    relay = next(r for r in rows if r["kind"] == "relay")
    assert relay["representative_text"].startswith("Ce soir je vote Jean")
    # the dump's accounts were all created on 2010-05-01 (tests/factories.py)
    assert relay["features"]["created_within_30_days"] == 1.0 and relay["features"]["size"] == 30


def test_account_shows_score_why_and_evidence(detected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["account", "1100", "--db", detected]) == 0
    out = capsys.readouterr().out
    assert "flagged" in out and "repost" in out and "evidence" in out
    assert main(["account", "1900", "--db", detected]) == 0
    assert "no coordination signal" in capsys.readouterr().out


def test_accounts_csv_columns(detected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["accounts", "--format", "csv", "--db", detected]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"platform", "account_id", "score", "flagged", "campaign_id"} <= set(rows[0])
    flagged = [r for r in rows if r["flagged"] == "true"]
    assert len(flagged) == 35 and all(r["campaign_id"] for r in flagged)


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "csv", "json"])
def test_export(detected: str, fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / f"graph.{fmt}"
    assert main(["export", "--format", fmt, "--out", str(out), "--db", detected]) == 0
    assert "10 ties" in capsys.readouterr().out        # the ring of five: every pair tied
    if fmt in ("gexf", "graphml"):
        ET.parse(out)
    elif fmt == "json":
        assert len(json.loads(out.read_text())["edges"]) == 10
    else:
        assert len(out.read_text().splitlines()) == 11


def test_rerun_gives_the_same_campaigns(detected: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["campaigns", "--json", "--db", detected])
    first = json.loads(capsys.readouterr().out)
    main(["detect", "--db", detected])
    capsys.readouterr()
    main(["campaigns", "--json", "--db", detected])
    again = json.loads(capsys.readouterr().out)
    strip = [{k: v for k, v in r.items()} for r in first]
    assert strip == again


def test_reading_before_any_detection_says_what_to_do(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["campaigns", "--db", str(tmp_path / "empty.db")]) == 2
    assert "run `cib detect` first" in capsys.readouterr().err


def test_bad_window_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["detect", "--window", "colour=5m", "--db", str(tmp_path / "x.db")]) == 2
    assert "unknown signal 'colour'" in capsys.readouterr().err


def test_simulate_then_evaluate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "sim.db")
    assert main(["simulate", "--out", str(tmp_path), "--seed", "4", "--accounts", "300"]) == 0
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "simulated-4.jsonl.gz"), "--db", db]) == 0
    assert main(["detect", "--db", db]) == 0
    capsys.readouterr()
    assert main(["evaluate", "--truth", str(tmp_path / "simulated-4.truth.csv"), "--db", db]) == 0
    out = capsys.readouterr().out
    assert "precision" in out and "relay" in out
