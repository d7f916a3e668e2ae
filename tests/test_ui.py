"""The explorer's files as the service serves them: no key needed, strict headers, nothing from
another host, data never written as HTML, every file packaged. The pages themselves run in
chromium in test_browser_ui.py."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import pytest

from api.routes.ui import CSP, STATIC
from tests.live import Service, service, settings_for

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    folder = tmp_path_factory.mktemp("ui")
    with service(settings_for(f"sqlite:///{folder / 'cib.db'}", folder), worker=False) as running:
        yield running


def test_home_redirects_to_the_explorer(api: Service) -> None:
    answer = api.client.get("/", follow_redirects=True)
    assert answer.status_code == 200 and str(answer.url) == f"{api.url}/ui/"
    assert "campaign explorer" in answer.text


@pytest.mark.parametrize("path", ["/ui/", "/ui/app.js", "/ui/style.css", "/ui/vendor/cytoscape.min.js"])
def test_files_load_without_a_key_under_a_strict_policy(api: Service, path: str) -> None:
    answer = api.client.get(path)
    assert answer.status_code == 200
    assert answer.headers["Content-Security-Policy"] == CSP
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"


def test_policy_allows_only_this_origin_and_no_inline_code() -> None:
    assert "script-src 'self'" in CSP and "connect-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
    assert "unsafe" not in CSP and "http" not in CSP


def test_a_missing_file_is_a_404_in_the_error_shape(api: Service) -> None:
    answer = api.client.get("/ui/nothing.js")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


def test_data_never_goes_through_an_html_parser() -> None:
    ours = [STATIC / "app.js", STATIC / "index.html"]
    for path in ours:
        text = path.read_text()
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function",
                             text), path


def test_pages_name_no_other_host() -> None:
    for path in [STATIC / "app.js", STATIC / "index.html", STATIC / "style.css"]:
        assert not re.search(r"(src|href)=[\"']?(https?:)?//", path.read_text()), path


def globbed(path: str, pattern: str) -> bool:
    """As setuptools' package-data globs: ``*`` stays within one folder."""
    parts, wanted = PurePosixPath(path), PurePosixPath(pattern)
    return len(parts.parts) == len(wanted.parts) and parts.match(pattern)


def test_every_file_of_the_explorer_is_packaged() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = setuptools["package-data"]["api"]
    files = [p.relative_to(STATIC.parent.parent).as_posix() for p in STATIC.rglob("*") if p.is_file()]
    assert "static/ui/vendor/cytoscape.min.js" in files
    assert [f for f in files if not any(globbed(f, p) for p in patterns)] == []
