"""Request bodies are limited while they stream in, before anything parses, checks or stores them.

A form's body is parsed (its files spooled to temporary files) before the route's dependencies
run: the sign-in, the portal link, the CSRF token. So the size is enforced here, a pure ASGI
middleware under the session middleware: a declared ``Content-Length`` over the route's limit
is answered 413 without reading a byte, and a body without one (chunked) is counted as its
``http.request`` messages arrive and refused as soon as it passes the limit; the rest is never
read. Limits are per route: a unit's submission may carry its attachments, an import its files,
the sign-in form almost nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import FastAPI, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import error_response

KB = 1024
MB = 1024 * KB
LOGIN_LIMIT = 64 * KB
FORM_LIMIT = 1 * MB  # Starlette's own limit for one form field
API_LIMIT = 5 * MB
#: Room for a form's text fields and the multipart framing around its files.
FORM_OVERHEAD = 1 * MB
IMPORT_OVERHEAD = 64 * KB

_PORTAL_SUBMISSION = re.compile(r"/portal/[^/]+/cases/[^/]+/?")


@dataclass(frozen=True)
class Limit:
    size: int  # bytes of body accepted
    message: str  # what the refusal says, in Chinese, naming the limit


def size_text(size: int) -> str:
    return f"{size // MB:,} MB" if size % MB == 0 else f"{size // KB:,} KB"


def limit_for(settings, path: str) -> Limit:
    """The body limit of a request for ``path`` (read per request: settings may change)."""
    if _PORTAL_SUBMISSION.fullmatch(path):
        each, count = settings.upload_max_mb, settings.upload_max_files
        size = each * count * MB + FORM_OVERHEAD
        return Limit(
            size,
            f"提交的内容过长：整改材料一次最多 {size_text(size)}（每个附件不超过 {each} MB，"
            f"最多 {count} 个），本次未保存，请压缩或减少附件后重新提交。",
        )
    if path.rstrip("/") == "/registry/import":
        size = settings.import_max_mb * MB
        return Limit(
            size + IMPORT_OVERHEAD,
            f"上传的导入文件过大：一次最多 {size_text(size)}，未导入任何数据；"
            "更大的文件请在服务器上用 rectify import 命令导入。",
        )
    if path.rstrip("/") == "/login":
        return Limit(
            LOGIN_LIMIT,
            f"提交的内容过长：登录表单最多 {size_text(LOGIN_LIMIT)}，未处理，请刷新页面后重新登录。",
        )
    if path.startswith("/api/"):
        return Limit(API_LIMIT, f"请求内容过长：接口的请求体最多 {size_text(API_LIMIT)}，未处理。")
    return Limit(
        FORM_LIMIT,
        f"提交的内容过长：表单最多 {size_text(FORM_LIMIT)}，未保存，请精简后重新提交。",
    )


class BodyTooLarge(Exception):
    """Raised into the app from ``receive`` when the body passes its limit."""


def declared_length(scope: Scope) -> int | None:
    """The largest ``Content-Length`` the request declares; None if none or not a number."""
    values = [v for k, v in scope.get("headers", []) if k.lower() == b"content-length"]
    lengths = [int(v) for v in values if v.strip().isdigit()]
    return max(lengths) if lengths else None


class _Guard:
    """``receive`` counting body bytes; ``send`` muted once the body was refused."""

    def __init__(self, receive: Receive, send: Send, limit: int):
        self._receive, self._send, self.limit = receive, send, limit
        self.received = 0
        self.over = False
        self.started = False  # the app's own response has begun

    async def receive(self) -> Message:
        if self.over:
            raise BodyTooLarge()
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit:
                self.over = True
                raise BodyTooLarge()
        return message

    async def send(self, message: Message) -> None:
        if self.over and not self.started:
            return  # the app's answer to the cut-off body (a parse error) is replaced by the 413
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


class BodyLimit:
    """ASGI middleware enforcing :func:`limit_for` on every HTTP request's body."""

    def __init__(self, app: ASGIApp, settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = limit_for(self.settings, scope.get("path", ""))
        declared = declared_length(scope)
        if declared is not None and declared > limit.size:
            await self.refuse(scope, send, limit)
            return
        guard = _Guard(receive, send, limit.size)
        try:
            await self.app(scope, guard.receive, guard.send)
        except Exception:
            if not guard.over:
                raise
        if guard.over and not guard.started:
            await self.refuse(scope, send, limit)

    async def refuse(self, scope: Scope, send: Send, limit: Limit) -> None:
        """The Chinese 413 page (JSON under /api/); the connection closes, the rest unread."""
        response = error_response(Request(scope), 413, limit.message)
        response.headers["Connection"] = "close"
        await response(scope, _no_body, send)


def install(web: FastAPI, settings) -> None:
    """Add the limit to ``web``; call it before adding the session middleware (inside it)."""
    web.add_middleware(BodyLimit, settings=settings)
