"""``make run``: the notice emails the worker sends are dated on the demo's day, not today.

``make run`` is ``rectify demo --if-empty`` then ``rectify up``, whose worker runs the
deployments of prefect.yaml with no ``as_of``: each flow run builds its app as any process
does and so runs on the day ``rectify demo`` stored. Here the same two flow runs (the round's
publication and the minute's outbox dispatch), loaded through prefect.yaml as the worker
loads them, after ``rectify demo`` on the command line.
"""

from __future__ import annotations

from datetime import date
from email.utils import parsedate_to_datetime

from typer.testing import CliRunner

from cli.deployments import deployed_flow
from cli.main import app as rectify
from services.core.clock import SHANGHAI
from tests.support.mailserver import MailServer

DEMO_DAY = date(2021, 7, 19)


def cn(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


async def test_the_worker_sends_the_round_notice_dated_on_the_demo_day(
    app, prefect_server, monkeypatch
):
    monkeypatch.setenv("RECTIFY_DATABASE_URL", app.settings.database_url)
    monkeypatch.setenv("RECTIFY_SECRET_KEY", app.settings.secret_key)
    monkeypatch.setenv("RECTIFY_DATA_DIR", str(app.settings.data_dir))
    monkeypatch.delenv("RECTIFY_AS_OF", raising=False)
    loaded = CliRunner().invoke(rectify, ["demo", "--if-empty"])
    assert loaded.exit_code == 0, loaded.output

    server = MailServer().start()
    monkeypatch.setenv("RECTIFY_SMTP_PORT", str(server.port))
    try:
        published = deployed_flow("publish-round")("2021Q2")  # no as_of: as scheduled
        delivered = await deployed_flow("dispatch-outbox")()
    finally:
        server.stop()

    assert published["units_mailed"] > 0 and delivered["sent"] == len(server.received)
    notices = [r for r in server.received if "2021年二季度" in r.message["Subject"]]
    assert notices, [r.message["Subject"] for r in server.received]
    today = date.today()
    for received in notices:
        text = received.text
        assert text.rstrip().endswith(cn(DEMO_DAY)), text[-200:]  # signed on the demo's day
        assert "2021年7月29日" in text  # the round's deadline
        assert "有效期至2021年9月" in text  # the portal link: 60 days from the demo's day
        assert cn(today) not in text
        sent_at = parsedate_to_datetime(received.message["Date"]).astimezone(SHANGHAI)
        assert sent_at.date() == DEMO_DAY
