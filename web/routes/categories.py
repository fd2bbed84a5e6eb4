"""The problem-category catalogue: listed for everyone, added and edited by its maintainers.

A form field left out keeps the stored value (so the edit form changes what it shows); an
empty one clears an optional field. Wording is edited one target kind at a time (``kind``).
A refused form comes back as typed, each problem named at its field; nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from services.access.users import UserView
from services.core.deadlines import MODE_LABELS
from services.core.errors import NotFound
from services.core.uow import UnitOfWork
from services.registry import catalogue, edits
from services.registry.catalogue import CategoryView
from services.registry.category_spec import (
    ALL_KINDS,
    SEVERITY_LABELS,
    WORDING_KEYS,
    CategorySpec,
    parse_kind,
    read_changes,
)
from services.registry.units import TARGET_KINDS
from web.deps import Csrf, CurrentUser, Uow
from web.notice_forms import Form
from web.templating import flash, render

router = APIRouter(include_in_schema=False)
SHOWN = {"all": None, "active": False, "retired": True}
WORDS = ("heading", "phrase", "elaboration")
#: The spec's fields a form sets, as the form names them (their order: the errors' order).
FORM_FIELDS = {
    "code": "code",
    "name": "name",
    "target_kinds": "kinds",
    "severity": "severity",
    "deadline_days": "deadline_days",
    "deadline_mode": "deadline_mode",
    "check": "check",
    "theme": "theme",
    "rule": "rule",
    "sort_order": "sort_order",
    "notice_heading": "heading",
    "wording": "wording",
}


@dataclass(frozen=True)
class Refused:
    """A form sent back: which one (``add`` or ``edit``), what was typed, each field's errors."""

    form: str
    typed: FormData
    errors: dict[str, list[str]]

    @property
    def messages(self) -> list[str]:
        return [message for found in self.errors.values() for message in found]


@router.get("/categories")
def categories(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    code: str = "",
    kind: str = "",
    show: str = "all",
    q: str = "",
):
    """The catalogue; ``code`` opens a category's edit form on ``kind``'s wording."""
    return _page(request, uow, user, code=code, kind=_kind(kind)[0], show=show, q=q)


def _kind(text: str | None) -> tuple[str, str | None]:
    """The wording's target kind (every kind when unreadable) and why it was unreadable."""
    try:
        return parse_kind(text or ""), None
    except ValueError as exc:
        return ALL_KINDS, str(exc)


def _page(
    request: Request,
    uow: UnitOfWork,
    user: UserView,
    *,
    code: str = "",
    kind: str = ALL_KINDS,
    show: str = "all",
    q: str = "",
    refused: Refused | None = None,
):
    rows = catalogue.list_categories(uow, retired=SHOWN.get(show), text=q or None)
    editing = next((c for c in rows if c.code == code), None)
    if code and editing is None:
        editing = next((c for c in catalogue.list_categories(uow) if c.code == code), None)
    wording = _wording(editing, kind)
    typed = refused.typed if refused else None
    return render(
        request,
        "registry/categories.html",
        status_code=400 if refused else 200,
        user=user,
        rows=rows,
        editing=editing,
        wording_kind=kind,
        edit_values=_shown(editing, wording, typed if refused and refused.form == "edit" else None),
        add_values=_shown(None, {}, typed if refused and refused.form == "add" else None),
        refused=refused,
        may_edit=edits.may_edit_categories(user),
        show=show if show in SHOWN else "all",
        q=q,
        checks=catalogue.check_options(),
        severities=SEVERITY_LABELS,
        modes=MODE_LABELS,
        kind_labels=TARGET_KINDS,
        wording_keys={k: WORDING_KEYS[k] for k in WORDS},
    )


def _wording(editing: CategoryView | None, kind: str) -> dict[str, str]:
    if editing is None:
        return {}
    wording = dict(editing.wording.get(kind, {}))
    if kind == ALL_KINDS:
        wording["heading"] = editing.notice_heading or ""
    return wording


def _shown(view: CategoryView | None, wording: dict, typed: FormData | None) -> dict[str, Any]:
    """What a form shows: the stored values, or what was typed into a refused form."""
    values: dict[str, Any] = {
        "code": view.code if view else "",
        "name": view.name if view else "",
        "kinds": list(view.target_kinds) if view else [],
        "severity": view.severity if view else "",
        "deadline_days": str(view.deadline_days or "") if view else "",
        "deadline_mode": (view.deadline_mode or "") if view else "",
        "check": (view.check or "") if view else "",
        "theme": (view.theme or "") if view else "",
        "rule": (view.rule or "") if view else "",
        "sort_order": str(view.sort_order) if view else "100",
        "retired": "1" if view and view.retired else "0",
    } | {key: str(wording.get(key) or "") for key in WORDS}
    if typed is None:
        return values
    for name in values:
        if name == "kinds" and "kinds" in typed:
            values["kinds"] = [k for k in typed.getlist("kinds") if k]
        elif name != "kinds" and name in typed:
            values[name] = str(typed[name])
    return values


def _read(form: FormData) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The spec changes a form asks for (each field it sent, parsed) and what is unreadable."""
    values: dict[str, str | None] = {
        name: str(form[field]) if field in form else None
        for name, field in FORM_FIELDS.items()
        if name not in ("code", "notice_heading", "wording")
    }
    if "kinds" in form:  # checkboxes, after a hidden empty one: none ticked is every kind
        values["target_kinds"] = "、".join(k.strip() for k in form.getlist("kinds") if k.strip())
    return read_changes(values)


def _problems(
    uow: UnitOfWork, spec: CategorySpec, unread: list[tuple[str, str]], *, adding: bool
) -> dict[str, list[str]]:
    """Every problem by form field, in the form's order; a value that could not be read is
    named once (not again as the empty value it left in the spec)."""
    skipped = {name for name, _ in unread}
    found = unread + [
        (name, message)
        for name, message in catalogue.spec_problems(uow, spec, adding=adding)
        if name not in skipped
    ]
    order = list(FORM_FIELDS)
    found.sort(key=lambda problem: order.index(problem[0]) if problem[0] in order else len(order))
    errors: dict[str, list[str]] = {}
    for name, message in found:
        errors.setdefault(FORM_FIELDS.get(name, name), []).append(message)
    return errors


def _words(form: FormData) -> dict[str, str | None]:
    return {key: str(form[key]) if key in form else None for key in WORDS}


@router.post("/categories", dependencies=[Csrf])
def add_category(request: Request, uow: Uow, user: CurrentUser, form: Form):
    edits.require_category_editor(user)
    changes, unread = _read(form)
    changes |= catalogue.wording_changes(None, ALL_KINDS, _words(form))
    code = str(form.get("code") or "").strip()
    spec = CategorySpec(code=code, name="", severity="").changed(**changes)
    errors = _problems(uow, spec, unread, adding=True)
    if errors:  # the form again, as typed, every problem at its field; nothing stored
        return _page(request, uow, user, refused=Refused("add", form, errors))
    saved = edits.add_category(uow, user=user, spec=spec)
    flash(request, f"问题类别 {saved} 已添加")
    return RedirectResponse("/categories", status_code=303)


@router.post("/categories/{category_code}", dependencies=[Csrf])
def edit_category(request: Request, uow: Uow, user: CurrentUser, category_code: str, form: Form):
    edits.require_category_editor(user)
    current = catalogue.find(uow, category_code)
    if current is None or current.code != category_code:
        raise NotFound(f"问题类别「{category_code[:60]}」不存在")
    changes, unread = _read(form)
    if "retired" in form:
        changes["retired"] = str(form["retired"]).strip() in ("1", "true", "on", "是", "停用")
    kind, unreadable = _kind(str(form["kind"]) if "kind" in form else None)
    if unreadable:
        unread.append(("wording", unreadable))
    changes |= catalogue.wording_changes(current, kind, _words(form))
    spec = catalogue.spec_of(current).changed(**changes)
    errors = _problems(uow, spec, unread, adding=False)
    if errors:  # the form again, as typed, every problem at its field; nothing stored
        refused = Refused("edit", form, errors)
        return _page(request, uow, user, code=current.code, kind=kind, refused=refused)
    saved = edits.edit_category(uow, user=user, code=category_code, changes=changes)
    flash(request, f"问题类别 {saved} 已保存")
    return RedirectResponse("/categories", status_code=303)
