"""Names listed in a notice: quoted accounts, kinds' nouns, and long lists summarised
(“某某发布”“某某政务”等15个政务新媒体) past the round's ``summary`` options."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: What a notice calls a kind of target when it counts them (等3个政府网站).
KIND_NOUNS = {
    "website": "政府网站",
    "column": "信息公开专栏",
    "new_media": "政务新媒体",
    "message_board": "网民留言平台",
}
#: Names shown before 等N个 when the round does not say (never more than its threshold).
DEFAULT_SHOWN = 3


@dataclass(frozen=True)
class Summary:
    """A list longer than ``threshold`` prints its first ``shown`` names, then 等N个…"""

    threshold: int | None = None
    shown: int = DEFAULT_SHOWN

    @classmethod
    def of(cls, settings: dict[str, Any]) -> Summary:
        """From a notice's options (``summary.threshold``, ``summary.names``)."""
        config = settings.get("summary") if isinstance(settings, dict) else None
        config = config if isinstance(config, dict) else {}
        threshold = config.get("threshold")
        shown = config.get("names") or DEFAULT_SHOWN
        if type(threshold) is not int:
            return cls()
        return cls(threshold=threshold, shown=max(1, min(shown, threshold)))

    def applies(self, count: int) -> bool:
        return self.threshold is not None and count > self.threshold


def quoted(name: str, kind: str | None) -> str:
    """An account's name in quotes, as notices print them (“某某发布”); others as they are."""
    return f"“{name}”" if kind == "new_media" else name


def joined(names: Sequence[str]) -> str:
    """“甲”“乙” run together, as quoted names are; other names with 、."""
    if names and all(n.startswith("“") and n.endswith("”") for n in names):
        return "".join(names)
    return "、".join(names)


def kinds_noun(kinds: Iterable[str | None]) -> str:
    """政府网站, or 政府网站和政务新媒体 for a list of several kinds."""
    nouns = list(dict.fromkeys(KIND_NOUNS.get(k or "", "对象") for k in kinds))
    return "和".join(nouns) if nouns else "对象"


def listed(names: Sequence[str], *, summary: Summary, noun: str) -> str:
    """All the names, or the first few and 等N个<noun> when the list is past the threshold."""
    if not summary.applies(len(names)):
        return joined(names)
    return f"{joined(names[: summary.shown])}等{len(names)}个{noun}"
