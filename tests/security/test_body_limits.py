"""Request bodies over a route's limit are refused while they stream in: before the sign-in, the
portal link or the CSRF token is looked at, and without reading (or spooling to temporary files)
the rest. Each body here is a generator that records how much of it the app pulled."""

from __future__ import annotations

import dataclasses
import tempfile

import httpx
import pytest

from tests.web.conftest import csrf_of, two_units  # noqa: F401
from web.app import create_app

KB = 1024
MB = 1024 * KB
CHUNK = 64 * KB
BODY = 16 * MB  # far more than any limit below
BOUNDARY = "rectifylimit"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

#: (path, body limit in bytes, the limit as the refusal names it); settings in ``web_app``.
ROUTES = [
    ("/portal/not-a-valid-token/cases/1", 2 * MB, "2 MB"),  # 1 MB × 1 file + 1 MB of form
    ("/registry/import", 1 * MB + 64 * KB, "1 MB"),
    ("/login", 64 * KB, "64 KB"),
]


class Body:
    """A multipart body of ``total`` bytes made as it is read; ``sent`` counts what was read."""

    def __init__(self, total: int):
        self.total = total
        self.sent = 0

    async def __aiter__(self):
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="big.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        chunk = head
        while self.sent < self.total:
            self.sent += len(chunk)
            yield chunk
            chunk = b"0" * CHUNK


@pytest.fixture
def spool(tmp_path, monkeypatch):
    """The temporary-file folder, emptied and watched: form parsing spools files there."""
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def web_app(app):
    small = dataclasses.replace(
        app,
        settings=app.settings.model_copy(
            update={"upload_max_mb": 1, "upload_max_files": 1, "import_max_mb": 1}
        ),
    )
    return create_app(small)


@pytest.fixture
async def client(web_app):
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def _headers(total: int | None) -> dict[str, str]:
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    if total is not None:
        headers["Content-Length"] = str(total)
    return headers


@pytest.mark.parametrize(("path", "limit", "named"), ROUTES)
async def test_a_declared_oversized_body_is_refused_before_a_byte_is_read(
    app, client, spool, path, limit, named
):
    body = Body(BODY)

    response = await client.post(path, content=body, headers=_headers(BODY))

    assert response.status_code == 413
    assert "text/html" in response.headers["content-type"]
    assert "内容过" in response.text and named in response.text
    assert body.sent == 0
    assert list(spool.iterdir()) == []
    assert not any(p.is_file() for p in app.settings.data_dir.rglob("*"))


@pytest.mark.parametrize(("path", "limit", "named"), ROUTES)
async def test_a_chunked_oversized_body_is_cut_off_at_the_limit(
    app, client, spool, path, limit, named
):
    body = Body(BODY)

    response = await client.post(path, content=body, headers=_headers(None))

    assert response.status_code == 413
    assert "内容过" in response.text and named in response.text
    assert body.sent <= limit + CHUNK  # the chunk that crossed the limit, and nothing after
    assert list(spool.iterdir()) == []
    assert not any(p.is_file() for p in app.settings.data_dir.rglob("*"))


@pytest.mark.parametrize("declared", [True, False])
async def test_an_oversized_api_body_gets_a_json_413_naming_the_limit(client, declared):
    body = Body(BODY)
    headers = {"Content-Type": "application/json", "Authorization": "Bearer nothing"}
    if declared:
        headers["Content-Length"] = str(BODY)

    response = await client.post("/api/v1/findings", content=body, headers=headers)

    assert response.status_code == 413
    assert "5 MB" in response.json()["detail"]
    assert body.sent <= 5 * MB + CHUNK


async def test_the_portal_takes_a_full_size_attachment_and_refuses_a_byte_more_unread(
    app,
    client,
    two_units,  # noqa: F811
):
    url = f"/portal/{two_units.token_a}/cases/{two_units.case_a}"
    form = {
        "text": "已整改",
        "responsible_person": "李明",
        "phone": "0883-1234567",
        "csrf_token": csrf_of(await client.get(url)),
    }
    full = PDF + b"0" * (MB - len(PDF))  # exactly upload_max_mb
    kept = await client.post(url, data=form, files=[("attachments", ("整改报告.pdf", full))])
    body = Body(2 * MB + 1)

    refused = await client.post(url, content=body, headers=_headers(2 * MB + 1))

    assert kept.status_code == 303
    assert refused.status_code == 413 and "整改材料一次最多 2 MB" in refused.text
    assert body.sent == 0
