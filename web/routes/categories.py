"""The problem-category catalogue: listed for everyone, added and edited by its maintainers.

A form field left out keeps the stored value (so the edit form changes what it shows); an
empty one clears an optional field. Wording is edited one target kind at a time (``kind``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from services.core.deadlines import MODE_LABELS
from services.core.errors import ValidationFailed
from services.registry import catalogue, edits
from services.registry.category_spec import (
    ALL_KINDS,
    SEVERITY_LABELS,
    WORDING_KEYS,
    CategorySpec,
    changes_from_text,
    parse_kind,
)
from services.registry.units import TARGET_KINDS
from web.deps import Csrf, CurrentUser, Uow
from web.templating import flash, render

router = APIRouter(include_in_schema=False)
Text = Annotated[str | None, Form()]
Kinds = Annotated[list[str] | None, Form()]
SHOWN = {"all": None, "active": False, "retired": True}


def _kind(text: str | None) -> str:
    try:
        return parse_kind(text or "")
    except ValueError as exc:
        raise ValidationFailed([str(exc)]) from None


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
    rows = catalogue.list_categories(uow, retired=SHOWN.get(show), text=q or None)
    editing = next((c for c in rows if c.code == code), None)
    if code and editing is None:
        editing = next((c for c in catalogue.list_categories(uow) if c.code == code), None)
    wording_kind = _kind(kind) if editing is not None else ALL_KINDS
    wording = dict(editing.wording.get(wording_kind, {})) if editing is not None else {}
    if editing is not None and wording_kind == ALL_KINDS:
        wording["heading"] = editing.notice_heading or ""
    return render(
        request,
        "registry/categories.html",
        user=user,
        rows=rows,
        editing=editing,
        wording_kind=wording_kind,
        wording=wording,
        may_edit=edits.may_edit_categories(user),
        show=show if show in SHOWN else "all",
        q=q,
        checks=catalogue.check_options(),
        severities=SEVERITY_LABELS,
        modes=MODE_LABELS,
        kind_labels=TARGET_KINDS,
        wording_keys={k: WORDING_KEYS[k] for k in ("heading", "phrase", "elaboration")},
    )


def _changes(
    *,
    name: str | None,
    kinds: list[str] | None,
    severity: str | None,
    deadline_days: str | None,
    deadline_mode: str | None,
    check: str | None,
    theme: str | None,
    rule: str | None,
    sort_order: str | None,
) -> dict:
    """The spec changes a form asks for: each field it sent, parsed (kinds: checkboxes)."""
    picked = None if kinds is None else "、".join(k for k in kinds if k and k.strip())
    values = {
        "name": name,
        "target_kinds": picked,
        "severity": severity,
        "deadline_days": deadline_days,
        "deadline_mode": deadline_mode,
        "check": check,
        "theme": theme,
        "rule": rule,
        "sort_order": sort_order,
    }
    try:
        return changes_from_text(values)
    except ValueError as exc:
        raise ValidationFailed([str(exc)]) from None


@router.post("/categories", dependencies=[Csrf])
def add_category(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    code: Annotated[str, Form()],
    name: Annotated[str, Form()],
    severity: Annotated[str, Form()],
    kinds: Kinds = None,
    deadline_days: Text = None,
    deadline_mode: Text = None,
    check: Text = None,
    theme: Text = None,
    rule: Text = None,
    sort_order: Text = None,
    heading: Text = None,
    phrase: Text = None,
    elaboration: Text = None,
):
    edits.require_category_editor(user)
    changes = _changes(
        name=name,
        kinds=kinds,
        severity=severity,
        deadline_days=deadline_days,
        deadline_mode=deadline_mode,
        check=check,
        theme=theme,
        rule=rule,
        sort_order=sort_order,
    )
    words = {"heading": heading, "phrase": phrase, "elaboration": elaboration}
    changes |= catalogue.wording_changes(None, ALL_KINDS, words)
    spec = CategorySpec(code=code.strip(), name="", severity="").changed(**changes)
    saved = edits.add_category(uow, user=user, spec=spec)
    flash(request, f"问题类别 {saved} 已添加")
    return RedirectResponse("/categories", status_code=303)


@router.post("/categories/{category_code}", dependencies=[Csrf])
def edit_category(
    request: Request,
    uow: Uow,
    user: CurrentUser,
    category_code: str,
    name: Text = None,
    kinds: Kinds = None,
    severity: Text = None,
    deadline_days: Text = None,
    deadline_mode: Text = None,
    check: Text = None,
    theme: Text = None,
    rule: Text = None,
    sort_order: Text = None,
    retired: Text = None,
    kind: Text = None,
    heading: Text = None,
    phrase: Text = None,
    elaboration: Text = None,
):
    edits.require_category_editor(user)
    changes = _changes(
        name=name,
        kinds=kinds,
        severity=severity,
        deadline_days=deadline_days,
        deadline_mode=deadline_mode,
        check=check,
        theme=theme,
        rule=rule,
        sort_order=sort_order,
    )
    if retired is not None:
        changes["retired"] = retired.strip() in ("1", "true", "on", "是", "停用")
    wording_kind = _kind(kind)
    words = {"heading": heading, "phrase": phrase, "elaboration": elaboration}
    current = (
        catalogue.find(uow, category_code) if any(v is not None for v in words.values()) else None
    )
    changes |= catalogue.wording_changes(current, wording_kind, words)
    saved = edits.edit_category(uow, user=user, code=category_code, changes=changes)
    flash(request, f"问题类别 {saved} 已保存")
    return RedirectResponse("/categories", status_code=303)
