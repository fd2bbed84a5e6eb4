"""A process killed during an upload leaves an ``.incoming-*`` temporary: the next web start-up
(``web.asgi:make_app``, what ``rectify serve`` and every production process run) removes it,
but not one another process is writing right now."""

from __future__ import annotations

import os
import time

from web.asgi import make_app


def test_start_up_removes_stale_upload_temporaries_and_keeps_fresh_ones(app, monkeypatch):
    folder = app.settings.data_dir / "attachments"
    folder.mkdir(parents=True)
    stale, fresh, stored = folder / ".incoming-x", folder / ".incoming-y", folder / ("ab" * 16)
    for path in (stale, fresh, stored):
        path.write_bytes(b"%PDF-1.4\n")
    two_hours_ago = time.time() - 2 * 3600
    for path in (stale, stored):  # an upload killed two hours ago; a file accepted then
        os.utime(path, (two_hours_ago, two_hours_ago))
    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("RECTIFY_DATA_DIR", str(app.settings.data_dir))

    web = make_app()
    web.state.rectify.close()

    assert sorted(p.name for p in folder.iterdir()) == [".incoming-y", "ab" * 16]
