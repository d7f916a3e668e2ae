"""Test support: Debian's chromium driven by Playwright, watching what a page does wrong (console
errors, uncaught exceptions, dialogs, requests to another host), and hostile post texts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import ConsoleMessage, Dialog, Page, Request, Route, WebSocket, sync_playwright

from detector.records import Post
from tests.factories import post
from tests.test_detect import RELAY_TEXT, hand_made

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
IMG_TEXT = f"{IMG} Demain tous au meeting de Jean, place de la République !"


def hostile_dump() -> list[Post]:
    """``hand_made()`` whose relay text starts with a script tag, plus a second relay of 20
    accounts, a day later, whose text starts with an image tag that runs code if parsed as HTML."""
    posts = [replace(p, text=f"{SCRIPT} {p.text}") if p.text.startswith(RELAY_TEXT) else p
             for p in hand_made()]
    posts += [post(2000 + i, account=600 + i, seconds=86400 + i * 5, client="Twitpop",
                   text=f"{IMG_TEXT} https://t.co/b{i:03d}") for i in range(20)]
    return sorted(posts, key=lambda p: p.created_at)


@dataclass
class Watched:
    """A page and what went wrong on it so far."""

    page: Page
    folder: Path
    local_files: bool = False
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def allowed(self, url: str) -> bool:
        """Loopback over http, inline data and blobs; local files too for a report on disk."""
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob"):
            return True
        if parts.scheme == "file":
            return self.local_files
        return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK

    def screenshot(self, name: str) -> Path:
        path = self.folder / name
        self.page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 0
        return path

    def assert_clean(self) -> None:
        assert self.console_errors == []
        assert self.page_errors == []
        assert self.dialogs == []
        assert self.foreign == []


@contextmanager
def chromium_page(folder: Path, *, local_files: bool = False) -> Iterator[Watched]:
    """A fresh chromium page whose troubles are recorded; requests to other hosts are refused
    (and recorded), so a test never waits on the network."""
    if not CHROMIUM.exists():
        pytest.skip(f"the browser tests need Debian's chromium at {CHROMIUM}: "
                    "apt-get install -y chromium (.ci/run does it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
            page = context.new_page()
            watched = Watched(page, folder, local_files)

            def refuse_foreign(route: Route) -> None:
                if watched.allowed(route.request.url):
                    route.continue_()
                else:
                    route.abort()

            def on_request(request: Request) -> None:
                if not watched.allowed(request.url):
                    watched.foreign.append(request.url)

            def on_websocket(socket: WebSocket) -> None:
                if not watched.allowed(socket.url.replace("ws", "http", 1)):
                    watched.foreign.append(socket.url)

            def on_console(message: ConsoleMessage) -> None:
                if message.type == "error":
                    watched.console_errors.append(message.text)

            def on_dialog(dialog: Dialog) -> None:
                watched.dialogs.append(dialog.message)
                dialog.dismiss()

            context.route("**/*", refuse_foreign)
            page.on("request", on_request)
            page.on("websocket", on_websocket)
            page.on("console", on_console)
            page.on("pageerror", lambda error: watched.page_errors.append(str(error)))
            page.on("dialog", on_dialog)
            page.set_default_timeout(10_000)
            yield watched
        finally:
            browser.close()
