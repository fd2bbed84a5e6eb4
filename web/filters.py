"""The case list's filters, read from the query string by the pages and the JSON API alike."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from services.cases import queries


def list_filters(
    state: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    round: str | None = None,  # noqa: A002 - the query parameter's name
    overdue: bool = False,
    escalated: bool = False,
    q: str | None = None,
    sort: str = "id",
    desc: bool = False,
    cursor: str | None = None,
) -> queries.CaseFilters:
    return queries.CaseFilters(
        state=state or None,
        unit_code=unit or None,
        category=category or None,
        round_code=round or None,
        overdue=overdue,
        escalated=escalated,
        text=(q or "").strip() or None,
        sort=sort if sort in queries.SORTS else "id",
        descending=desc,
        cursor=cursor or None,
    )


Filters = Annotated[queries.CaseFilters, Depends(list_filters)]
