"""Log lines an operator's tools can read: JSON on one line each, with the request's id.

``RECTIFY_LOG_FORMAT=json`` (``configure``) puts one :class:`JsonFormatter` handler on the
root logger and on uvicorn's loggers (which keep their own handlers otherwise); ``text``
(the default) leaves logging as it was. The web middleware sets the request id of the
request being answered (:data:`REQUEST_ID`); every record logged while it runs carries it,
uvicorn's access line too.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The id of the request this task is answering (None outside a request).
REQUEST_ID: ContextVar[str | None] = ContextVar("rectify_request_id", default=None)
#: The loggers uvicorn configures with handlers of their own (not propagating to the root).
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")
FORMATS = ("text", "json")
#: Attributes every LogRecord has: anything else was passed as ``extra=`` and is kept.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Sets ``record.request_id`` from the current request (``-`` outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = REQUEST_ID.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, request_id,
    the process id (one of several server processes), the exception's traceback when there
    is one, and the record's ``extra=`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or REQUEST_ID.get(),
            "pid": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        for name, value in record.__dict__.items():
            if name not in _STANDARD and name not in entry and not name.startswith("_"):
                entry[name] = value if isinstance(value, str | int | float | bool) else str(value)
        return json.dumps(entry, ensure_ascii=False)


def json_handler(stream=None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.set_name("rectify-json")
    return handler


def configure(log_format: str, *, level: int = logging.INFO, stream=None) -> bool:
    """Install the JSON handler when ``log_format`` is ``json`` (idempotent: a second call
    replaces the first's handler); True when it did. ``text`` changes nothing."""
    if log_format != "json":
        return False
    handler = json_handler(stream)
    for name in ("", *UVICORN_LOGGERS):
        logger = logging.getLogger(name)
        logger.handlers = [h for h in logger.handlers if h.get_name() != "rectify-json"]
        if name:  # uvicorn's own (text) handlers would print every line a second time
            logger.handlers = []
            logger.propagate = False
        logger.addHandler(handler)
    logging.getLogger().setLevel(level)
    return True
