"""Where each notice text and option of an issuer or a round comes from: the installation's
default (notice_texts.yaml), the issuing office (本机关) or the round itself (本轮次).

What ``rectify issuer show`` / ``rectify round show`` print, and what a page shows beside each
field ("the issuer default shown").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.db.issuer_models import Issuer
from services.db.models import Round
from services.reports.files import TEMPLATES, load_yaml
from services.rounds import notice_settings
from services.rounds.notice_settings import KIND_LABELS, Option
from services.rounds.option_types import named_text

DEFAULT, ISSUER, ROUND = "默认", "本机关", "本轮次"


@dataclass(frozen=True)
class TextSource:
    key: str
    label: str
    value: str | list[str]
    source: str  # 默认 | 本机关 | 本轮次


@dataclass(frozen=True)
class OptionSource:
    path: str  # pass_rate.decimals
    label: str
    kind: str | None  # None: every kind
    value: Any
    shown: str  # the value as a person writes it
    source: str  # 本机关 | 本轮次


def _defaults() -> dict[str, Any]:
    return dict(load_yaml(TEMPLATES / "notice_texts.yaml"))


def issuer_texts(issuer: Issuer) -> list[TextSource]:
    """Each text of an issuer's notices: its own, else the installation's default."""
    defaults = _defaults() | {"office": issuer.name, "office_short": issuer.short_name}
    own = issuer.texts or {}
    return [
        TextSource(key, label, own.get(key) or defaults.get(key, ""), ISSUER)
        if own.get(key) or key in ("office", "office_short")
        else TextSource(key, label, defaults.get(key, ""), DEFAULT)
        for key, label in notice_settings.TEXTS.items()
    ]


def round_texts(round_: Round) -> list[TextSource]:
    """Each text of a round's notice: the round's own, else its issuer's, else the default."""
    below = {t.key: t for t in (issuer_texts(round_.issuer) if round_.issuer else _plain())}
    own = round_.notice_texts or {}
    return [
        TextSource(key, label, own[key], ROUND) if own.get(key) else below[key]
        for key, label in notice_settings.TEXTS.items()
    ]


def _plain() -> list[TextSource]:
    defaults = _defaults()
    return [
        TextSource(key, label, defaults.get(key, ""), DEFAULT)
        for key, label in notice_settings.TEXTS.items()
    ]


def option_sources(
    issuer_options: dict[str, Any] | None, round_options: dict[str, Any] | None = None
) -> list[OptionSource]:
    """Every option set by the issuer or the round (the round's wins); unset ones are left
    out: the notice's built-in default applies to them."""
    rows = []
    for option in notice_settings.OPTIONS:
        for kind in (None, *(KIND_LABELS if option.per_kind else ())):
            for source, stored in ((ROUND, round_options), (ISSUER, issuer_options)):
                value = notice_settings.get_value(stored or {}, option, kind=kind)
                if value is None or (kind is None and option.per_kind and isinstance(value, dict)):
                    continue
                shown = show_value(option, value)
                rows.append(OptionSource(option.path, option.label, kind, value, shown, source))
                break
    return rows


def show_value(option: Option, value: Any) -> str:
    """A stored option value as a person would type it."""
    values = value if option.repeated and isinstance(value, list) else [value]
    return "；".join(_one(v) for v in values)


def _one(value: Any) -> str:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict) and "heading" in value:
        return named_text(value)  # 标题[政务新媒体]=代码1、代码2
    if isinstance(value, list):
        return "、".join(notice_settings.SECTION_LABELS.get(v, str(v)) for v in value)
    labels = {
        **notice_settings.RATE_RULES,
        **notice_settings.SURVEYS,
        **notice_settings.PROBLEM_COUNTS,
    }
    return labels.get(value, str(value)) if isinstance(value, str) else str(value)
