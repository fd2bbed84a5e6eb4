"""The case list's filters, read from the query string by the pages and the JSON API alike,
and written back into one (pagination, exports, the dashboard's links) by ``query_string``."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Query

from services.cases import queries
from services.core.limits import MAX_ID


def list_filters(
    state: str | None = None,
    unit: str | None = None,
    category: str | None = None,
    round: str | None = None,  # noqa: A002 - the query parameter's name
    overdue: bool = False,
    escalated: bool = False,
    open: bool = False,  # noqa: A002 - the query parameter's name: 未结案件
    unit_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,  # exactly this unit
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
        open_only=open,
        unit_id=unit_id,
        text=(q or "").strip() or None,
        sort=sort if sort in queries.SORTS else "id",
        descending=desc,
        cursor=cursor or None,
    )


Filters = Annotated[queries.CaseFilters, Depends(list_filters)]


def query_string(f: queries.CaseFilters, **overrides) -> str:
    """The filters as ``list_filters`` reads them back (without the viewer's scope)."""
    params = {
        "state": f.state,
        "unit": f.unit_code,
        "unit_id": f.unit_id,
        "category": f.category,
        "round": f.round_code,
        "open": "1" if f.open_only else None,
        "overdue": "1" if f.overdue else None,
        "escalated": "1" if f.escalated else None,
        "q": f.text,
        "sort": f.sort if f.sort != "id" else None,
        "desc": "1" if f.descending else None,
        **overrides,
    }
    return urlencode({k: v for k, v in params.items() if v})
