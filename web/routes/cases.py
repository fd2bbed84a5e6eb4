"""The case list (filters, sorting, keyset pages, exports, bulk actions) and the case page."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.cases import actions as case_actions
from services.cases import detail as case_detail
from services.cases import queries, submissions
from services.registry import listings
from services.reports.tables import CSV_TYPE, XLSX_TYPE
from states.lifecycle import EVENT_LABELS
from web import exports
from web.deps import Csrf, CurrentUser, FormIds, FormVersion, RowId, Uow
from web.downloads import attachment_header, attachment_response
from web.filters import Filters
from web.templating import flash, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
EXPORT_LIMIT = 100_000


def _query_string(f: queries.CaseFilters, **overrides) -> str:
    params = {
        "state": f.state,
        "unit": f.unit_code,
        "category": f.category,
        "round": f.round_code,
        "overdue": "1" if f.overdue else None,
        "escalated": "1" if f.escalated else None,
        "q": f.text,
        "sort": f.sort if f.sort != "id" else None,
        "desc": "1" if f.descending else None,
        **overrides,
    }
    return urlencode({k: v for k, v in params.items() if v})


@router.get("/cases")
def case_list(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    filters: Filters,
    size: Annotated[int, Query(ge=5, le=500)] = PAGE_SIZE,
):
    filters.scope_path = user.scope_path
    page = queries.page_cases(uow, filters, size=size)
    return render(
        request,
        "cases.html",
        user=user,
        page=page,
        f=filters,
        choices=listings.filter_choices(uow, scope_path=user.scope_path),
        sorts=queries.SORTS,
        query=_query_string(filters),
        next_query=(
            _query_string(
                filters, cursor=page.next_cursor, size=size if size != PAGE_SIZE else None
            )
            if page.next_cursor
            else None
        ),
    )


@router.get("/cases/export.{fmt}")
def export(fmt: str, uow: Uow, user: CurrentUser, filters: Filters):
    if fmt not in ("csv", "xlsx"):
        return Response(status_code=404)
    filters.scope_path = user.scope_path
    filters.cursor = None
    filters.limit = EXPORT_LIMIT
    rows = queries.list_cases(uow, filters)
    name = f"整改案件-{uow.clock.today().isoformat()}.{fmt}"
    body, media = (
        (exports.to_csv(rows), CSV_TYPE) if fmt == "csv" else (exports.to_xlsx(rows), XLSX_TYPE)
    )
    return Response(body, media_type=media, headers=attachment_header(name))


@router.post("/cases/bulk", dependencies=[Csrf])
def bulk(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    action: Annotated[str, Form()] = "",
    case_ids: FormIds = [],  # noqa: B006 - FastAPI copies defaults
    note: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/cases",
):
    result = case_actions.bulk(uow, user=user, case_ids=case_ids, trigger=action, note=note)
    message = f"已处理 {len(result.done)} 件"
    if result.refused:
        message += "；未处理：" + "；".join(result.refused)
    flash(request, message, kind="warn" if result.refused else "ok")
    return RedirectResponse(back if back.startswith("/cases") else "/cases", status_code=303)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: RowId, uow: Uow, user: CurrentUser):
    detail = case_detail.case_detail(uow, case_id, scope_path=user.scope_path)
    manual = [str(t) for t in case_actions.MANUAL_TRIGGERS]
    return render(
        request,
        "case.html",
        user=user,
        d=detail,
        actions=[t for t in detail.allowed_triggers if t in manual],
    )


@router.post("/cases/{case_id}/transition", dependencies=[Csrf])
def transition(
    request: Request,
    case_id: RowId,
    uow: Uow,
    user: CurrentUser,
    trigger: Annotated[str, Form()],
    version: FormVersion,
    note: Annotated[str, Form()] = "",
):
    result = case_actions.act(
        uow, user=user, case_id=case_id, trigger=trigger, note=note, expected_version=version
    )
    flash(request, f"案件 {case_id} 已执行「{_label(result.trigger)}」")
    return RedirectResponse(f"/cases/{case_id}", status_code=303)


@router.get("/attachments/{attachment_id}")
def download(attachment_id: RowId, uow: Uow, user: CurrentUser):
    stored = submissions.open_attachment(
        uow, attachment_id=attachment_id, scope_path=user.scope_path
    )
    return attachment_response(stored)


def _label(trigger: str) -> str:
    return EVENT_LABELS.get(trigger, trigger)
