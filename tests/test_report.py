"""``cib report`` end to end on hand-made dumps with known campaigns (SQLite file and PostgreSQL):
the files, their contents, hostile post texts, and what is new from one report to the next."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pytest

from detector.cli import main
from detector.records import Post
from detector.report.build import network_picture
from detector.report.make import ReportOptions, make_report
from detector.report.render import content
from detector.store import make_engine
from detector.store.reports import reports
from tests.factories import post, write_file
from tests.test_detect import RELAY_TEXT, hand_made

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("https://example.org","click")'
PNG = b"\x89PNG\r\n\x1a\n"


def hostile() -> list[Post]:
    """hand_made() (a relay of 30, a ring of 5) with markup in the relay's text and a
    spreadsheet formula as the text of the ring's reposts."""
    posts = []
    for p in hand_made():
        if p.text.startswith(RELAY_TEXT):
            p = replace(p, text=f"{SCRIPT} {p.text} {IMG}")
        elif p.repost_of:
            p = replace(p, text=FORMULA)
        posts.append(p)
    return posts


def ring_growth() -> list[Post]:
    """Two more members of the ring (105, 106) reposting its eight posts with it, and a new ring
    of five (300-304) reposting six other posts within seconds, hours apart."""
    posts = [post(5000 + item * 10 + member, account=100 + member, seconds=5000 + item * 7200 + member * 3,
                  repost_of=f"ring-target-{item}", text="RT @news: something")
             for item in range(8) for member in (5, 6)]
    posts += [post(6000 + item * 10 + member, account=300 + member, seconds=9000 + item * 5400 + member * 2,
                   repost_of=f"other-target-{item}", text="RT @other: something else")
              for item in range(6) for member in range(5)]
    return posts


@pytest.fixture
def detected(database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    dump = write_file(tmp_path / "hostile.jsonl", "twarc2", hostile())
    assert main(["ingest", str(dump), "--db", database_url]) == 0
    assert main(["detect", "--db", database_url]) == 0
    assert "2 campaigns, 35 accounts flagged" in capsys.readouterr().out
    return database_url


def report(db: str, out: Path, *extra: str) -> dict:  # type: ignore[type-arg]
    assert main(["report", "--out", str(out), "--db", db, *extra]) == 0
    data: dict = json.loads((out / "report.json").read_text(encoding="utf-8"))  # type: ignore[type-arg]
    return data


LOADS = {"img": "src", "script": "src", "link": "href", "iframe": "src", "source": "src",
         "audio": "src", "video": "src", "embed": "src", "object": "data"}   # tag: the URL it loads


class Resources(HTMLParser):
    """Every URL the page would load (not links a reader may follow) and every tag seen."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        wanted = LOADS.get(tag)
        self.loads += [v or "" for k, v in attrs if k == wanted]


def parse(html: str) -> Resources:
    parser = Resources()
    parser.feed(html)
    return parser


def test_report_files_and_contents(detected: str, tmp_path: Path) -> None:
    out = tmp_path / "report"
    data = report(detected, out)
    assert sorted((c["kind"], c["size"]) for c in data["campaigns"]) == [("network", 5), ("relay", 30)]
    assert all(c["status"] == "new" and c["detail"] for c in data["campaigns"])
    assert data["what_is_new"]["newly_flagged"] == 35 and len(data["flagged_accounts"]) == 35
    assert data["run"]["params"]["cluster"]["seed"] == 1 and data["run"]["datasets"][0]["stored"] > 0
    datetime.fromisoformat(data["generated_at"])
    relay = next(c for c in data["campaigns"] if c["kind"] == "relay")
    assert len(relay["detail"]["evidence"]) == 6 and relay["detail"]["timeline"]["unit"] == "minute"
    assert sum(relay["detail"]["timeline"]["counts"]) == 30
    html = (out / "index.html").read_text(encoding="utf-8")
    page = parse(html)
    for c in data["campaigns"]:
        for image in c["detail"]["images"].values():
            assert (out / image).read_bytes().startswith(PNG) and f'src="{image}"' in html
    assert page.loads and all("://" not in url and not url.startswith("//") for url in page.loads)
    assert "script" not in page.tags
    assert 'rel="noopener noreferrer"' in html and "Content-Security-Policy" in html
    assert "flagged for review" in html and "coordination signals" in html


def test_post_texts_never_become_markup(detected: str, tmp_path: Path) -> None:
    out = tmp_path / "report"
    report(detected, out)
    html = (out / "index.html").read_text(encoding="utf-8")
    assert SCRIPT not in html and IMG not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert parse(html).tags.count("img") == 4     # the 4 plots; the post's <img> is text


def test_csv_cells_are_spreadsheet_safe(detected: str, tmp_path: Path) -> None:
    out = tmp_path / "report"
    report(detected, out)
    with (out / "campaigns.csv").open(encoding="utf-8-sig", newline="") as handle:
        campaigns = list(csv.DictReader(handle))
    assert list(campaigns[0])[:4] == ["rank", "campaign_id", "status", "previous_id"]
    ring = next(r for r in campaigns if r["kind"] == "network")
    assert ring["representative_text"] == "'" + FORMULA and ring["size"] == "5"
    with (out / "flagged_accounts.csv").open(encoding="utf-8-sig", newline="") as handle:
        accounts = list(csv.DictReader(handle))
    assert len(accounts) == 35 and {a["new"] for a in accounts} == {"true"}
    assert {"platform", "account_id", "handle", "score", "campaign_id"} <= set(accounts[0])


def test_since_last_twice_then_growth(detected: str, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    first = report(detected, tmp_path / "r1", "--since-last")
    assert first["baseline"]["detection_id"] is None and not first["what_is_new"]["nothing_new"]

    second = report(detected, tmp_path / "r2", "--since-last")
    assert "nothing new since the last report" in capsys.readouterr().out
    assert second["what_is_new"]["nothing_new"] and second["baseline"]["detection_id"] == 1
    html = (tmp_path / "r2" / "index.html").read_text(encoding="utf-8")
    assert "Nothing new since the last report" in html and "<img" not in html
    assert all(c["detail"] is None for c in second["campaigns"]) and len(second["campaigns"]) == 2

    dump = write_file(tmp_path / "more.jsonl", "twarc2", ring_growth())
    assert main(["ingest", str(dump), "--db", detected]) == 0
    assert main(["detect", "--db", detected]) == 0
    capsys.readouterr()
    third = report(detected, tmp_path / "r3", "--since-last")
    status = {(c["kind"], c["size"]): (c["status"], c["previous_size"]) for c in third["campaigns"]}
    assert status == {("relay", 30): ("continuing", 30), ("network", 7): ("grown", 5),
                      ("network", 5): ("new", None)}
    assert third["what_is_new"]["newly_flagged"] == 7        # 105, 106 and the new ring
    assert third["baseline"]["detection_id"] == 1 and third["run"]["detection_id"] == 2
    html = (tmp_path / "r3" / "index.html").read_text(encoding="utf-8")
    assert "Campaigns that grew" in html and "New campaigns" in html

    engine = make_engine(detected)
    rows = reports(engine)
    engine.dispose()
    assert [(r.detection_id, r.baseline_detection_id, r.since) for r in rows] == [
        (1, None, "last"), (1, 1, "last"), (2, 1, "last")]
    assert rows[2].counts["new"] == 1 and rows[2].counts["grown"] == 1
    assert rows[0].out_dir == str((tmp_path / "r1").resolve())


def test_full_draws_even_when_nothing_is_new(detected: str, tmp_path: Path) -> None:
    report(detected, tmp_path / "r1")
    again = report(detected, tmp_path / "r2", "--full", "--top", "1")
    assert again["what_is_new"]["nothing_new"]
    assert [c["detail"] is not None for c in again["campaigns"]] == [True, False]
    assert len(list((tmp_path / "r2" / "img").glob("*.png"))) == 2


def test_since_a_duration(detected: str, tmp_path: Path) -> None:
    engine = make_engine(detected)
    now = datetime.now(UTC)
    try:
        # nothing ran a day before now: everything is new
        fresh = make_report(engine, ReportOptions(tmp_path / "a", timedelta(hours=24), "24h"), now)
        assert fresh.data.baseline.run is None and len(fresh.data.changes_with("new")) == 2
        # two days on, the same run is the baseline of "since 24h": nothing new
        later = make_report(engine, ReportOptions(tmp_path / "b", timedelta(hours=24), "24h"),
                            now + timedelta(days=2))
        assert later.data.nothing_new and later.data.baseline.run is not None
        assert reports(engine)[-1].since == "24h"
    finally:
        engine.dispose()


def test_out_folder_with_the_date(detected: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--out", str(tmp_path / "reports" / "{date}"), "--db", detected]) == 0
    folder = tmp_path / "reports" / f"{datetime.now().astimezone():%Y-%m-%d}"
    assert (folder / "index.html").exists() and str(folder) in capsys.readouterr().out
    assert main(["report", "--out", str(tmp_path / "{day}"), "--db", detected]) == 2
    assert "only {date} and {time}" in capsys.readouterr().err


def test_no_detection_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--out", str(tmp_path / "r"), "--db", str(tmp_path / "empty.db")]) == 2
    err = capsys.readouterr().err
    assert "run `cib detect`" in err and "upload a dataset" in err
    assert not (tmp_path / "r").exists()


# The network picture, on hand-made graphs shaped like queries.campaign_graph's

def scored_graph(scores: dict[str, float], edges: list[tuple[str, str]]) -> nx.Graph:
    graph = nx.Graph()
    for node, score in scores.items():
        graph.add_node(node, kind="account", score=score, flagged=score >= 0.5)
    graph.add_edges_from(edges, weight=1.0)
    return graph


def test_picture_keeps_the_highest_scores_and_their_ties() -> None:
    graph = scored_graph({"t:a": 0.9, "t:b": 0.8, "t:c": 0.1, "t:d": 0.7},
                         [("t:a", "t:b"), ("t:b", "t:c"), ("t:d", "t:a")])
    picture = network_picture(graph, limit=3)
    assert picture.kind == "ties" and [n.id for n in picture.nodes] == ["t:a", "t:b", "t:d"]
    assert {(e.source, e.target) for e in picture.edges} == {("t:a", "t:b"), ("t:a", "t:d")}
    assert (picture.accounts_shown, picture.accounts_total) == (3, 4)


def test_a_relay_is_drawn_with_its_bursts() -> None:
    graph = scored_graph({"t:a": 0.9, "t:b": 0.8, "t:c": 0.2}, [])
    graph.add_node("event:1", kind="event", size=3)
    graph.add_edges_from([("event:1", "t:a"), ("event:1", "t:b"), ("event:1", "t:c")], weight=1.0)
    picture = network_picture(graph, limit=2)
    assert picture.kind == "events"
    assert [(n.id, n.kind) for n in picture.nodes] == [("event:1", "event"), ("t:a", "account"),
                                                       ("t:b", "account")]
    assert len(picture.edges) == 2 and (picture.accounts_shown, picture.accounts_total) == (2, 3)


@pytest.mark.parametrize("signal, key, shown", [
    ("repost", "1766443250697759343", "repost of post 1766443250697759343"),
    ("reply", "17", "replies to post 17"),
    ("hashtags", "justiceretraites stopnucleaire2024", "#justiceretraites #stopnucleaire2024"),
    ("link", "mr-news.example/3uhfty", "mr-news.example/3uhfty"),
    ("text", "t75660", "near-identical text"),       # a text group's key means nothing to a reader
])
def test_content_in_words(signal: str, key: str, shown: str) -> None:
    assert content(signal, key) == shown
