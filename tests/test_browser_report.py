"""The nightly report (``cib report``) opened from disk in Debian's chromium: every plot loads,
hostile post texts stay text, nothing is fetched from another host, the console stays clean."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("detector.cli_report", reason="cib report is not built yet")

from detector.cli import main
from tests.browser import IMG, SCRIPT, chromium_page, hostile_dump
from tests.factories import write_file

pytestmark = pytest.mark.browser


@pytest.fixture
def report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    db = f"sqlite:///{tmp_path / 'cib.db'}"
    dump = write_file(tmp_path / "hostile.jsonl", "twarc2", hostile_dump())
    assert main(["ingest", str(dump), "--db", db]) == 0
    assert main(["detect", "--db", db]) == 0
    out = tmp_path / "report"
    assert main(["report", "--out", str(out), "--db", db]) == 0
    capsys.readouterr()
    return out / "index.html"


def test_report_shows_its_plots_and_hostile_texts_as_text(report: Path, tmp_path: Path) -> None:
    with chromium_page(tmp_path, local_files=True) as watched:
        page = watched.page
        page.goto(report.as_uri())
        page.wait_for_load_state("load")
        images = page.locator("img")
        assert images.count() > 0
        sizes = images.evaluate_all(
            "imgs => imgs.map(i => [i.getAttribute('src'), i.complete, i.naturalWidth])")
        assert [s for s in sizes if not (s[1] and s[2] > 0)] == []
        assert all(not src.startswith("x") for src, _, _ in sizes)  # no <img src=x> from a post
        body = page.locator("body").inner_text()
        assert SCRIPT in body and IMG in body
        assert page.locator("script").count() == 0  # the report needs no JavaScript
        assert watched.screenshot("report.png").exists()
        watched.assert_clean()
