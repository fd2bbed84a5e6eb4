"""Issuing offices (发文机关): listed in the user's scope, edited by those who run their rounds.

An issuer's page holds its names, level and document-number pattern, its default notice texts
(the installation's default shown beside each) and its default options. A supervisor edits the
issuers of his subtree only (others answer 403, even to read); a viewer reads; an admin also
makes a unit an issuer.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from services.access.users import UserView
from services.core.errors import Forbidden, ValidationFailed
from services.core.uow import UnitOfWork
from services.db.issuer_models import Issuer
from services.registry import listings
from services.reports.files import TEMPLATES, load_yaml
from services.rounds import issuers
from services.rounds.notice_settings import KIND_LABELS, TEXTS
from services.rounds.setting_checks import TEXT_WORDS
from web import notice_forms
from web.deps import Csrf, CurrentUser, Uow
from web.notice_forms import Form, Reading
from web.templating import flash, render

router = APIRouter(include_in_schema=False)
#: The texts an issuer holds (its names are fields of their own).
ISSUER_TEXTS = tuple(key for key in TEXTS if key not in issuers.NAME_TEXTS)
SPEC_FIELDS = ("name", "short_name", "level", "doc_pattern")


def installation_texts() -> dict:
    """The installation's default texts (notice_texts.yaml), shown beside an issuer's own."""
    return dict(load_yaml(TEMPLATES / "notice_texts.yaml"))


def _spec(unit_code: str, form: FormData, issuer: Issuer | None) -> issuers.IssuerSpec:
    def value(name: str) -> str:
        if name in form:
            return str(form[name]).strip()
        return (getattr(issuer, name) or "") if issuer is not None else ""

    return issuers.IssuerSpec(
        unit_code=unit_code.strip(),
        name=value("name"),
        short_name=value("short_name"),
        level=value("level"),
        doc_pattern=value("doc_pattern") or None,
    )


@router.get("/issuers")
def issuer_list(request: Request, uow: Uow, user: CurrentUser):
    return _list_page(request, uow, user)


def _list_page(
    request: Request,
    uow: UnitOfWork,
    user: UserView,
    *,
    typed: FormData | None = None,
    errors: list[str] | None = None,
    status_code: int = 200,
):
    rows = issuers.list_issuers(uow, scope_path=user.scope_path)
    taken = {issuer.unit_id for issuer in issuers.list_issuers(uow)}
    units = [u for u in listings.list_units(uow, scope_path=user.scope_path) if u.id not in taken]
    return render(
        request,
        "issuers/list.html",
        status_code=status_code,
        user=user,
        rows=rows,
        units=units,
        levels=issuers.LEVELS,
        typed=typed or {},
        errors=errors or [],
    )


@router.post("/issuers", dependencies=[Csrf])
def create_issuer(request: Request, uow: Uow, user: CurrentUser, form: Form):
    user.require_admin()
    unit_code = str(form.get("unit_code", "")).strip()
    spec = _spec(unit_code, form, None)
    errors = spec.problems()
    if not errors and any(i.unit.code == unit_code for i in issuers.list_issuers(uow)):
        errors = [f"单位 {unit_code} 已是发文机关，请在其页面修改"]
    if not errors:
        try:
            issuers.upsert_issuer(uow, spec)
        except ValidationFailed as exc:
            errors = exc.errors
    if errors:  # the form again, as typed, with every problem named; nothing stored
        return _list_page(request, uow, user, typed=form, errors=errors, status_code=400)
    uow.commit()
    flash(request, f"发文机关 {spec.name} 已创建")
    return RedirectResponse(f"/issuers/{quote(unit_code)}", status_code=303)


def _readable(uow: UnitOfWork, user: UserView, unit_code: str) -> Issuer:
    """The issuer of the unit, if the user's scope holds it (403 otherwise, even to read)."""
    issuer = issuers.get_issuer(uow, unit_code)
    if not issuers.can_manage(user.scope_path, issuer):
        raise Forbidden(f"{issuer.name}不在您的管辖范围内，不能查看或修改")
    return issuer


@router.get("/issuers/{unit_code}")
def issuer_page(request: Request, unit_code: str, uow: Uow, user: CurrentUser):
    return _edit_page(request, user, _readable(uow, user, unit_code))


def _edit_page(
    request: Request,
    user: UserView,
    issuer: Issuer,
    *,
    typed: FormData | None = None,
    reading: Reading | None = None,
    status_code: int = 200,
):
    errors = reading.errors if reading else {}
    spec = _spec(issuer.unit.code, typed or FormData(), issuer)
    texts = notice_forms.text_fields(
        issuer.texts or {}, installation_texts(), keys=ISSUER_TEXTS, typed=typed, errors=errors
    )
    rows = notice_forms.option_rows(issuer.options or {}, {}, typed=typed, errors=errors)
    return render(
        request,
        "issuers/edit.html",
        status_code=status_code,
        user=user,
        issuer=issuer,
        spec=spec,
        may_edit=user.can_act,
        levels=issuers.LEVELS,
        labels=issuers.ISSUER_LABELS,
        texts=texts,
        rows=rows,
        options_open=notice_forms.has_values(rows),
        kinds=KIND_LABELS,
        words=TEXT_WORDS,
        errors=list(errors.values()),
        field_errors=errors,
    )


@router.post("/issuers/{unit_code}", dependencies=[Csrf])
def save_issuer(request: Request, unit_code: str, uow: Uow, user: CurrentUser, form: Form):
    issuer = _readable(uow, user, unit_code)
    user.require_acting()
    spec = _spec(issuer.unit.code, form, issuer)
    reading = Reading(errors=dict(spec.field_problems()))
    where = f"发文机关 {issuer.name} 的通报文本"
    notice_forms.read_texts(form, ISSUER_TEXTS, reading, where=where)
    notice_forms.read_options(form, issuer.options or {}, reading, uow=uow)
    if reading.errors:  # the form again, as typed, each refused field named; nothing stored
        return _edit_page(request, user, issuer, typed=form, reading=reading, status_code=400)
    issuers.upsert_issuer(uow, spec)
    issuers.set_texts(uow, issuer, reading.texts)
    for path, kind, lines in reading.options:
        issuers.clear_option(uow, issuer, path, kind=kind)
        for line in lines:
            issuers.set_option(uow, issuer, path, line, kind=kind)
    uow.commit()
    flash(request, f"发文机关 {spec.name} 已保存")
    return RedirectResponse(f"/issuers/{quote(issuer.unit.code)}", status_code=303)
