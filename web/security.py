"""Headers every response carries: a strict content policy, no framing, no sniffing, no caching.

The pages load nothing from outside and run no script: one stylesheet under /static, no inline
``<script>``, ``<style>`` or ``style=``. A unit's portal address holds its access token, so
portal pages send no ``Referer`` at all; other pages only to this site. Pages, downloads and
API answers are never stored (they show a signed-in user's or a unit's data); only /static is.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "style-src 'self'",
        "script-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)
ALWAYS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
}


def headers_for(path: str) -> dict[str, str]:
    """The security headers of the response to a request for ``path``."""
    portal = path == "/portal" or path.startswith("/portal/")
    headers = {**ALWAYS, "Referrer-Policy": "no-referrer" if portal else "same-origin"}
    if not path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    return headers


class SecurityHeaders:
    """ASGI middleware setting :func:`headers_for` on every HTTP response it passes on."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = headers_for(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    # A report opened in the browser brings its own (as strict) content policy.
                    if name == "Content-Security-Policy" and name in headers:
                        continue
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install(web: FastAPI) -> None:
    """Wrap the app's whole middleware stack, outside Starlette's error middleware, so that a
    500 page (answered there) carries the headers as well as every other response."""
    build = web.build_middleware_stack

    def build_with_headers() -> ASGIApp:
        return SecurityHeaders(build())

    web.build_middleware_stack = build_with_headers  # type: ignore[method-assign]
