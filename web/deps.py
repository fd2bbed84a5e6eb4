"""Typed dependencies: the unit of work, the signed-in user, the CSRF check."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, Path, Query, Request
from pydantic import Field

from services.access import users, web_sessions
from services.access.users import UserView
from services.core.errors import NotFound
from services.core.limits import MAX_ID
from services.core.uow import UnitOfWork
from web.templating import csrf_token


class LoginRequired(Exception):
    """No signed-in user: pages answer with a redirect to the login page."""


class CsrfFailed(Exception):
    """A form came without the session's CSRF token."""


def get_uow(request: Request) -> Iterator[UnitOfWork]:
    with request.app.state.rectify.uow() as uow:
        yield uow


Uow = Annotated[UnitOfWork, Depends(get_uow)]


def current_user(request: Request, uow: Uow) -> UserView:
    user_id = request.session.get("user_id")
    if not user_id:
        raise LoginRequired()
    if web_sessions.user_of(uow, request.session.get("sid")) != user_id:
        request.session.clear()  # signed out, expired or ended elsewhere: the cookie is dropped
        raise LoginRequired()
    try:
        return users.get_user(uow, user_id)
    except NotFound:
        request.session.clear()
        raise LoginRequired() from None


CurrentUser = Annotated[UserView, Depends(current_user)]


def check_csrf(request: Request, csrf_token_field: Annotated[str, Form(alias="csrf_token")] = ""):
    expected = request.session.get("csrf") or csrf_token(request)
    if not csrf_token_field or not hmac.compare_digest(csrf_token_field, expected):
        raise CsrfFailed()


Csrf = Depends(check_csrf)

#: Ids, versions and keyset positions in a path, a query string or a form, kept to the column's
#: range (``MAX_ID``, a PostgreSQL integer): larger ones are refused as invalid input (400,
#: naming the parameter) instead of overflowing the database driver (500).
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
AfterId = Annotated[int | None, Query(ge=0, le=MAX_ID)]
FormIds = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Form()]
FormVersion = Annotated[int, Form(ge=0, le=MAX_ID)]
