"""Access control and hostile content on the way out: every route is guarded, keys are checked
in constant time, and what a post says cannot run in a spreadsheet, a graph tool or a page."""

from __future__ import annotations

import csv
import hmac
import io
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from detector.cli import main
from detector.export import spreadsheet_safe
from detector.store import keys as store_keys
from detector.store import make_engine, migrate
from detector.store.keys import create_key, verify_key
from tests.factories import render
from tests.live import Service, service, settings_for
from tests.test_api_errors import ALL_ROUTES
from tests.test_detect import hand_made

PUBLIC = {"/healthz", "/", "/ui", "/ui/{path:path}"}
FORMULA_IDS = [f"=HYPERLINK(\"http://evil.example/{i}\",\"x\")" for i in range(30)]
SCRIPT = "<script>alert(1)</script>"


def test_every_route_is_in_the_access_control_tests(tmp_path: Path) -> None:
    app = create_app(settings_for(f"sqlite:///{tmp_path / 'a.db'}", tmp_path))
    paths = app.openapi()["paths"]
    guarded = {(method.upper(), path) for path, operations in paths.items() for method in operations
               if path not in PUBLIC}
    def shape(path: str) -> str:
        return "/".join("{}" if part.startswith("{") or part in ("C1", "1", "twitter") else part
                        for part in path.split("/"))
    tested = {(method, shape(path)) for method, path in ALL_ROUTES}
    missing = {(m, p) for m, p in guarded if (m, shape(p)) not in tested}
    assert not missing, f"routes without access-control tests: {sorted(missing)}"
    assert len(guarded) >= 12


def test_a_wrong_secret_and_an_unknown_key_cost_one_constant_time_compare(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    migrate(engine)
    key, secret = create_key(engine, "someone", "read")
    calls: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)
    monkeypatch.setattr(store_keys.hmac, "compare_digest", counting)
    wrong_secret = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
    assert verify_key(engine, wrong_secret) is None
    assert verify_key(engine, f"cib_{'z' * len(key.prefix)}_{secret.split('_')[-1]}") is None
    assert verify_key(engine, secret) is not None
    assert len(calls) == 3  # the unknown prefix is compared too, against a dummy hash
    assert all(len(a) == len(b) == 64 for a, b in calls)  # hashes, never the secret itself
    assert secret not in {a for a, _ in calls} | {b for _, b in calls}


def hostile_relay() -> list[Any]:
    """hand_made()'s relay, its accounts named like spreadsheet formulas, its text a script."""
    posts = []
    formula = iter(FORMULA_IDS)
    for p in hand_made():
        if p.client == "Twitpop":
            p = replace(p, account_id=next(formula), handle="SUM1", text=f"{SCRIPT} {p.text}")
        posts.append(p)
    return posts


def test_cli_exports_neutralize_formulas_and_escape_markup(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "h.db")
    dump = tmp_path / "hostile.jsonl"
    dump.write_text(render("twarc2", hostile_relay()))
    assert main(["ingest", str(dump), "--db", db]) == 0
    assert main(["detect", "--rule", "--db", db]) == 0
    capsys.readouterr()
    assert main(["accounts", "--format", "csv", "--flagged", "--db", db]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    ids = [row[1] for row in rows[1:]]
    assert {f"'{i}" for i in FORMULA_IDS} <= set(ids)
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)

    edges = tmp_path / "g.csv"
    assert main(["export", "--format", "csv", "--out", str(edges), "--db", db]) == 0
    cells = [cell for row in csv.reader(edges.open()) for cell in row]
    assert len(cells) > 5 and not any(cell.startswith(("=", "+", "@")) for cell in cells)

    for fmt in ("gexf", "graphml"):
        out = tmp_path / f"g.{fmt}"
        assert main(["export", "--format", fmt, "--out", str(out), "--db", db]) == 0
        ET.parse(out)  # well-formed: the ids did not break out of their attributes
        assert b"<script>" not in out.read_bytes()


def test_api_answers_are_json_and_the_ui_page_allows_no_inline_script(tmp_path: Path) -> None:
    with service(settings_for(f"sqlite:///{tmp_path / 'cib.db'}", tmp_path)) as api:
        answer = api.client.post("/v1/datasets", headers=api.as_("upload"),
                                 files={"file": ("../../../etc/cron.d/x.jsonl",
                                                 render("twarc2", hostile_relay()).encode())})
        job = api.wait(answer.json())
        assert job["state"] == "done" and job["filename"] == "x.jsonl"
        assert not Path("/etc/cron.d/x.jsonl").exists()
        _check_relay_answers(api)


def _check_relay_answers(api: Service) -> None:
    campaigns = api.client.get("/v1/campaigns", headers=api.as_("read"))
    assert campaigns.headers["content-type"] == "application/json"
    assert campaigns.headers.get("x-content-type-options") == "nosniff"
    relay = next(c for c in campaigns.json()["items"] if c["kind"] == "relay")
    assert relay["representative_text"].startswith(SCRIPT)  # data, returned as a JSON string
    page = api.client.get("/ui/")
    policy = page.headers.get("content-security-policy", "")
    script_policy = policy.split("script-src")[1].split(";")[0]
    assert "'self'" in script_policy and "unsafe-inline" not in script_policy


def test_spreadsheet_safe_cells() -> None:
    for dangerous in ("=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"):
        assert str(spreadsheet_safe(dangerous)).startswith("'")
    assert spreadsheet_safe("hello =1") == "hello =1" and spreadsheet_safe(0.5) == 0.5
