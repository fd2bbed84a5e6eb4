"""Errors become Chinese pages (or JSON under /api), never a stack trace."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from services.core.errors import USER_ERRORS
from web import validation
from web.deps import CsrfFailed, LoginRequired
from web.templating import render

log = logging.getLogger(__name__)

TITLES = {
    400: "请求有误",
    401: "需要身份验证",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持的请求方式",
    409: "操作冲突",
    413: "提交的内容过大",
    503: "暂时无法保存",
    500: "服务器内部错误",
}
MESSAGES = {
    404: "您要找的页面或记录不存在。",
    405: "该地址不支持这种请求方式。",
    500: "服务器处理请求时出错，请稍后重试；如果问题持续，请联系管理员。",
}


def _back(request: Request, status: int) -> str | None:
    """Where 返回 leads: the form's page after a POST; a unit stays inside its portal."""
    parts = request.url.path.strip("/").split("/")
    if parts[0] == "portal":
        # A refused link has nowhere to go back to; otherwise the unit's case list.
        return None if status == 403 and len(parts) <= 2 else f"/portal/{parts[1]}"
    if request.method != "GET":
        # The nearest page: the case above an action, else the form's own page, else higher up.
        above = ["/" + "/".join(parts[:n]) for n in range(len(parts) - 1, 0, -1)]
        for candidate in [*above[:1], "/" + "/".join(parts), *above[1:]]:
            if _has_page(request, candidate):
                return candidate
    return "/"


def _has_page(request: Request, path: str) -> bool:
    scope = {"type": "http", "path": path, "method": "GET", "root_path": "", "app": request.app}
    return any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes)


def error_response(request: Request, status: int, message: str, errors: list[str] | None = None):
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": message, "errors": errors or []}, status_code=status)
    # Under /portal/ a unit reads it in the portal's layout (its name once its link was read).
    portal = request.url.path.startswith("/portal/")
    return render(
        request,
        "portal/error.html" if portal else "error.html",
        unit=getattr(request.state, "portal_unit", None) if portal else None,
        status_code=status,
        status=status,
        title=TITLES.get(status, "出错了"),
        message=message,
        errors=errors or [],
        back=_back(request, status),
    )


async def on_service_error(request: Request, exc: Exception):
    """An error a user can act on: its class says the status (``http_status``), else 400."""
    errors = list(getattr(exc, "errors", []) or [])
    message = str(exc) if not errors or len(errors) > 1 else errors[0]
    hint = getattr(exc, "hint", None)
    if hint:
        message = f"{exc}。{hint}"
    status = getattr(exc, "http_status", 400)
    return error_response(request, status, message, errors if len(errors) > 1 else None)


async def on_login_required(request: Request, exc: Exception):
    if request.url.path.startswith("/api/"):
        return error_response(request, 401, "需要 API 令牌")
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


async def on_csrf(request: Request, exc: Exception):
    return error_response(
        request, 403, "表单已失效（缺少或错误的安全令牌），请刷新页面后重新提交。"
    )


#: Starlette's form parser refuses a field or part over 1 MB with an English HTTPException(400).
TOO_LARGE_DETAILS = ("Field exceeded maximum size", "Part exceeded maximum size")


async def on_http(request: Request, exc: HTTPException):
    message = MESSAGES.get(exc.status_code) or (
        exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else None
    )
    if isinstance(exc.detail, str) and exc.detail.startswith(TOO_LARGE_DETAILS):
        message = "填写的内容过长（每项文字不超过 1 MB），未保存，请精简后重新提交。"
    return error_response(
        request, exc.status_code, message or TITLES.get(exc.status_code, "出错了")
    )


async def on_validation(request: Request, exc: RequestValidationError):
    """A parameter FastAPI refused: each named in Chinese, a number with its allowed range."""
    said = validation.messages(request, exc.errors())
    more = f"；等共 {len(said)} 处" if len(said) > 5 else ""
    message = "请求参数无效：" + "；".join(said[:5]) + more
    return error_response(request, 400, message, said if len(said) > 1 else None)


async def on_crash(request: Request, exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(request, 500, MESSAGES[500])


def install(web: FastAPI) -> None:
    for root in USER_ERRORS:
        web.add_exception_handler(root, on_service_error)
    web.add_exception_handler(LoginRequired, on_login_required)
    web.add_exception_handler(CsrfFailed, on_csrf)
    web.add_exception_handler(HTTPException, on_http)
    web.add_exception_handler(RequestValidationError, on_validation)
    web.add_exception_handler(Exception, on_crash)
