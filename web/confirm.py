"""The confirmation shown before an action that mails many units (确认发送 / 取消).

Publishing a round and the case list's bulk notify and escalate show it first: what the
action will send, to how many units, for how many cases, computed by the code that will
queue the emails (``services.rounds.publication.plan``, ``services.cases.actions.
bulk_preview``). Only the form it shows, posted with ``confirmed=1``, acts.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse

from services.access.users import UserView
from services.cases import actions
from services.cases.actions import BulkPreview
from services.core.uow import UnitOfWork
from services.rounds.publication import PublicationPlan
from states import Trigger
from web.templating import flash, render

#: The form field that says the person saw the confirmation and confirmed it.
CONFIRMED = "confirmed"


@dataclass(frozen=True)
class Confirmation:
    title: str
    nav: str
    sentence: str
    action: str
    cancel: str
    fields: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    refused: tuple[str, ...] = ()
    headers: tuple[str, ...] = ()
    rows: tuple[tuple, ...] = ()
    #: Why the action cannot be confirmed (no 确认发送 button), "" when it can.
    blocked: str = ""


def page(request: Request, user: UserView, confirmation: Confirmation):
    return render(request, "confirm_mail.html", user=user, c=confirmation)


def publication(plan: PublicationPlan) -> Confirmation:
    """Publishing a round: one email per unit, the cases each notifies or lists again."""
    code = plan.round_code
    notes = []
    if plan.cases:
        notes.append(f"发布后，{plan.cases} 个案件由「已发现」转为「已通知」，开始计算整改期限。")
    if plan.earlier:
        notes.append(
            f"另有 {plan.earlier} 个案件此前已单独通知：邮件中单独列出，"
            "不再重复通知，也不附新的填报链接。"
        )
    blocked = ""
    if plan.state.published:
        blocked = f"检查轮次 {code} {plan.state.text}，不能再次发布，也不会发送邮件。"
        notes = []
        if plan.cases:  # found after the publication: each is notified on its own
            notes.append(f"此后新增的 {plan.cases} 个案件尚未通知，请在案件列表中勾选后批量通知。")
    return Confirmation(
        title=f"发布检查轮次 {code} 并通知",
        nav="rounds",
        sentence=plan.sentence,
        action=f"/rounds/{quote(code, safe='')}/publish",
        cancel="/rounds",
        notes=tuple(notes),
        problems=tuple(n.problem for n in plan.undeliverable),
        headers=("单位", "邮件", "本次通知的案件", "此前已通知的案件"),
        rows=tuple((n.unit_name, 1, len(n.new), len(n.earlier)) for n in plan.notices),
        blocked=blocked,
    )


def bulk(preview: BulkPreview, *, case_ids: list[int], note: str, back: str) -> Confirmation:
    """A bulk notify or escalation from the case list: an email per case moved."""
    result, mail = preview.result, preview.mail
    escalating = result.trigger == Trigger.ESCALATE
    kind = "督办" if escalating else "通知"
    units = f"{mail.units} 个上级单位" if escalating else f"{mail.units} 个单位"
    sentence = f"将向 {units}发送 {mail.emails} 封{kind}邮件，涉及 {len(result.done)} 个案件"
    notes = ("督办邮件发给上级单位负责人，抄送责任单位联系人。",) if escalating else ()
    fields = [("action", result.trigger), *(("case_ids", str(i)) for i in case_ids)]
    return Confirmation(
        title=f"批量{preview.label}",
        nav="cases",
        sentence=sentence,
        action="/cases/bulk",
        cancel=back,
        fields=(*fields, ("note", note), ("back", back)),
        notes=notes,
        problems=mail.undeliverable,
        refused=tuple(result.refused),
    )


def before_bulk(
    request: Request,
    uow: UnitOfWork,
    user: UserView,
    *,
    action: str,
    case_ids: list[int],
    note: str,
    back: str,
):
    """The case list's bulk action before it is confirmed: nothing ticked, or nothing the
    action may move, goes back to the list (its filters kept) with a message; else the
    confirmation."""
    user.require_acting()
    if not case_ids:
        flash(request, actions.EMPTY_SELECTION, kind="warn")
        return RedirectResponse(back, status_code=303)
    preview = actions.bulk_preview(uow, user=user, case_ids=case_ids, trigger=action, note=note)
    if not preview.result.done:
        flash(request, "；".join(preview.result.refused), kind="warn")
        return RedirectResponse(back, status_code=303)
    return page(request, user, bulk(preview, case_ids=case_ids, note=note, back=back))
