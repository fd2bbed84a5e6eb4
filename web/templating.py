"""Jinja2 templates (autoescaped) with the labels and helpers every page uses."""

from __future__ import annotations

import re
import secrets
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from services.core.clock import SHANGHAI, Clock, local_text
from services.registry.units import TARGET_KINDS, TARGET_STATUSES, UNIT_KINDS
from states.lifecycle import EVENT_LABELS, SEVERITY_LABELS, STATE_LABELS, TRIGGER_LABELS

ACTOR_KINDS = {"user": "监管人员", "unit": "责任单位", "system": "系统"}
REVIEW_LABELS = {"accepted": "核验通过", "rejected": "退回整改", None: "待审核"}


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use."""
    return request.session.get("csrf") or new_csrf_token(request)


def new_csrf_token(request: Request) -> str:
    """Give the session a new CSRF token (at sign-in and sign-out): the old one stops working."""
    token = secrets.token_urlsafe(24)
    request.session["csrf"] = token
    return token


def csrf_input(request: Request) -> Markup:
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token(request))


def local_time(value: datetime | None, tz: ZoneInfo = SHANGHAI) -> str:
    """A moment in the installation's zone (RECTIFY_TIMEZONE) to the minute; "" for none."""
    return local_text(value, tz, empty="")


def day(value: date | None) -> str:
    return value.isoformat() if value else "—"


def size(value: int) -> str:
    if value >= 1 << 20:
        return f"{value / (1 << 20):.1f} MB"
    return f"{max(1, value // 1024)} KB"


#: A long run of Latin text in Chinese (an e-mail address, a URL, a long code).
_LONG_LATIN = re.compile(r"[\w.@:/\-+%?=&#~]{12,}", re.ASCII)


def breakable(text: str) -> Markup:
    """The text, escaped, its long Latin runs allowed to break anywhere: a justified Chinese
    line then fills up to its end instead of pushing a whole address down and stretching."""
    parts, last = [], 0
    for found in _LONG_LATIN.finditer(text or ""):
        parts.append(escape(text[last : found.start()]))
        parts.append(Markup('<span class="break-anywhere">{}</span>').format(found.group()))
        last = found.end()
    parts.append(escape((text or "")[last:]))
    return Markup("").join(parts)


def make_templates(directory: Path, *, clock: Clock | None = None) -> Jinja2Templates:
    """The pages' templates; ``clock`` (the app's) gives the zone of every time shown and is
    ``system_clock`` to a template (``system_clock.label()``: the day the system runs on)."""
    templates = Jinja2Templates(directory=directory)
    zone = clock.tz if clock is not None else SHANGHAI
    env = templates.env
    env.autoescape = True
    env.globals.update(
        STATE_LABELS={str(k): v for k, v in STATE_LABELS.items()},
        TRIGGER_LABELS={str(k): v for k, v in TRIGGER_LABELS.items()},
        EVENT_LABELS=EVENT_LABELS,
        SEVERITY_LABELS=SEVERITY_LABELS,
        ACTOR_KINDS=ACTOR_KINDS,
        REVIEW_LABELS=REVIEW_LABELS,
        UNIT_KINDS=UNIT_KINDS,
        TARGET_KINDS=TARGET_KINDS,
        TARGET_STATUSES=TARGET_STATUSES,
        csrf_input=csrf_input,
        system_clock=clock,
    )
    env.filters.update(
        local_time=partial(local_time, tz=zone), day=day, size=size, breakable=breakable
    )
    return templates


def render(request: Request, name: str, status_code: int = 200, **context: Any):
    """Render a page; the flash message of the session is shown once."""
    flash = request.session.pop("flash", None)
    return request.app.state.templates.TemplateResponse(
        request, name, {"flash": flash, **context}, status_code=status_code
    )


def flash(request: Request, message: str, *, kind: str = "ok") -> None:
    request.session["flash"] = {"message": message, "kind": kind}
