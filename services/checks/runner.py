"""Run many checks at once within the limits; one bad check never stops the others."""

from __future__ import annotations

import asyncio
import logging

from services.checks.base import VISITED, answer, find
from services.checks.fetch import Fetcher
from services.checks.model import MANUAL, CannotTell, CheckContext, CheckOutcome, CheckRequest
from services.core.clock import Clock
from services.core.settings import Settings

log = logging.getLogger(__name__)
#: Checks started at once; their HTTP requests are bounded separately (overall and per host).
CHECKS_PER_REQUEST_SLOT = 10


async def run_checks(
    requests: list[CheckRequest], *, settings: Settings, clock: Clock
) -> list[CheckOutcome]:
    """Run each request's check; outcomes come back in the order of the requests.

    The requests of one address run one after another in one worker, sharing the visit:
    a page asked about by two checks (column_fresh and column_blank) is fetched once.
    """
    outcomes: list[CheckOutcome | None] = [None] * len(requests)
    by_url: dict[str | None, list[int]] = {}
    for index, request in enumerate(requests):
        by_url.setdefault(request.url, []).append(index)
    groups = [[i] for i in by_url.pop(None, [])] + list(by_url.values())
    pending = iter(groups)
    async with Fetcher(settings) as fetcher:
        context = CheckContext(fetcher=fetcher, settings=settings, today=clock.today())

        async def worker() -> None:
            # Workers pull from one iterator: memory stays bounded however many requests.
            for group in pending:
                VISITED.set({} if len(group) > 1 else None)
                for index in group:
                    outcome = await run_one(requests[index], context)
                    outcome.checked_at = clock.now()
                    outcomes[index] = outcome

        workers = min(len(groups), settings.check_max_concurrency * CHECKS_PER_REQUEST_SLOT)
        await asyncio.gather(*(worker() for _ in range(workers)))
    return [o for o in outcomes if o is not None]


async def run_one(request: CheckRequest, context: CheckContext) -> CheckOutcome:
    """One check; a check that cannot decide or crashes answers "unknown", never "fixed"."""
    if not request.check or request.check == MANUAL:
        return answer(request, "unknown", "该类问题无自动检查，待督查人员核实", manual=True)
    check = find(request.check)
    if check is None:
        return answer(request, "unknown", f"未知的自动检查「{request.check}」，待督查人员核实")
    try:
        return await check.run(request, context)
    except CannotTell as exc:
        return answer(request, "unknown", str(exc), **exc.details)
    except Exception as exc:  # a crash must read as "cannot tell", with the error kept
        log.exception("check %s crashed for %s", request.check, request.target_code)
        return answer(
            request,
            "unknown",
            f"自动检查出错，无法判断：{type(exc).__name__}: {exc}",
            error=f"{type(exc).__name__}: {exc}",
        )
