"""``rectify serve`` believes X-Forwarded-For only from the proxies RECTIFY_TRUSTED_PROXIES names.

uvicorn on its own believes the header from any client on loopback, so a visitor on the same
machine could claim any address. The server ``rectify serve`` configures is rebuilt here with
the options it passed to uvicorn, and asked who the client is.
"""

from __future__ import annotations

import uvicorn
from typer.testing import CliRunner

from cli.main import app as cli


def serve_options(app, monkeypatch, trusted: str | None) -> dict:
    """The options ``rectify serve`` gives uvicorn (the server itself is not started)."""
    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    if trusted is None:
        monkeypatch.delenv("RECTIFY_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("RECTIFY_TRUSTED_PROXIES", trusted)
    given: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda target, **options: given.update(options))
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    return {k: v for k, v in given.items() if k in ("proxy_headers", "forwarded_allow_ips")}


async def client_seen(options: dict, *, peer: str, forwarded: str) -> str:
    """The client address the web app is told, for a request from ``peer`` naming ``forwarded``."""
    seen = {}

    async def web_app(scope, receive, send):
        seen["client"] = scope["client"][0]
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    config = uvicorn.Config(web_app, log_config=None, **options)
    config.load()
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"x-forwarded-for", forwarded.encode())],
        "client": (peer, 40000),
        "scheme": "http",
    }

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        pass

    await config.loaded_app(scope, receive, send)
    return seen["client"]


async def test_by_default_no_client_can_claim_another_address(app, monkeypatch):
    options = serve_options(app, monkeypatch, None)

    assert await client_seen(options, peer="127.0.0.1", forwarded="203.0.113.9") == "127.0.0.1"
    assert await client_seen(options, peer="::1", forwarded="203.0.113.9") == "::1"


async def test_only_a_configured_proxy_is_believed(app, monkeypatch):
    options = serve_options(app, monkeypatch, "10.0.0.1, 10.1.0.0/16")

    assert await client_seen(options, peer="10.0.0.1", forwarded="203.0.113.9") == "203.0.113.9"
    assert await client_seen(options, peer="10.1.2.3", forwarded="203.0.113.9") == "203.0.113.9"
    assert await client_seen(options, peer="127.0.0.1", forwarded="203.0.113.9") == "127.0.0.1"
