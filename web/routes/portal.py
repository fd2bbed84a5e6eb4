"""The unit portal: reached from the emailed link, no account; one unit's cases only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse

from services.cases import portal, submissions
from services.cases.portal import PortalUnit
from services.cases.submissions import IncomingFile
from services.core.clock import zone_label
from web.deps import Csrf, RowId, Uow
from web.downloads import attachment_response
from web.templating import render

router = APIRouter(prefix="/portal/{token}", include_in_schema=False)


def portal_unit(request: Request, token: str, uow: Uow) -> PortalUnit:
    unit = portal.open_portal(uow, token=token)
    request.state.portal_unit = unit  # an error page after this names the unit in its header
    return unit


Unit = Annotated[PortalUnit, Depends(portal_unit)]


@router.get("")
def home(request: Request, token: str, uow: Uow, unit: Unit):
    cases = portal.unit_home(uow, unit_id=unit.unit_id)
    return render(request, "portal/home.html", unit=unit, token=token, home=cases)


def _case_page(request: Request, token: str, uow, unit: PortalUnit, case_id: int, **extra):
    page = portal.unit_case(uow, unit_id=unit.unit_id, case_id=case_id)
    return render(
        request,
        "portal/case.html",
        unit=unit,
        token=token,
        page=page,
        d=page.detail,
        max_mb=uow.settings.upload_max_mb,
        accept=",".join(submissions.ALLOWED),
        allowed=submissions.ALLOWED_LABEL,
        zone=zone_label(uow.clock.tz),
        **extra,
    )


@router.get("/cases/{case_id}")
def case_form(request: Request, token: str, case_id: RowId, uow: Uow, unit: Unit):
    return _case_page(request, token, uow, unit, case_id)


@router.post("/cases/{case_id}", dependencies=[Csrf])
def submit(
    request: Request,
    token: str,
    case_id: RowId,
    uow: Uow,
    unit: Unit,
    text: Annotated[str, Form()] = "",
    responsible_person: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    attachments: Annotated[list[UploadFile], File()] = [],  # noqa: B006 - FastAPI copies defaults
):
    # The body's size was limited while it streamed in (web.limits), before any parsing.
    try:
        submissions.submit_rectification(
            uow,
            unit_id=unit.unit_id,
            case_id=case_id,
            text=text,
            responsible_person=responsible_person,
            phone=phone,
            files=[IncomingFile(f.filename or "", f.file) for f in attachments],
        )
    except submissions.NotSubmittable as refused:
        # Nothing was stored: the case's page again, saying why and where to submit instead.
        uow.session.rollback()
        return _case_page(request, token, uow, unit, case_id, status_code=409, refused=str(refused))
    return RedirectResponse(f"/portal/{token}/cases/{case_id}/done", status_code=303)


@router.get("/cases/{case_id}/done")
def done(request: Request, token: str, case_id: RowId, uow: Uow, unit: Unit):
    page = portal.unit_case(uow, unit_id=unit.unit_id, case_id=case_id)
    return render(request, "portal/done.html", unit=unit, token=token, d=page.detail)


@router.get("/attachments/{attachment_id}")
def download(attachment_id: RowId, uow: Uow, unit: Unit):
    stored = submissions.open_attachment(uow, attachment_id=attachment_id, unit_id=unit.unit_id)
    return attachment_response(stored)
