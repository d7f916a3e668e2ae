"""The campaign explorer (/ui) in Debian's chromium against the real service: key form, campaign
list, a campaign's network, timeline and evidence, an account, a lookup; hostile post texts stay
text, nothing is fetched from another host, the console stays clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser import IMG, IMG_TEXT, SCRIPT, Watched, chromium_page, hostile_dump
from tests.factories import render
from tests.live import Service, service, settings_for

pytestmark = pytest.mark.browser
BAD_KEY_MESSAGE = "this API key is not known; check it was copied whole"


@pytest.fixture
def explorer(tmp_path: Path) -> Iterator[Service]:
    with service(settings_for(f"sqlite:///{tmp_path / 'cib.db'}", tmp_path)) as api:
        answer = api.client.post("/v1/datasets", headers=api.as_("upload"), files={
            "file": ("hostile.jsonl", render("twarc2", hostile_dump()).encode())})
        assert answer.status_code == 202, answer.text
        assert api.wait(answer.json())["state"] == "done"
        yield api


def campaign_starting(api: Service, text: str) -> dict[str, Any]:
    page = api.client.get("/v1/campaigns", headers=api.as_("read")).json()
    return next(c for c in page["items"] if c["representative_text"].startswith(text))


def sign_in(page: Page, url: str, key: str) -> None:
    page.goto(f"{url}/")  # redirected to /ui/, which asks for the key
    page.fill("#key", key)
    page.click("#key-form button[type=submit]")


def assert_no_markup_ran(watched: Watched) -> None:
    page = watched.page
    assert page.locator("main img").count() == 0
    assert page.locator("main script").count() == 0
    assert watched.dialogs == []


def click_first_node(page: Page) -> str:
    """Click the graph's first account; return its label."""
    graph = page.locator("#graph")
    graph.scroll_into_view_if_needed()
    box = graph.bounding_box()
    assert box is not None
    x, y, label = page.evaluate("(() => { const n = window.cibGraph.nodes('[kind = \"account\"]')[0]; "
                                "const p = n.renderedPosition(); return [p.x, p.y, n.data('label')]; })()")
    page.mouse.click(box["x"] + x, box["y"] + y)
    return str(label)


def test_explorer_shows_campaign_graph_timeline_evidence_account_and_lookup(
        explorer: Service, tmp_path: Path) -> None:
    relay = campaign_starting(explorer, SCRIPT)
    second = campaign_starting(explorer, IMG)
    with chromium_page(tmp_path) as watched:
        page = watched.page
        sign_in(page, explorer.url, explorer.keys["read"])
        expect(page.locator("#campaigns tbody tr")).to_have_count(3)
        expect(page.locator("#campaigns")).to_contain_text(SCRIPT)

        page.get_by_role("link", name=relay["campaign_id"], exact=True).click()
        # the graph is drawn as the page appears (wait_for_function would need the 'unsafe-eval'
        # that the page's CSP refuses)
        expect(page.locator("#graph canvas").first).to_be_attached()
        accounts = "window.cibGraph.nodes('[kind = \"account\"]').length"
        assert page.evaluate(accounts) == relay["size"] == 30
        # a relay's accounts met once: its event is drawn as a hub tied to each of them
        assert page.evaluate("window.cibGraph.edges().length") == 30
        heights = page.locator("svg.timeline rect.bar").evaluate_all(
            "bars => bars.map(b => Number(b.getAttribute('height')))")
        assert heights and max(heights) > 0
        evidence = page.locator("#campaign .evidence-text").all_inner_texts()
        assert len(evidence) == 25 and all(t.startswith(f"{SCRIPT} Ce soir je vote Jean") for t in evidence)
        links = page.locator("#campaign a[target=_blank]").evaluate_all("links => links.map(a => a.href)")
        assert len(links) == 25 and all(link.startswith("https://twitter.com/") for link in links)
        assert_no_markup_ran(watched)
        watched.screenshot("campaign.png")

        handle = click_first_node(page)
        expect(page.locator("#account h1")).to_have_text(f"Account @{handle}")
        expect(page.locator("#account .status")).to_contain_text("flagged for review")
        expect(page.locator("#account .facts")).to_contain_text(relay["campaign_id"])
        assert page.locator("#account meter").count() > 0
        assert any(t.startswith(SCRIPT) for t in page.locator("#account .evidence-text").all_inner_texts())

        page.fill("#search-text", IMG_TEXT)
        page.press("#search-text", "Enter")
        expect(page.locator("#lookup .status")).to_contain_text("Relayed")
        expect(page.locator("#lookup")).to_contain_text(second["campaign_id"])
        matches = page.locator("#lookup .match-text").all_inner_texts()
        assert sum(t.startswith(IMG) for t in matches) == 20
        assert_no_markup_ran(watched)
        assert watched.screenshot("lookup.png").exists()
        watched.assert_clean()


def test_a_wrong_key_shows_the_api_message_and_the_form_again(tmp_path: Path) -> None:
    with service(settings_for(f"sqlite:///{tmp_path / 'cib.db'}", tmp_path), worker=False) as api, \
            chromium_page(tmp_path) as watched:
        page = watched.page
        sign_in(page, api.url, "not-a-key")
        expect(page.locator("#key-form .error")).to_have_text(BAD_KEY_MESSAGE)
        expect(page.locator("#key")).to_be_visible()
        assert page.evaluate("sessionStorage.length") == 0
        sign_in(page, api.url, api.keys["read"])
        expect(page.locator("main .error")).to_contain_text("no detection has run yet")
        watched.screenshot("wrong-key.png")
        # the browser itself logs the refused calls (401, then 404): nothing else went wrong
        assert len(watched.console_errors) == 2
        assert all(e.startswith("Failed to load resource") for e in watched.console_errors)
        assert watched.page_errors == watched.dialogs == watched.foreign == []
