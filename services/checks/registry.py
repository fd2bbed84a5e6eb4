"""Checks registered by name: ``@register("column_fresh")`` on an async function."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.checks.fetch import FetchFailed, Page
from services.checks.model import CannotTell, CheckContext, CheckOutcome, CheckRequest, Outcome

Check = Callable[[CheckRequest, CheckContext], Awaitable[CheckOutcome]]
#: The table of checks (static, filled at import by the check modules; never mutated after).
CHECKS: dict[str, Check] = {}


def register(name: str) -> Callable[[Check], Check]:
    """Register a check under the name the category catalogue uses."""

    def decorate(check: Check) -> Check:
        CHECKS[name] = check
        return check

    return decorate


def answer(request: CheckRequest, outcome: Outcome, summary: str, **details: Any) -> CheckOutcome:
    """Build a check's outcome for ``request``."""
    return CheckOutcome(
        case_id=request.case_id,
        check=request.check or "manual",
        outcome=outcome,
        summary=summary,
        details=details,
        target_code=request.target_code,
    )


async def page_of(request: CheckRequest, context: CheckContext) -> Page:
    """Fetch the request's page, or raise CannotTell saying why it could not be read."""
    if not request.url:
        raise CannotTell("监测对象未登记网址，无法自动检查")
    try:
        page = await context.fetcher.get(request.url)
    except FetchFailed as exc:
        raise CannotTell(
            f"页面无法打开（{exc}），无法判断", error=str(exc), kind=exc.kind
        ) from None
    if not page.ok:
        raise CannotTell(
            f"页面返回 HTTP {page.status}，无法判断",
            page=page.evidence(keep_chars=context.settings.check_page_keep_chars),
        )
    return page
