"""The case list (filters, sorting, keyset pages, exports, bulk actions) and the case page."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from services.cases import actions as case_actions
from services.cases import detail as case_detail
from services.cases import queries, submissions
from services.core.errors import ValidationFailed
from services.registry import listings
from services.reports.tables import CSV_TYPE, XLSX_TYPE
from states.lifecycle import EVENT_LABELS
from states.rules import DEADLINE_STATES
from web import confirm, exports
from web.deps import Csrf, CurrentUser, FormIds, FormVersion, RowId, Uow
from web.downloads import attachment_header, attachment_response
from web.filters import Filters, query_string
from web.templating import flash, render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
EXPORT_LIMIT = 100_000


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
        exact_unit=queries.unit_label(uow, filters.unit_id) if filters.unit_id else None,
        query=query_string(filters),
        query_without_unit=query_string(filters, unit_id=None),
        next_query=(
            query_string(filters, cursor=page.next_cursor, size=size if size != PAGE_SIZE else None)
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
    confirmed: Annotated[str, Form()] = "",
):
    back = back if back.startswith("/cases") else "/cases"
    if confirmed != "1" or not case_ids:  # it mails many units: say what first (web.confirm)
        return confirm.before_bulk(
            request, uow, user, action=action, case_ids=case_ids, note=note, back=back
        )
    result = case_actions.bulk(uow, user=user, case_ids=case_ids, trigger=action, note=note)
    message = f"已处理 {len(result.done)} 件"
    if result.refused:
        message += "；未处理：" + "；".join(result.refused)
    flash(request, message, kind="warn" if result.refused else "ok")
    return RedirectResponse(back, status_code=303)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: RowId, uow: Uow, user: CurrentUser):
    return _case_page(request, uow, user, case_id)


def _case_page(request: Request, uow, user, case_id: int, *, extension=None, status_code=200):
    """The case page; ``extension``: a refused extension form (typed values and errors)."""
    detail = case_detail.case_detail(uow, case_id, scope_path=user.scope_path)
    manual = [str(t) for t in case_actions.MANUAL_TRIGGERS]
    return render(
        request,
        "case.html",
        status_code=status_code,
        user=user,
        d=detail,
        actions=[t for t in detail.allowed_triggers if t in manual],
        can_extend=user.can_act and detail.case.state in DEADLINE_STATES,
        # The earliest new deadline (the date picker's min): after the current one and today.
        extend_from=max(filter(None, (detail.case.deadline, uow.clock.today())))
        + timedelta(days=1),
        extension=extension or {},
    )


@router.post("/cases/{case_id}/deadline", dependencies=[Csrf])
def extend_deadline(
    request: Request,
    case_id: RowId,
    uow: Uow,
    user: CurrentUser,
    new_deadline: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
):
    """Extend the running deadline; a refusal comes back on the case page, the form as typed."""
    try:
        event = case_actions.extend(
            uow, user=user, case_id=case_id, new_deadline=new_deadline, reason=reason
        )
    except ValidationFailed as refused:
        uow.session.rollback()  # a refusal after a flush (stamp_refusal) leaves nothing behind
        typed = {"new_deadline": new_deadline, "reason": reason, "errors": refused.errors}
        return _case_page(request, uow, user, case_id, extension=typed, status_code=400)
    flash(request, f"案件 {case_id} 的整改期限已延长至 {event.data['new_deadline']}")
    return RedirectResponse(f"/cases/{case_id}#history", status_code=303)


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
