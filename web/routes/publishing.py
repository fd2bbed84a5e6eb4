"""Import tables from the browser, publish a round (once confirmed), download its notice and
ledger."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from services.access.users import UserView
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.imports import KIND_LABELS, uploads
from services.reports import exports
from services.rounds import edits as round_edits
from services.rounds import publication
from web import confirm
from web.deps import Csrf, CurrentUser, Uow
from web.downloads import report_response
from web.templating import flash, render

router = APIRouter(include_in_schema=False)


@router.get("/registry/import")
def import_page(request: Request, user: CurrentUser):
    return render(request, "registry/import.html", user=user, report=None, errors=[], labels={})


@router.post("/registry/import", dependencies=[Csrf])
def import_files(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    files: Annotated[list[UploadFile], File()] = [],  # noqa: B006 - FastAPI copies defaults
):
    chosen = [uploads.Upload(f.filename or "", f.file) for f in files]
    try:
        report = uploads.import_uploads(uow, user=user, files=chosen)
    except ValidationFailed as exc:
        # The row-level report is the answer here, not an error page: the user fixes the file.
        return render(
            request,
            "registry/import.html",
            status_code=400,
            user=user,
            report=None,
            errors=exc.errors,
            labels=KIND_LABELS,
        )
    return render(
        request, "registry/import.html", user=user, report=report, errors=[], labels=KIND_LABELS
    )


@router.post("/rounds/{round_code}/publish", dependencies=[Csrf])
def publish(
    request: Request,
    round_code: str,
    uow: Uow,
    user: CurrentUser,
    confirmed: Annotated[str, Form()] = "",
):
    """Publish once confirmed: the first POST (the 发布并通知 button) shows what it would send,
    to how many units, with 确认发送 (posting ``confirmed=1``) and 取消."""
    if confirmed != "1":
        return _confirmation(request, uow, user, round_code)
    summary = round_edits.publish(uow, user=user, round_code=round_code)
    message = f"检查轮次 {round_code} 已发布：通知 {summary.notified} 件，向 {summary.units_mailed} 个单位发送通知邮件"
    if summary.refused:
        message += f"；{len(summary.refused)} 件未能通知"
    flash(request, message, kind="warn" if summary.refused else "ok")
    return RedirectResponse("/rounds", status_code=303)


def _confirmation(request: Request, uow: UnitOfWork, user: UserView, round_code: str):
    round_edits.editable_round(uow, round_code, user=user)  # who may publish it may see this
    plan = publication.plan(uow, round_code=round_code)
    return confirm.page(request, user, confirm.publication(plan))


@router.get("/rounds/{round_code}/notice.{fmt}")
def notice(round_code: str, fmt: str, uow: Uow, user: CurrentUser, download: bool = False):
    # The HTML notice opens in the browser; ?download=1 (and every other format) saves it.
    round_edits.readable_round(uow, round_code, user=user)
    return _download(
        exports.notice_download(uow, round_code, fmt=fmt), inline=fmt == "html" and not download
    )


@router.get("/rounds/{round_code}/ledger.{fmt}")
def ledger(round_code: str, fmt: str, uow: Uow, user: CurrentUser):
    # A county's supervisor gets the ledger of that county's cases only, of the rounds he reads.
    round_edits.readable_round(uow, round_code, user=user)
    return _download(exports.ledger_download(uow, round_code, fmt=fmt, scope_path=user.scope_path))


def _download(download: exports.Download, *, inline: bool = False) -> Response:
    return report_response(
        download.content,
        filename=download.filename,
        content_type=download.content_type,
        inline=inline,
    )
