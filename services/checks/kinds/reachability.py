"""站点无法访问: visits spread over a window; the failure rate against the national 5 %."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

from services.checks.base import answer, check
from services.checks.fetch import FetchFailed
from services.checks.model import CannotTell, CheckContext, CheckOutcome, CheckRequest

MAX_VISITS_KEPT = 50


@check("site_reachable", label="站点能否正常访问")
async def site_reachable(request: CheckRequest, context: CheckContext) -> CheckOutcome:
    """Present when the share of failed visits reaches the threshold; fixed below it."""
    if not request.url:
        raise CannotTell("监测对象未登记网址，无法自动检查")
    host = urlsplit(request.url).hostname or ""
    found = await context.fetcher.lookup(host)
    if found.error:  # our DNS is silent: the site's failures would be ours
        raise CannotTell(f"域名 {host} 的 DNS 查询没有结论（{found.error}）", dns=found.as_dict())
    settings = context.settings
    samples = max(1, settings.check_reach_samples)
    window = max(0.0, settings.check_reach_window_seconds)
    interval = window / samples
    started = time.monotonic()
    last_page: dict = {}

    async def visit(index: int) -> dict:
        await asyncio.sleep(index * interval)
        offset = round(time.monotonic() - started, 3)
        try:
            page = await context.fetcher.get(request.url, timeout=settings.check_timeout_seconds)
        except FetchFailed as exc:
            return {"at": offset, "ok": False, "error": str(exc), "kind": exc.kind}
        if page.ok:
            last_page.update(page.evidence(keep_chars=settings.check_page_keep_chars))
        return {"at": offset, "ok": page.ok, "status": page.status, "seconds": page.seconds}

    visits = await asyncio.gather(*(visit(i) for i in range(samples)))
    failures = sum(not v["ok"] for v in visits)
    rate = failures / samples
    threshold = settings.check_reach_failure_threshold
    figures = {
        "samples": samples,
        "failures": failures,
        "failure_rate": round(rate, 4),
        "threshold": threshold,
        "window_seconds": window,
        "visits": visits[:MAX_VISITS_KEPT],
        "page": last_page,
    }
    text = (
        f"{_duration(window)}内访问 {samples} 次，失败 {failures} 次，失败率 {rate:.1%}"
        f"（判定线 {threshold:.0%}）"
    )
    if rate >= threshold:
        return answer(request, "present", f"站点仍无法正常访问：{text}", **figures)
    return answer(request, "fixed", f"站点可正常访问：{text}", **figures)


def _duration(seconds: float) -> str:
    """A window as a person says it: 0.2 秒, 10 分钟, 2 小时, 7 天."""
    for unit, size in (("天", 86400), ("小时", 3600), ("分钟", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} 秒"
