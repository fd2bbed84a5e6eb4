"""Registry and rounds: units, targets and rounds listed and editable (admins edit)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse

from services.access import unit_links
from services.access.unit_links import IssuedLink
from services.access.users import UserView
from services.core.errors import ValidationFailed
from services.core.limits import MAX_ID
from services.core.uow import UnitOfWork
from services.mail import causes, robots
from services.registry import channels, edits, listings
from services.registry import units as registry
from services.rounds import edits as round_edits
from services.rounds import published, rounds
from web.deps import Csrf, CurrentUser, RowId, Uow
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


PageNumber = Annotated[int, Query(ge=1, le=MAX_ID)]


def _query(**params: object) -> str:
    """A query string of the non-empty parameters (the filters a page link keeps)."""
    return urlencode({k: v for k, v in params.items() if v not in (None, "", 1)})


@router.get("/registry/units")
def units(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    code: str = "",
    q: str = "",
    kind: str = "",
    under: str = "",
    page: PageNumber = 1,
    resend: str = "",
):
    """The units, filtered, a page at a time; ``code`` opens one (its edit form, its links)."""
    filters = listings.UnitFilters(text=q.strip() or None, kind=kind or None, under=under or None)
    return units_page(request, uow, user, code, filters, page, resend=resend == "1")


def units_page(
    request: Request,
    uow: UnitOfWork,
    user: UserView,
    code: str,
    filters: listings.UnitFilters = listings.UnitFilters(),  # noqa: B008 - frozen
    number: int = 1,
    *,
    issued: IssuedLink | None = None,
    resend: bool = False,
):
    """The units page, one of them open; its portal links for those who may manage them."""
    found = listings.page_units(uow, filters, scope_path=user.scope_path, number=number)
    editing = listings.unit_row(uow, code, scope_path=user.scope_path) if code else None
    links = recipients = robot_channels = None
    if editing is not None and user.is_admin:  # who edits the unit edits its robots
        robot_channels = channels.list_channels(uow, unit_code=editing.code)
        last = channels.last_deliveries(uow, [c.id for c in robot_channels])
        robot_channels = [(c, last.get(c.id)) for c in robot_channels]
    if editing is not None and unit_links.may_manage(user, editing.path):
        links = unit_links.list_links(uow, unit_id=editing.id)
        to, problem = causes.addresses(editing.name, editing.contact_email, "contact_email")
        recipients = (to, problem.removesuffix("，邮件未发送"))
    kept = {"q": filters.text, "kind": filters.kind, "under": filters.under}
    return render(
        request,
        "registry/units.html",
        user=user,
        page=found,
        rows=found.rows,
        f=kept,
        query=_query(**kept, page=found.number),
        previous_query=_query(**kept, page=found.number - 1),
        next_query=_query(**kept, page=found.number + 1),
        parents=listings.parent_choices(uow, scope_path=user.scope_path),
        editing=editing,
        links=links,
        issued=issued,
        resend=resend and links is not None,
        recipients=recipients,
        ttl_days=unit_links.DEFAULT_TTL.days,
        robot_channels=robot_channels,
        robot_kinds=robots.KINDS,
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
    kind: str = "",
    status: str = "",
    code: str = "",
    page: PageNumber = 1,
):
    """The targets, filtered, a page at a time; ``code`` opens one's edit form (admins)."""
    filters = listings.TargetFilters(
        text=q.strip() or None, kind=kind or None, status=status or None, unit=unit or None
    )
    found = listings.page_targets(uow, filters, scope_path=user.scope_path, number=page)
    kept = {"q": filters.text, "kind": filters.kind, "status": filters.status, "unit": unit}
    return render(
        request,
        "registry/targets.html",
        user=user,
        page=found,
        rows=found.rows,
        f=kept,
        previous_query=_query(**kept, page=found.number - 1),
        next_query=_query(**kept, page=found.number + 1),
        editing=listings.target_row(uow, code, scope_path=user.scope_path) if code else None,
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
    rows = published.with_states(uow, listings.list_rounds(uow, scope_path=user.scope_path))
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


@router.post("/registry/units/{unit_code}/links/resend", dependencies=[Csrf])
def resend_link(
    request: Request, uow: Uow, user: CurrentUser, unit_code: str, confirmed: Text = ""
):
    """Email the unit a new link (queued in the outbox), once the sender has confirmed it."""
    name = unit_links.unit_for_links(uow, unit_code, user=user).name
    if confirmed != "1":  # not through the confirmation: show it
        return units_page(request, uow, user, unit_code, resend=True)
    queued = causes.queue_portal_link(uow, unit_code=unit_code, user=user)
    to = "、".join(queued.to_addrs) if queued is not None else ""
    uow.commit()
    flash(request, f"含新门户链接的邮件已放入发送队列，将发往{name}（{to}）")
    return RedirectResponse(f"/registry/units?code={quote(unit_code)}#links", status_code=303)


# A unit's group robots (企业微信、钉钉、飞书) on its page, for those who edit the unit
# (``channels.editable_unit``): add, disable or enable, remove, and try with a test message.
def _to_channels(unit_code: str) -> RedirectResponse:
    return RedirectResponse(f"/registry/units?code={quote(unit_code)}#channels", status_code=303)


@router.post("/registry/units/{unit_code}/channels", dependencies=[Csrf])
def add_channel(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    unit_code: str,
    kind: Text,
    webhook_url: Text,
    secret: Text = "",
    name: Text = "",
):
    channels.editable_unit(uow, unit_code, user=user)
    view = channels.add_channel(
        uow, unit_code=unit_code, kind=kind, webhook_url=webhook_url, secret=secret, name=name
    )
    uow.commit()
    signed = "，已设置加签密钥" if view.secret else ""
    flash(request, f"已添加{view.kind_label}「{view.name}」{signed}；可发送一条测试消息检查")
    return _to_channels(unit_code)


@router.post("/registry/units/{unit_code}/channels/{channel_id}/enabled", dependencies=[Csrf])
def switch_channel(
    request: Request, uow: Uow, user: CurrentUser, unit_code: str, channel_id: RowId, enabled: Text
):
    channels.channel_of(uow, unit_code, channel_id, user=user)
    view = channels.set_enabled(uow, channel_id=channel_id, enabled=enabled == "1")
    uow.commit()
    state = "已启用" if view.enabled else "已停用，不再向它发送新通知"
    flash(request, f"{view.kind_label}「{view.name}」{state}")
    return _to_channels(unit_code)


@router.post("/registry/units/{unit_code}/channels/{channel_id}/remove", dependencies=[Csrf])
def remove_channel(
    request: Request, uow: Uow, user: CurrentUser, unit_code: str, channel_id: RowId
):
    channels.channel_of(uow, unit_code, channel_id, user=user)
    view = channels.remove_channel(uow, channel_id=channel_id)
    uow.commit()
    flash(request, f"已删除{view.kind_label}「{view.name}」（已发出的消息仍保留在发件箱中）")
    return _to_channels(unit_code)


@router.post("/registry/units/{unit_code}/channels/{channel_id}/test", dependencies=[Csrf])
def test_channel(request: Request, uow: Uow, user: CurrentUser, unit_code: str, channel_id: RowId):
    """Post a test message now, outside the outbox: the pasted URL and secret tried."""
    channels.channel_of(uow, unit_code, channel_id, user=user)
    post = robots.test_post(uow, channel_id=channel_id)
    uow.session.rollback()  # no transaction held open while the robot answers
    problem = robots.send_now(post, timeout=uow.settings.robot_timeout_seconds)
    if problem:
        flash(request, f"测试消息未送达：{problem}", kind="warn")
    else:
        flash(request, "测试消息已发送，请在群里查看是否收到")
    return _to_channels(unit_code)
