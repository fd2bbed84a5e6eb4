"""What an import did: per kind, how many records it created, updated or left unchanged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KIND_LABELS = {
    "units": "单位",
    "targets": "监测对象",
    "categories": "问题类别",
    "rounds": "检查轮次",
    "verdicts": "检查范围",
    "board_figures": "留言办理",
    "cases": "案件",
    "notices": "通报记录",
    "events": "处理记录",
    "blocks": "通报数据块",
    "issuers": "发文机关",
    "notice_settings": "通报设置",
}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class ImportReport:
    """Counts per kind (units, targets, rounds, verdicts, board_figures, cases, notices, events)."""

    sources: list[str] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)

    def tick(self, kind: str, outcome: str, n: int = 1) -> None:
        counts = self.counts.setdefault(kind, Counts())
        setattr(counts, outcome, getattr(counts, outcome) + n)

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.counts.values())

    def merge(self, other: ImportReport) -> None:
        self.sources.extend(other.sources)
        for kind, counts in other.counts.items():
            for outcome in ("created", "updated", "unchanged"):
                self.tick(kind, outcome, getattr(counts, outcome))


def outcome_of(before: dict[str, Any] | None, after: dict[str, Any]) -> str:
    """created, updated or unchanged, from a record's fields before and after an upsert."""
    if before is None:
        return "created"
    return "unchanged" if before == after else "updated"
