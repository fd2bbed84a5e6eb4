"""Jinja2 templates (Chinese, HTML with a plain-text alternative) rendered from a context dict."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    pass_context,
    select_autoescape,
)

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
SHANGHAI = ZoneInfo("Asia/Shanghai")
#: Every email the system sends; each has ``<name>.subject.j2``, ``.txt.j2`` and ``.html.j2``.
TEMPLATES = (
    "round_notice",
    "case_notice",
    "reminder_digest",
    "rejection",
    "escalation",
    "submission_received",
    "submission_for_review",
    "portal_link",
)


class TemplateMissing(LookupError):
    """An outbox row names a template that does not exist."""


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@lru_cache(maxsize=4096)  # every email shows a few dates, mostly the same few deadlines
def cn_date(value: date | str | None) -> str:
    """2021-07-29 → 2021年7月29日 (accepts the ISO strings stored in outbox contexts)."""
    if value is None or value == "":
        return "（未定）"
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    return f"{value.year}年{value.month}月{value.day}日"


def cn_datetime(value: datetime | str | None, tz: ZoneInfo = SHANGHAI) -> str:
    """An instant as local time in ``tz`` (the installation's): 2021年7月19日 09:00."""
    if value is None or value == "":
        return "（未知）"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is not None:
        value = value.astimezone(tz)
    return f"{cn_date(value.date())} {value:%H:%M}"


@pass_context
def _cn_datetime_filter(context: Any, value: datetime | str | None) -> str:
    """``{{ at | cn_datetime }}`` in the zone ``render`` was given."""
    return cn_datetime(value, context.get("time_zone") or SHANGHAI)


def book_title(round_: dict[str, Any], number: bool = False) -> str:
    """How an email names a round's notice: its title in 《》 (a title's own 《》 become 〈〉,
    a pair around the whole title is dropped), else its code; ``number``: with its document
    number, 《…》（X政办字〔2021〕N号）."""
    title = (round_.get("title") or "").strip()
    if title.startswith("《") and title.endswith("》"):
        title = title[1:-1]
    named = (
        f"《{title.replace('《', '〈').replace('》', '〉')}》"
        if title
        else f"{round_['code']}轮次检查通报"
    )
    if number and round_.get("doc_number"):
        named += f"（{round_['doc_number']}）"
    return named


#: The names ``getattr`` finds on a dict (its methods): ``{{ d.items }}`` still means the method.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """Looks ``{{ case.category }}`` up as the key first when the value is a plain dict.

    Jinja tries the attribute first and the key after it; on a dict that means raising and
    catching an AttributeError for every field an email shows (a quarter of the rendering
    time). A dict has no attributes besides its methods, so the result is the same.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass
        return super().getattr(obj, attribute)

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as a plain dict rather than a ChainMap over the environment's.

        Every render and include copies them into a new context; iterating a ChainMap there
        costs more than the copy. The environment's globals are never changed after setup.
        """
        return {**self.globals, **(d or {})}


@cache
def environment() -> Environment:
    """The one template environment: HTML autoescaped, undefined values an error."""
    env = _Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(
            enabled_extensions=("html.j2",),
            disabled_extensions=("txt.j2", "subject.j2"),
            default=True,
        ),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        auto_reload=False,  # templates ship with the code; no stat() per message
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cn_date"] = cn_date
    env.filters["cn_datetime"] = _cn_datetime_filter
    env.filters["book_title"] = book_title
    return env


@cache
def _compiled(template: str) -> tuple[Template, Template, Template]:
    """The subject, text and HTML templates of an email, compiled once per process."""
    if template not in TEMPLATES:
        raise TemplateMissing(f"邮件模板 {template} 不存在")
    env = environment()
    return tuple(env.get_template(f"{template}.{part}.j2") for part in ("subject", "txt", "html"))


def render(
    template: str, context: dict[str, Any], *, sent_on: date, zone: ZoneInfo = SHANGHAI
) -> Rendered:
    """Render the subject, text and HTML of ``template``; raises on a missing value. Times
    are shown in ``zone`` (the installation's, RECTIFY_TIMEZONE)."""
    subject, text, html = _compiled(template)
    values = {**context, "sent_on": sent_on, "time_zone": zone}
    return Rendered(
        subject=" ".join(subject.render(values).split()),
        text=text.render(values).strip() + "\n",
        html=html.render(values),
    )
