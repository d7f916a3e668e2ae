"""The campaign explorer: static pages under ``/ui`` that call the API with the reader's own key.

The pages need no key to load (they hold no data); every data call they make sends one.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).resolve().parent.parent / "static" / "ui"
CSP = "; ".join([
    "default-src 'self'",
    "img-src 'self' data:",
    # cytoscape.js injects one inline <style>; index.html pre-empts it with a linked file, so no
    # 'unsafe-inline' is needed (the browser tests fail on the console error if that changes)
    "style-src 'self'",
    "script-src 'self'",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
])
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # post links go to the platforms: they need not learn where the service runs
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
def home() -> RedirectResponse:
    """The explorer is the service's home page for people (machines read /docs)."""
    return RedirectResponse("ui/")


class WithHeaders:
    """An ASGI app that adds fixed headers to every response of the app it wraps."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.raw]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def mount(app: FastAPI) -> None:
    """Serve the explorer's files at ``/ui/`` with a strict Content-Security-Policy."""
    app.mount("/ui", WithHeaders(StaticFiles(directory=STATIC, html=True), HEADERS), name="ui")
