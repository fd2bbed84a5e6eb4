"""栏目更新不及时 and 空白栏目: the dated entries of a column page."""

from __future__ import annotations

from services.checks.base import answer, check, page_of
from services.checks.model import CheckContext, CheckOutcome, CheckRequest
from services.core.settings import Settings

NEWEST_KEPT = 5


def stale_days(request: CheckRequest, settings: Settings) -> int:
    """The threshold of the column: the target's own, else its type's, else "other"."""
    if request.stale_days is not None:
        return request.stale_days
    by_type = settings.column_stale_days
    return by_type.get(request.column_type or "other", by_type.get("other", 30))


@check("column_fresh", label="栏目是否及时更新")
async def column_fresh(request: CheckRequest, context: CheckContext) -> CheckOutcome:
    """Fixed when the newest dated entry is within the column type's threshold."""
    page = await page_of(request, context)
    reading = page.reading(links=False)
    today = context.today
    dates = sorted({e.dated for e in reading.dated_entries if e.dated}, reverse=True)
    future = [d for d in dates if d > today]
    dates = [d for d in dates if d <= today]
    threshold = stale_days(request, context.settings)
    evidence = {
        "page": page.evidence(keep_chars=context.settings.check_page_keep_chars),
        "entries": len(reading.entries),
        "dated_entries": len(reading.dated_entries),
        "newest_dates": [d.isoformat() for d in dates[:NEWEST_KEPT]],
        "future_dates_ignored": [d.isoformat() for d in future[:NEWEST_KEPT]],
        "threshold_days": threshold,
        "column_type": request.column_type or "other",
    }
    if not dates:
        # The inspection rule: a column whose entries carry no date counts as not updated.
        return answer(request, "present", "栏目页面未找到带日期的条目，视为未更新", **evidence)
    newest = dates[0]
    age = (today - newest).days
    evidence.update(newest=newest.isoformat(), age_days=age)
    if age <= threshold:
        return answer(
            request,
            "fixed",
            f"栏目最新条目日期 {newest:%Y-%m-%d}，距今 {age} 天，在 {threshold} 天的要求之内",
            **evidence,
        )
    return answer(
        request,
        "present",
        f"栏目最新条目日期 {newest:%Y-%m-%d}，距今 {age} 天，超过 {threshold} 天未更新",
        **evidence,
    )


@check("column_blank", label="栏目是否仍为空白")
async def column_blank(request: CheckRequest, context: CheckContext) -> CheckOutcome:
    """Fixed when the column page lists at least one dated entry."""
    page = await page_of(request, context)
    reading = page.reading(links=False)
    entries = reading.dated_entries
    evidence = {
        "page": page.evidence(keep_chars=context.settings.check_page_keep_chars),
        "entries": len(entries),
        "first_entries": [e.text for e in entries[:NEWEST_KEPT]],
        "newest_dates": sorted({e.dated.isoformat() for e in entries if e.dated}, reverse=True)[
            :NEWEST_KEPT
        ],
    }
    if entries:
        return answer(
            request, "fixed", f"栏目已有 {len(entries)} 条信息，不再是空白栏目", **evidence
        )
    return answer(request, "present", "栏目页面仍没有任何信息条目（空白栏目）", **evidence)
