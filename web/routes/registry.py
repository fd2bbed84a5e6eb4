"""Registry and rounds: units, targets and rounds listed and editable (admins edit)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from services.access import unit_links
from services.access.unit_links import IssuedLink
from services.access.users import UserView
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.registry import edits, listings
from services.registry import units as registry
from services.rounds import edits as round_edits
from services.rounds import rounds
from web.deps import AfterId, Csrf, CurrentUser, RowId, Uow
from web.templating import flash, render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form()]


def _opt(value: str) -> str | None:
    return value.strip() or None


def _day(value: str, label: str) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed([f"{label}的日期格式应为 YYYY-MM-DD：{value}"]) from None


def _int(value: str, label: str) -> int | None:
    if not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationFailed([f"{label}应为整数：{value}"]) from None


@router.get("/registry/units")
def units(request: Request, uow: Uow, user: CurrentUser, code: str = ""):
    return units_page(request, uow, user, code)


def units_page(
    request: Request,
    uow: UnitOfWork,
    user: UserView,
    code: str,
    *,
    issued: IssuedLink | None = None,
):
    """The units, one of them open; its portal links for those who may manage them."""
    rows = listings.list_units(uow, scope_path=user.scope_path)
    editing = next((u for u in rows if u.code == code), None)
    links = None
    if editing is not None and unit_links.may_manage(user, editing.path):
        links = unit_links.list_links(uow, unit_id=editing.id)
    return render(
        request,
        "registry/units.html",
        user=user,
        rows=rows,
        editing=editing,
        links=links,
        issued=issued,
    )


@router.post("/registry/units", dependencies=[Csrf])
def save_unit(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    code: Text,
    name: Text,
    kind: Text,
    parent_code: Text = "",
    short_name: Text = "",
    contact_name: Text = "",
    contact_email: Text = "",
    leader_name: Text = "",
    leader_email: Text = "",
):
    spec = registry.UnitSpec(
        code=code.strip(),
        name=name.strip(),
        kind=kind,
        parent_code=_opt(parent_code),
        short_name=_opt(short_name),
        contact_name=_opt(contact_name),
        contact_email=_opt(contact_email),
        leader_name=_opt(leader_name),
        leader_email=_opt(leader_email),
    )
    saved = edits.save_unit(uow, user=user, spec=spec)
    flash(request, f"单位 {saved} 已保存")
    return RedirectResponse("/registry/units", status_code=303)


@router.get("/registry/targets")
def targets(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    unit: str = "",
    q: str = "",
    code: str = "",
    after: AfterId = None,
):
    rows = listings.list_targets(
        uow, scope_path=user.scope_path, unit_code=unit or None, text=q or None, after_id=after
    )
    editing = None
    if code:
        found = listings.list_targets(uow, scope_path=user.scope_path, text=code)
        editing = next((t for t in found if t.code == code), None)
    return render(
        request,
        "registry/targets.html",
        user=user,
        rows=rows,
        editing=editing,
        unit=unit,
        q=q,
        units=listings.list_units(uow, scope_path=user.scope_path),
    )


@router.post("/registry/targets", dependencies=[Csrf])
def save_target(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    code: Text,
    unit_code: Text,
    kind: Text,
    name: Text,
    url: Text = "",
    domain: Text = "",
    platform: Text = "",
    account_name: Text = "",
    status: Text = "operating",
):
    spec = registry.TargetSpec(
        code=code.strip(),
        unit_code=unit_code.strip(),
        kind=kind,
        name=name.strip(),
        url=_opt(url),
        domain=_opt(domain),
        platform=_opt(platform),
        account_name=_opt(account_name),
        status=status,
    )
    saved = edits.save_target(uow, user=user, spec=spec)
    flash(request, f"监测对象 {saved} 已保存")
    return RedirectResponse("/registry/targets", status_code=303)


@router.get("/rounds")
def round_list(request: Request, uow: Uow, user: CurrentUser, code: str = ""):
    rows = listings.list_rounds(uow, scope_path=user.scope_path)
    editing = next((r for r in rows if r.code == code), None)
    return render(
        request,
        "registry/rounds.html",
        user=user,
        rows=rows,
        editing=editing,
    )


@router.post("/rounds", dependencies=[Csrf])
def save_round(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    code: Text,
    period_start: Text,
    period_end: Text,
    title: Text = "",
    notice_date: Text = "",
    doc_number: Text = "",
    deadline: Text = "",
    deadline_days: Text = "",
    deadline_mode: Text = "",
):
    start, end = _day(period_start, "开始日期"), _day(period_end, "结束日期")
    if start is None or end is None:
        raise ValidationFailed(["请填写检查轮次的开始和结束日期"])
    spec = rounds.RoundSpec(
        code=code.strip(),
        period_start=start,
        period_end=end,
        title=_opt(title),
        notice_date=_day(notice_date, "通报日期"),
        doc_number=_opt(doc_number),
        deadline=_day(deadline, "整改期限"),
        deadline_days=_int(deadline_days, "整改天数"),
        deadline_mode=_opt(deadline_mode),
    )
    saved = round_edits.save_round(uow, user=user, spec=spec)
    flash(request, f"检查轮次 {saved} 已保存")
    return RedirectResponse("/rounds", status_code=303)


# A unit's portal links on its page: issue a new one (its URL shown once), revoke one; an
# admin, or a supervisor whose scope holds the unit (``unit_links.may_manage``).
@router.post("/registry/units/{unit_code}/links", dependencies=[Csrf])
def issue_link(request: Request, uow: Uow, user: CurrentUser, unit_code: str):
    issued = unit_links.issue_for_unit(uow, unit_code=unit_code, user=user)
    uow.commit()
    # The page itself shows the URL, once: it is never stored, nor put in the session cookie.
    response = units_page(request, uow, user, unit_code, issued=issued)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/registry/units/{unit_code}/links/{link_id}/revoke", dependencies=[Csrf])
def revoke_link(request: Request, uow: Uow, user: CurrentUser, unit_code: str, link_id: RowId):
    revoked = unit_links.revoke_for_unit(uow, unit_code=unit_code, link_id=link_id, user=user)
    uow.commit()
    flash(
        request,
        f"门户链接 {link_id} 已撤销，单位用它将无法再打开门户"
        if revoked
        else f"门户链接 {link_id} 此前已撤销",
    )
    return RedirectResponse(f"/registry/units?code={quote(unit_code)}#links", status_code=303)
