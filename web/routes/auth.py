"""Sign in and out: a signed HttpOnly session cookie; failures are throttled."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from services.access import users, web_sessions
from web.deps import Csrf, Uow
from web.templating import new_csrf_token, render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only local paths: never redirect a signed-in user to another site."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", next=_safe_next(next), error=None)


@router.post("/login", dependencies=[Csrf])
def login(
    request: Request,
    uow: Uow,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    try:
        user = users.authenticate(
            uow,
            username=username,
            password=password,
            throttle=request.app.state.throttle,
            source=request.client.host if request.client else "",
        )
    except users.LoginRefused as exc:
        return render(request, "login.html", status_code=400, next=_safe_next(next), error=str(exc))
    key = web_sessions.start(uow, user_id=user.id)
    uow.commit()
    request.session.clear()  # a fresh session on sign-in, with a new CSRF token:
    request.session.update(user_id=user.id, sid=key)
    new_csrf_token(request)  # a token seen before sign-in (e.g. planted) stops working
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout", dependencies=[Csrf])
def logout(request: Request, uow: Uow):
    web_sessions.end(uow, request.session.get("sid"))  # a copy of the cookie stops working too
    uow.commit()
    request.session.clear()
    new_csrf_token(request)  # the signed-in session's token is not reused after it
    return RedirectResponse("/login", status_code=303)
