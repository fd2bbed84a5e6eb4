"""Which sections a notice prints, in what order: the round's (or its issuer's) ``sections``
option, default 总体情况, 存在问题, 工作要求. A block section prints only when the round holds
its data; a block with data that the option does not list goes before 工作要求."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from services.rounds.blocks import KINDS as BLOCK_KINDS
from services.rounds.notice_settings import DEFAULT_SECTIONS, SECTION_LABELS


def section_order(settings: dict[str, Any], present: Collection[str]) -> tuple[str, ...]:
    """The template names (templates/sections/<name>.j2) to render, in order."""
    chosen = settings.get("sections") if isinstance(settings, dict) else None
    if not isinstance(chosen, list) or not chosen:
        chosen = list(DEFAULT_SECTIONS)
    names = [
        name
        for name in dict.fromkeys(chosen)
        if name in SECTION_LABELS and (name not in BLOCK_KINDS or name in present)
    ]
    unlisted = [kind for kind in BLOCK_KINDS if kind in present and kind not in names]
    at = names.index("requirements") if "requirements" in names else len(names)
    return tuple(names[:at] + unlisted + names[at:])
