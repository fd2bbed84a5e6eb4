"""The dashboard: counts, urgent cases, pass rates and the trend chart, computed live."""

from __future__ import annotations

from fastapi import APIRouter, Request
from markupsafe import Markup

from services.reports import dashboard as board
from web.deps import CurrentUser, Uow
from web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard(request: Request, uow: Uow, user: CurrentUser):
    data = board.dashboard(uow, scope_path=user.scope_path)
    return render(request, "dashboard.html", user=user, board=data, chart=Markup(data.trend_svg))
