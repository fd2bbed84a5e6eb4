"""A round's notice settings: its issuer, texts and options beside their defaults, a preview.

Saving checks every field first (each refused one named, the form shown again as typed,
nothing stored), then builds the notice with the new values inside the transaction: a value
that would make the notice fail is refused there too, so nothing stored can break it later.
"预览" shows the notice with the typed values without storing them.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from services.access.users import UserView
from services.core.errors import NotFound, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Round
from services.reports import notice as notice_service
from services.rounds import blocks, issuers, published
from services.rounds import edits as round_edits
from services.rounds.notice_settings import KIND_LABELS, TEXTS
from services.rounds.setting_checks import TEXT_WORDS
from web import block_forms, notice_forms
from web.deps import Csrf, CurrentUser, Uow
from web.notice_forms import Form, Reading
from web.templating import flash, render

router = APIRouter(include_in_schema=False)
ROUND_TEXTS = tuple(TEXTS)
NO_ISSUER = ""


@router.get("/rounds/{round_code}/notice")
def notice_page(request: Request, round_code: str, uow: Uow, user: CurrentUser):
    round_ = round_edits.readable_round(uow, round_code, user=user)
    return _page(request, uow, user, round_)


def _preview(uow: UnitOfWork, round_code: str) -> tuple[Any, list[str]]:
    """The notice as the round's values make it now, or what stops it being made."""
    try:
        return notice_service.build_notice(uow, round_code), []
    except ValidationFailed as exc:
        return None, exc.errors


def _page(
    request: Request,
    uow: UnitOfWork,
    user: UserView,
    round_: Round,
    *,
    typed: FormData | None = None,
    reading: Reading | None = None,
    previewing: bool = False,
    block_kind: str = "",
    block_errors: list[str] | None = None,
    status_code: int = 200,
):
    errors = reading.errors if reading else {}
    block_errors = block_errors or []
    stored = round_.notice_texts or {}
    inherited = round_.issuer.options if round_.issuer is not None else {}
    texts = notice_forms.text_fields(
        stored,
        notice_service.text_defaults(round_),
        keys=ROUND_TEXTS,
        typed=typed,
        errors=errors,
    )
    rows = notice_forms.option_rows(stored, inherited or {}, typed=typed, errors=errors)
    notice, problems = (None, []) if errors or block_errors else _preview(uow, round_.code)
    chosen = round_.issuer.unit.code if round_.issuer is not None else NO_ISSUER
    if typed is not None and "issuer" in typed:
        chosen = str(typed["issuer"])
    return render(
        request,
        "rounds/notice.html",
        status_code=status_code,
        user=user,
        round=round_,
        may_edit=user.can_act and issuers.can_manage(user.scope_path, round_.issuer),
        published=published.of_round(uow, round_),
        issuers=issuers.list_issuers(uow, scope_path=user.scope_path),
        chosen=chosen,
        texts=texts,
        rows=rows,
        options_open=notice_forms.has_values(rows),
        kinds=KIND_LABELS,
        words=TEXT_WORDS,
        errors=list(errors.values()) + problems,
        field_errors=errors,
        notice=notice,
        previewing=previewing,
        block_forms=block_forms.forms(
            round_.blocks, typed_kind=block_kind, typed=typed if block_kind else None
        ),
        block_kind=block_kind,
        block_errors=block_errors,
    )


def _read(uow: UnitOfWork, user: UserView, round_: Round, form: FormData) -> Reading:
    reading = Reading()
    if "issuer" in form:
        code = str(form["issuer"]).strip()
        allowed = {i.unit.code for i in issuers.list_issuers(uow, scope_path=user.scope_path)}
        if code != NO_ISSUER and code not in allowed:
            reading.errors["issuer"] = f"发文机关「{code[:64]}」不存在或不在您的管辖范围内"
    where = f"检查轮次 {round_.code} 的通报文本"
    notice_forms.read_texts(form, ROUND_TEXTS, reading, where=where)
    notice_forms.read_options(form, round_.notice_texts or {}, reading, uow=uow)
    return reading


def _apply(
    uow: UnitOfWork, user: UserView, round_: Round, form: FormData, reading: Reading
) -> dict[str, str]:
    """Store what the form asks (flushed, not committed); a refused issuer, at its field."""
    code = round_.code
    if "issuer" in form:
        chosen = str(form["issuer"]).strip() or None
        current = round_.issuer.unit.code if round_.issuer is not None else None
        try:
            if chosen != current:
                round_edits.set_round_issuer(uow, code, chosen, user=user)
        except ValidationFailed as exc:  # an office whose subtree does not hold the round's data
            return {"issuer": "；".join(exc.errors)}
    if reading.texts:
        round_edits.set_round_texts(uow, code, reading.texts, user=user)
    for path, kind, lines in reading.options:
        round_edits.clear_round_option(uow, code, path, kind=kind, user=user)
        for line in lines:
            round_edits.set_round_option(uow, code, path, line, kind=kind, user=user)
    return {}


@router.post("/rounds/{round_code}/notice", dependencies=[Csrf])
def save_notice(request: Request, round_code: str, uow: Uow, user: CurrentUser, form: Form):
    round_ = round_edits.editable_round(uow, round_code, user=user)
    previewing = form.get("action") == "preview"
    reading = _read(uow, user, round_, form)
    if reading.errors:  # the form again, as typed, each refused field named; nothing stored
        return _page(request, uow, user, round_, typed=form, reading=reading, status_code=400)
    try:
        reading.errors = _apply(uow, user, round_, form, reading)
        problems = [] if previewing or reading.errors else _preview(uow, round_code)[1]
    except ValidationFailed as exc:
        problems = exc.errors
    if reading.errors or problems:  # refused by a service, or no notice could be made: none stored
        reading.errors |= {f"notice{n}": text for n, text in enumerate(problems)}
        return _page(request, uow, user, round_, typed=form, reading=reading, status_code=400)
    if previewing:  # shown with the typed values; leaving the unit of work rolls them back
        return _page(request, uow, user, round_, typed=form, previewing=True)
    uow.commit()
    flash(request, f"检查轮次 {round_code} 的通报设置已保存")
    return RedirectResponse(f"/rounds/{quote(round_code)}/notice#preview", status_code=303)


@router.post("/rounds/{round_code}/blocks/{kind}", dependencies=[Csrf])
def save_block(
    request: Request, round_code: str, kind: str, uow: Uow, user: CurrentUser, form: Form
):
    """One data block of the round from its form: stored when good, removed when emptied."""
    round_ = round_edits.editable_round(uow, round_code, user=user)
    if not block_forms.known(kind):
        raise NotFound(f"没有名为「{kind[:40]}」的通报数据块")
    data = block_forms.read(kind, form)
    try:
        if data:
            blocks.set_block(uow, round_.code, kind, data)
        else:
            blocks.clear_block(uow, round_.code, kind)
        _, problems = _preview(uow, round_.code)
        if problems:
            raise ValidationFailed(problems)
    except ValidationFailed as exc:  # the form again, as typed; leaving the uow stores nothing
        return _page(
            request,
            uow,
            user,
            round_,
            typed=form,
            block_kind=kind,
            block_errors=exc.errors,
            status_code=400,
        )
    uow.commit()
    label = blocks.KINDS[kind]
    flash(request, f"检查轮次 {round_code} 的{label}数据已{'保存' if data else '删除'}")
    return RedirectResponse(f"/rounds/{quote(round_code)}/notice#block-{kind}", status_code=303)
