"""RECTIFY_LOG_FORMAT=json: one JSON object per line, with the id of the request being answered."""

from __future__ import annotations

import io
import json
import logging

import pytest

from services.core import logs


@pytest.fixture
def stream():
    """Logging as the test found it, restored after (handlers, levels, propagation)."""
    names = ("", "web", "services", *logs.UVICORN_LOGGERS)
    saved = {
        n: (logging.getLogger(n).handlers[:], logging.getLogger(n).propagate)
        for n in ("", *logs.UVICORN_LOGGERS)
    }
    levels = {n: (logging.getLogger(n).level, logging.getLogger(n).disabled) for n in names}
    # An earlier test in the process may have run uvicorn with another log level, or attached
    # Prefect's handlers to ``services`` (a flow command run in-process): start from defaults.
    services_handlers = logging.getLogger("services").handlers[:]
    logging.getLogger("services").handlers = []
    for name in names[1:]:
        logging.getLogger(name).setLevel(logging.NOTSET)
        logging.getLogger(name).disabled = False
    yield io.StringIO()
    for name, (handlers, propagate) in saved.items():
        logging.getLogger(name).handlers = handlers
        logging.getLogger(name).propagate = propagate
    for name, (level, disabled) in levels.items():
        logging.getLogger(name).setLevel(level)
        logging.getLogger(name).disabled = disabled
    logging.getLogger("services").handlers = services_handlers


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_line_logged_while_a_request_is_answered_carries_its_id(stream):
    assert logs.configure("json", stream=stream)
    token = logs.REQUEST_ID.set("req-42")
    try:
        logging.getLogger("services.mail.outbox").warning("邮件服务器无法连接：%s", "127.0.0.1:25")
    finally:
        logs.REQUEST_ID.reset(token)
    logging.getLogger("services.rounds").info("复查完成", extra={"verified": 12})

    first, second = lines(stream)
    assert first["message"] == "邮件服务器无法连接：127.0.0.1:25"
    assert first["level"] == "WARNING" and first["logger"] == "services.mail.outbox"
    assert first["request_id"] == "req-42"
    assert second["request_id"] == "-" and second["verified"] == 12
    assert first["time"].endswith("+00:00") and isinstance(first["pid"], int)


def test_an_exception_is_kept_in_its_line_and_uvicorn_lines_are_json_too(stream):
    logs.configure("json", stream=stream)
    logs.configure("json", stream=stream)  # a second app in the process: still one line each
    try:
        raise ValueError("坏数据")
    except ValueError:
        logging.getLogger("web").exception("请求失败")
    logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5", "GET",
                                             "/healthz", "1.1", 200)  # fmt: skip

    failed, access = lines(stream)
    assert "ValueError: 坏数据" in failed["exception"]
    assert access["logger"] == "uvicorn.access"
    assert access["message"] == '127.0.0.1:5 - "GET /healthz HTTP/1.1" 200'


def test_text_leaves_logging_as_it_was(stream):
    before = logging.getLogger().handlers[:]
    assert not logs.configure("text", stream=stream)
    logging.getLogger("services").warning("普通日志")
    assert logging.getLogger().handlers == before
    assert stream.getvalue() == ""
