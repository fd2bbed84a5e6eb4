"""The disk full while a unit's attachment is written: nothing submitted, nothing left behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from services.cases import submissions
from services.db.models import Attachment, Case, CaseEvent, Submission
from tests.web.conftest import csrf_of

PDF = b"%PDF-1.4\n" + b"0" * 200_000 + b"\n%%EOF\n"  # a few chunks: the failure comes mid-file


class _FullDisk(type(Path())):
    """A path whose files fail to write (after the first chunk) or to be renamed, like a full disk."""

    fail = "write"

    def open(self, mode="r", *args, **kwargs):
        handle = super().open(mode, *args, **kwargs)
        if "w" not in mode or _FullDisk.fail != "write":
            return handle
        return _FailingWriter(handle)

    def rename(self, target):
        if _FullDisk.fail == "rename":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        return super().rename(target)


class _FailingWriter:
    def __init__(self, handle):
        self.handle, self.writes = handle, 0

    def write(self, data: bytes) -> int:
        self.writes += 1
        if self.writes > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.handle.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.close()


def _kept(app, case_id: int) -> tuple:
    with app.uow() as uow:
        s = uow.session
        state = s.get(Case, case_id).state
        rows = tuple(
            s.scalar(select(func.count()).select_from(model)) for model in (Submission, Attachment)
        )
        submits = s.scalar(select(func.count()).where(CaseEvent.trigger == "submit"))
    folder = app.settings.data_dir / "attachments"
    files = sorted(p.name for p in folder.iterdir()) if folder.exists() else []
    return state, rows, submits, files


@pytest.mark.parametrize("fail", ["write", "rename"])
async def test_a_full_disk_during_a_submission_leaves_the_case_unsubmitted_and_shows_an_error(
    app, web_app, two_units, monkeypatch, fail
):
    monkeypatch.setattr(submissions, "Path", _FullDisk)
    monkeypatch.setattr(_FullDisk, "fail", fail)
    transport = httpx.ASGITransport(app=web_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as unit:
        url = f"/portal/{two_units.token_a}/cases/{two_units.case_a}"
        form = await unit.get(url)
        response = await unit.post(
            url,
            data={
                "text": "已更新栏目内容",
                "responsible_person": "李明",
                "phone": "0883-1234567",
                "csrf_token": csrf_of(form),
            },
            files=[("attachments", ("整改报告.pdf", PDF))],
        )

    assert response.status_code >= 500
    assert "text/html" in response.headers["content-type"]
    assert "存储空间不足" in response.text and "未提交" in response.text
    assert _kept(app, two_units.case_a) == ("notified", (0, 0), 0, [])
