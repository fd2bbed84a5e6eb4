"""What a check is asked (CheckRequest) and what it answers (CheckOutcome)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from services.checks.fetch import Fetcher
    from services.core.settings import Settings

Outcome = Literal["fixed", "present", "unknown"]
OUTCOME_LABELS = {"fixed": "已整改", "present": "问题仍存在", "unknown": "无法判断"}
#: The check name of "no automated check": None in the catalogue means a supervisor verifies.
#: Every other check name and its label live on the check's ``@check`` (services/checks/kinds).
MANUAL = "manual"
MANUAL_LABEL = "无自动检查（人工核实）"


@dataclass(frozen=True)
class CheckRequest:
    """One check to run: which case (if any), which target, which check."""

    check: str | None
    target_code: str
    url: str | None = None
    domain: str | None = None
    column_type: str | None = None
    category_code: str | None = None
    case_id: int | None = None
    stale_days: int | None = None  # a per-target threshold; None: the column type's


@dataclass
class CheckOutcome:
    """The structured answer of one check, as stored in a CheckResult row."""

    case_id: int | None
    check: str
    outcome: Outcome
    summary: str
    details: dict[str, Any] = field(default_factory=dict)
    target_code: str = ""
    checked_at: datetime | None = None

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.outcome]


@dataclass(frozen=True)
class CheckContext:
    """What a check needs besides its request: the fetcher, settings and today's date."""

    fetcher: Fetcher
    settings: Settings
    today: date


class CannotTell(Exception):
    """Raised by a check that cannot decide; becomes an ``unknown`` outcome with its message."""

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.details = details
