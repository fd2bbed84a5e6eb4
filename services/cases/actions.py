"""A supervisor acts on cases from the web or the API: scope-checked, one or many at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from services.access.users import UserView
from services.cases import transitions
from services.cases.finding_refs import Known
from services.core.errors import Forbidden, NotFound, ValidationFailed
from services.core.plaintext import invisible
from services.core.uow import UnitOfWork
from services.db.models import Case, CaseEvent, Target, Unit
from services.mail import dry_run
from states import InvalidTransition, Trigger
from states.lifecycle import TRIGGER_LABELS

#: What a person may fire from a page (the recheck proves fixes; units submit via the portal).
MANUAL_TRIGGERS = (Trigger.NOTIFY, Trigger.START, Trigger.VERIFY, Trigger.REJECT, Trigger.ESCALATE)
BULK_TRIGGERS = (Trigger.NOTIFY, Trigger.ESCALATE)
#: What a bulk action without a ticked case says (the list stays, its filters kept).
EMPTY_SELECTION = "请先勾选案件"


@dataclass
class BulkResult:
    trigger: str
    done: list[int] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def _case_in_scope(uow: UnitOfWork, user: UserView, case_id: int) -> Case:
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在")
    if not user.sees(case.unit.path):
        raise Forbidden(f"案件 {case_id} 不在您的管辖范围内")
    return case


def act(
    uow: UnitOfWork,
    *,
    user: UserView,
    case_id: int,
    trigger: str,
    note: str | None,
    expected_version: int | None,
) -> transitions.TransitionResult:
    """Fire one trigger on a case the user may act on; the version guards against races."""
    user.require_acting()
    if trigger not in [str(t) for t in MANUAL_TRIGGERS]:
        raise ValidationFailed([f"不支持的操作：{trigger}"])
    if where := invisible(note):
        raise ValidationFailed([f"备注{where}，请删除后重新提交"])
    _case_in_scope(uow, user, case_id)
    result = transitions.transition(
        uow,
        case_id=case_id,
        trigger=trigger,
        actor=user.display_name,
        actor_kind="user",
        note=(note or "").strip() or None,
        expected_version=expected_version,
        data={"username": user.username},
    )
    uow.commit()
    return result


def extend(
    uow: UnitOfWork, *, user: UserView, case_id: int, new_deadline: str, reason: str
) -> CaseEvent:
    """Extend a case's running deadline (date as typed, YYYY-MM-DD) with a reason; committed."""
    user.require_acting()
    _case_in_scope(uow, user, case_id)
    try:
        day = date.fromisoformat(new_deadline.strip())
    except ValueError:
        shown = new_deadline.strip()[:20]
        raise ValidationFailed(
            [f"新的整改期限应为 YYYY-MM-DD 格式的日期：{shown}" if shown else "请填写新的整改期限"]
        ) from None
    if where := invisible(reason):
        raise ValidationFailed([f"延期理由{where}，请删除后重新提交"])
    event = transitions.extend_deadline(
        uow,
        case_id=case_id,
        new_deadline=day,
        reason=(reason or "").strip(),
        actor=user.display_name,
    )
    uow.commit()
    return event


def bulk(
    uow: UnitOfWork, *, user: UserView, case_ids: list[int], trigger: str, note: str | None = None
) -> BulkResult:
    """Notify or escalate many cases: refused ones are listed, the others all committed."""
    _check_bulk(user, case_ids, trigger)
    result = _bulk_moves(uow, user, case_ids, trigger, note)
    uow.commit()
    return result


@dataclass(frozen=True)
class BulkPreview:
    """What ``bulk`` would do now (done for real in a savepoint, then undone)."""

    result: BulkResult
    mail: dry_run.MailCount

    @property
    def label(self) -> str:
        return TRIGGER_LABELS[Trigger(self.result.trigger)]


def bulk_preview(
    uow: UnitOfWork, *, user: UserView, case_ids: list[int], trigger: str, note: str | None = None
) -> BulkPreview:
    """The cases ``bulk`` would move and refuse, and the emails it would queue: nothing kept."""
    _check_bulk(user, case_ids, trigger)
    result, mail = dry_run.trial(
        uow,
        lambda: _bulk_moves(uow, user, case_ids, trigger, note),
        case_ids=lambda done: done.done,
    )
    return BulkPreview(result, mail)


def _check_bulk(user: UserView, case_ids: list[int], trigger: str) -> None:
    user.require_acting()
    if trigger not in [str(t) for t in BULK_TRIGGERS]:
        raise ValidationFailed([f"批量操作只支持通知或升级督办，不支持：{trigger}"])
    if not case_ids:
        raise ValidationFailed([EMPTY_SELECTION])


def _bulk_moves(
    uow: UnitOfWork, user: UserView, case_ids: list[int], trigger: str, note: str | None
) -> BulkResult:
    """Fire ``trigger`` on each case the user may act on and whose state allows it."""
    result = BulkResult(trigger)
    for case_id in sorted(set(case_ids)):
        try:
            _case_in_scope(uow, user, case_id)
            # transition() checks the move before it changes anything, so a refusal is clean.
            transitions.transition(
                uow,
                case_id=case_id,
                trigger=trigger,
                actor=user.display_name,
                actor_kind="user",
                note=(note or "").strip() or None,
                data={"username": user.username, "bulk": True},
            )
        except (InvalidTransition, NotFound, Forbidden) as exc:
            result.refused.append(f"案件 {case_id}：{exc}")
            continue
        result.done.append(case_id)
    if not result.done and result.refused:
        result.refused.insert(0, f"没有案件可以「{TRIGGER_LABELS[Trigger(trigger)]}」")
    return result


@dataclass(frozen=True)
class Ingested:
    case_id: int
    created: bool
    state: str


def ingest_finding(uow: UnitOfWork, *, user: UserView, finding: transitions.Finding) -> Ingested:
    """Open a case for a detector's finding, or update the one already open for it."""
    user.require_acting()
    target = uow.session.scalar(select(Target).where(Target.code == finding.target_code))
    if target is not None and not user.sees(target.unit.path):
        raise Forbidden(f"监测对象 {finding.target_code} 不在您的管辖范围内")
    case, created = transitions.open_case(uow, finding, actor=user.display_name, actor_kind="user")
    uow.commit()
    return Ingested(case.id, created, case.state)


#: Findings one batch request may carry (a detector splits larger sets into several requests).
MAX_BATCH_FINDINGS = 1000


def ingest_findings(
    uow: UnitOfWork, *, user: UserView, findings: list[transitions.Finding]
) -> list[Ingested]:
    """A detector's batch: every finding opens or updates its case, in one commit, or none
    does; a refusal lists every refused finding by its place in the batch (第 N 条), one
    outside the user's units refuses the batch as forbidden."""
    user.require_acting()
    if not findings:
        raise ValidationFailed(["没有要上报的检测发现"])
    if len(findings) > MAX_BATCH_FINDINGS:
        raise ValidationFailed(
            [f"一次最多上报 {MAX_BATCH_FINDINGS} 条检测发现，本次 {len(findings)} 条，请分批上报"]
        )
    codes = {f.target_code for f in findings}
    query = select(Target.code, Unit.path).join(Target.unit).where(Target.code.in_(codes))
    paths = dict(uow.session.execute(query).all())
    outside = [
        f"第 {number} 条：监测对象 {f.target_code} 不在您的管辖范围内"
        for number, f in enumerate(findings, start=1)
        if f.target_code in paths and not user.sees(paths[f.target_code])
    ]
    if outside:
        raise Forbidden(
            "；".join(outside[:5]) + (f"；等共 {len(outside)} 条" if outside[5:] else "")
        )
    done: list[Ingested] = []
    errors: list[str] = []
    known = Known.load(uow, findings)
    for number, finding in enumerate(findings, start=1):
        try:
            case, created = transitions.open_case(
                uow, finding, actor=user.display_name, actor_kind="user", known=known
            )
        except (ValidationFailed, NotFound, Forbidden) as exc:
            problems = exc.errors if isinstance(exc, ValidationFailed) else [str(exc)]
            errors += [f"第 {number} 条：{problem}" for problem in problems]
            continue
        done.append(Ingested(case.id, created, case.state))
    if errors:
        uow.session.rollback()
        raise ValidationFailed(errors)
    uow.commit()
    return done
