"""The REST service through real HTTP (uvicorn on loopback) on a real database (SQLite file and
PostgreSQL): upload a dump, wait for its job, then query campaigns, accounts, lookup and graphs."""

from __future__ import annotations

import gzip
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.factories import render
from tests.live import Service, service, settings_for
from tests.test_detect import RELAY_TEXT, hand_made

QUOTE = "Be yourself; everyone else is already taken. Oscar Wilde"


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[Service]:
    with service(settings_for(database_url, tmp_path)) as running:
        yield running


def upload(api: Service, data: bytes, name: str = "hand.jsonl", scope: str = "upload") -> Any:
    return api.client.post("/v1/datasets", files={"file": (name, data)}, headers=api.as_(scope))


@pytest.fixture
def loaded(api: Service) -> Service:
    answer = upload(api, render("twarc2", hand_made()).encode())
    assert answer.status_code == 202, answer.text
    assert answer.headers["Location"] == f"/v1/jobs/{answer.json()['id']}"
    job = api.wait(answer.json())
    assert job["state"] == "done", job
    return api


def get(api: Service, path: str, **params: Any) -> Any:
    answer = api.client.get(path, params=params, headers=api.as_("read"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_upload_job_reports_counts_and_makes_a_detection(loaded: Service) -> None:
    jobs = get(loaded, "/v1/jobs")
    assert jobs["total"] == 1
    job = jobs["items"][0]
    posts = len(hand_made())
    assert (job["read"], job["stored"], job["rejected"], job["percent"]) == (posts, posts, 0, 100.0)
    assert job["stage"] == "done" and job["detection_id"] and job["attempts"] == 1
    assert job["filename"] == "hand.jsonl"
    datasets = get(loaded, "/v1/datasets")
    assert [(d["name"], d["status"], d["stored"], d["format"]) for d in datasets["items"]] == [
        ("hand.jsonl", "complete", posts, "twarc2")]
    assert get(loaded, f"/v1/datasets/{job['dataset_id']}")["rejections"] == []


def test_campaigns_ranked_with_size_span_signals_text(loaded: Service) -> None:
    page = get(loaded, "/v1/campaigns")
    assert page["total"] == 2
    kinds = {c["kind"]: c for c in page["items"]}
    assert kinds["relay"]["size"] == 30 and kinds["network"]["size"] == 5
    assert kinds["relay"]["representative_text"].startswith("Ce soir je vote Jean")
    assert kinds["network"]["signals"] == ["repost"]
    scores = [c["score"] for c in page["items"]]
    assert scores == sorted(scores, reverse=True)
    assert get(loaded, "/v1/campaigns", min_size=10)["total"] == 1
    assert get(loaded, "/v1/campaigns", signal="repost")["items"][0]["kind"] == "network"
    assert get(loaded, "/v1/campaigns", limit=1, offset=1)["items"][0]["campaign_id"] == \
        page["items"][1]["campaign_id"]


def test_campaign_detail_members_messages_timeline_evidence(loaded: Service) -> None:
    relay = get(loaded, "/v1/campaigns", kind="relay")["items"][0]
    detail = get(loaded, f"/v1/campaigns/{relay['campaign_id']}", evidence_limit=500)
    assert detail["campaign"]["campaign_id"] == relay["campaign_id"]
    assert detail["members"]["total"] == 30
    assert all(m["flagged"] for m in detail["members"]["items"])
    assert detail["bucket"] == "minute"
    assert sum(b["posts"] for b in detail["timeline"]) == detail["evidence"]["total"] == 30
    assert detail["messages"][0]["accounts"] == 30
    evidence = detail["evidence"]["items"][0]
    assert evidence["url"].startswith("https://twitter.com/user") and RELAY_TEXT in evidence["text"]


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "json"])
def test_campaign_graph_exports(loaded: Service, fmt: str) -> None:
    ring = get(loaded, "/v1/campaigns", kind="network")["items"][0]
    answer = loaded.client.get(f"/v1/campaigns/{ring['campaign_id']}/graph", params={"format": fmt},
                               headers=loaded.as_("read"))
    assert answer.status_code == 200
    assert "attachment" in answer.headers["content-disposition"]
    if fmt == "json":
        graph = answer.json()
        assert len(graph["nodes"]) == 5 and len(graph["edges"]) == 10  # every pair of the ring
    else:
        root = ET.fromstring(answer.content)
        assert len([e for e in root.iter() if e.tag.endswith("node")]) == 5


def test_accounts_filtered_and_one_account_explained(loaded: Service) -> None:
    flagged = get(loaded, "/v1/accounts", flagged="true", limit=500)
    assert flagged["total"] == 35
    ring = get(loaded, "/v1/campaigns", kind="network")["items"][0]["campaign_id"]
    members = get(loaded, "/v1/accounts", campaign=ring)
    assert sorted(a["account_id"] for a in members["items"]) == ["1100", "1101", "1102", "1103", "1104"]
    assert all(a["score"] >= 0.9 for a in get(loaded, "/v1/accounts", min_score=0.9)["items"])
    account = get(loaded, "/v1/accounts/twitter/1100")
    assert account["account"]["flagged"] and account["account"]["threshold"] == 0.5
    assert account["campaigns"] == [ring] and account["account"]["subscores"]
    assert {e["signal"] for e in account["evidence"]} == {"repost"}
    assert all(e["url"] and e["posted_at"] for e in account["evidence"])
    crowd = get(loaded, "/v1/accounts/twitter/1400")  # posted the famous quote, with 59 others
    assert not crowd["account"]["flagged"] and crowd["evidence"] == []


def test_lookup_finds_the_relay_and_not_the_crowd(loaded: Service) -> None:
    def lookup(text: str) -> Any:
        answer = loaded.client.post("/v1/lookup", json={"text": text}, headers=loaded.as_("read"))
        assert answer.status_code == 200, answer.text
        return answer.json()

    relayed = lookup(RELAY_TEXT.replace("Ce soir", "ce soir,") + " https://t.co/xyz")
    assert relayed["relayed"] and relayed["total_matches"] == 30 and len(relayed["accounts"]) == 30
    assert [c["kind"] for c in relayed["campaigns"]] == ["relay"]
    assert all(a["flagged"] for a in relayed["accounts"])
    assert relayed["matches"][0]["similarity"] >= 0.8 and relayed["matches"][0]["url"]
    organic = lookup(QUOTE)
    assert organic["total_matches"] == 60 and not organic["relayed"] and organic["campaigns"] == []
    assert lookup("Something nobody ever posted about municipal bicycles")["total_matches"] == 0


def test_same_file_twice_is_not_stored_twice(loaded: Service) -> None:
    again = loaded.wait(upload(loaded, render("twarc2", hand_made()).encode()).json())
    assert again["state"] == "done" and again["stage"] == "skipped"
    assert get(loaded, "/v1/datasets")["total"] == 1
    assert get(loaded, "/healthz")["posts"] == len(hand_made())


def test_delete_dataset_removes_its_posts_and_detects_again(loaded: Service) -> None:
    dataset = get(loaded, "/v1/datasets")["items"][0]["id"]
    refused = loaded.client.delete(f"/v1/datasets/{dataset}", headers=loaded.as_("upload"))
    assert refused.status_code == 403
    answer = loaded.client.delete(f"/v1/datasets/{dataset}", headers=loaded.as_("admin"))
    assert answer.status_code == 202
    job = loaded.wait(answer.json())
    assert job["state"] == "done" and job["stored"] == len(hand_made())   # posts removed
    assert get(loaded, "/v1/datasets")["total"] == 0
    assert get(loaded, "/v1/campaigns")["total"] == 0
    answer = loaded.client.post("/v1/lookup", json={"text": RELAY_TEXT}, headers=loaded.as_("read"))
    assert answer.json()["total_matches"] == 0
    assert loaded.client.delete(f"/v1/datasets/{dataset}", headers=loaded.as_("admin")).status_code == 404
    # the same file again is a new dataset, stored, indexed and detected again
    again = loaded.wait(upload(loaded, render("twarc2", hand_made()).encode()).json())
    assert again["state"] == "done" and again["stored"] == len(hand_made())
    answer = loaded.client.post("/v1/lookup", json={"text": RELAY_TEXT}, headers=loaded.as_("read"))
    assert answer.json()["total_matches"] == 30 and get(loaded, "/v1/campaigns")["total"] == 2


def test_raw_body_upload_gzip(api: Service) -> None:
    data = gzip.compress(render("v1", hand_made()).encode())
    answer = api.client.post("/v1/datasets", content=data, params={"filename": "../../etc/x.json.gz"},
                             headers=api.as_("upload") | {"Content-Type": "application/gzip"})
    assert answer.status_code == 202, answer.text
    job = api.wait(answer.json())
    assert job["state"] == "done" and job["stored"] == len(hand_made())
    assert job["filename"] == "x.json.gz"                       # never a path
    folder = api.app.state.settings.upload_dir
    deadline = time.monotonic() + 10                            # removed right after the job ends
    while list(folder.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(folder.iterdir()) == []


def test_health_needs_no_key(api: Service) -> None:
    answer = api.client.get("/healthz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok" and answer.json()["latest_detection"] is None
