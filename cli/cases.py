"""``rectify cases`` and ``rectify case ...``: list, show and move cases."""

from __future__ import annotations

from datetime import date

import typer

from cli.context import (
    console,
    handled_errors,
    local,
    open_app,
    print_json,
    print_table,
    refuse,
    time_header,
)
from services.cases import detail as case_detail
from services.cases import queries
from services.cases import transitions as case_service
from states.lifecycle import (
    EVENT_LABELS,
    PERSON_TRIGGERS,
    SEVERITY_LABELS,
    STATE_LABELS,
    TRIGGER_LABELS,
    CaseState,
    Trigger,
)

case_app = typer.Typer(help="单个案件：查看与流转", no_args_is_help=True)


_CASE_ID = "案件编号（见 rectify cases）"
_STATES = "、".join(f"{label} ({code})" for code, label in STATE_LABELS.items())


def register(app: typer.Typer) -> None:
    app.command("cases", help="列出整改案件，可按状态、单位、轮次、问题类别等筛选")(list_cases)
    app.add_typer(case_app, name="case")


def list_cases(
    state: str = typer.Option(None, "--state", help=f"状态（名称或代码）：{_STATES}"),
    unit: str = typer.Option(None, "--unit", help="单位代码（含其下级单位）"),
    round_code: str = typer.Option(None, "--round", help="检查轮次，如 2021Q2"),
    category: str = typer.Option(None, "--category", help="问题类别代码"),
    overdue: bool = typer.Option(False, "--overdue", help="只列出已超期的案件"),
    escalated: bool = typer.Option(False, "--escalated", help="只列出已升级的案件"),
    text: str = typer.Option(None, "--search", help="按描述、对象或单位名称搜索"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """List cases (整改案件) with filters."""
    filters = queries.CaseFilters(
        state=_state_code(state) if state else None,
        unit_code=unit,
        round_code=round_code,
        category=category,
        overdue=overdue,
        escalated=escalated,
        text=text,
    )
    with handled_errors(), open_app() as application, application.uow() as uow:
        rows = queries.list_cases(uow, filters)
    if as_json:
        print_json(rows)
        return
    print_table(
        f"整改案件（共 {len(rows)} 件）",
        [
            "编号",
            "轮次",
            "责任单位",
            "监测对象",
            "问题类别",
            "状态",
            "整改期限",
            "超期天数",
            "升级",
        ],
        [
            [
                r.id,
                r.round,
                r.unit,
                r.target,
                r.category_name,
                STATE_LABELS.get(r.state, r.state),
                r.deadline,
                r.overdue_days or "",
                r.escalation_level or "",
            ]
            for r in rows
        ],
    )


@case_app.command("show", help="显示一个案件：问题、期限、往期同一问题和处理记录")
def show(
    case_id: int = typer.Argument(..., help=_CASE_ID),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
) -> None:
    """Show one case with its repeat chain and history."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        detail = case_detail.case_detail(uow, case_id)
    if as_json:
        print_json(detail)
        return
    row = detail.case
    console.print(
        f"[bold]案件 {row.id}[/bold]  {row.round}  {row.category_name}（{SEVERITY_LABELS.get(row.severity, row.severity)}）",
        highlight=False,
    )
    console.print(f"责任单位：{row.unit}    监测对象：{row.target}", highlight=False)
    console.print(f"问题描述：{row.description}", highlight=False)
    console.print(
        f"状态：{named_state(row.state)}    整改期限：{row.deadline or '未设定'}"
        + (f"    已超期 {row.overdue_days} 天" if row.overdue_days else "")
        + f"    升级次数：{row.escalation_level}",
        highlight=False,
    )
    console.print(
        f"累计通报：市级 {row.notices_city} 次，省级 {row.notices_province} 次，"
        f"县级 {row.notices_county} 次",
        highlight=False,
    )
    if detail.chain:
        console.print(
            "往期同一问题："
            + "，".join(
                f"{c.round} 案件{c.id}（{STATE_LABELS.get(c.state, c.state)}）"
                for c in detail.chain
            ),
            highlight=False,
        )
    print_table(
        "处理记录",
        [time_header(), "操作", "状态变化", "操作人", "备注"],
        [
            [
                local(e.at),
                EVENT_LABELS.get(e.trigger, e.trigger),
                f"{_state(e.from_state) if e.from_state else '—'} → {_state(e.to_state)}",
                e.actor_label,
                "；".join(text for text in (e.change, e.note) if text),
            ]
            for e in detail.events
        ],
    )
    console.print(allowed_actions(detail.allowed_triggers, row.id), highlight=False)
    if row.state == CaseState.CONTINUED and (successor := detail.continued_by):
        console.print(
            f"已转入下一轮：由案件 {successor} 接续整改（rectify case show {successor}）",
            highlight=False,
        )


def named_state(state: str) -> str:
    """A state as a clerk reads it, with the code the commands take: 「已通知 (notified)」."""
    return f"{STATE_LABELS.get(state, state)} ({state})"


def allowed_actions(triggers: list[str], case_id: int) -> str:
    """「可执行操作：开始整改 (start)、提交整改 (submit)；命令：rectify case <操作> 5 --actor 姓名」."""
    if not triggers:
        return "可执行操作：无"
    names = "、".join(f"{TRIGGER_LABELS.get(t, t)} ({t})" for t in triggers)
    return f"可执行操作：{names}；命令：rectify case <操作> {case_id} --actor 姓名"


def _state_code(value: str) -> str:
    """``--state`` as a code (notified) or a name (已通知); anything else is refused in Chinese."""
    by_label = {label: str(code) for code, label in STATE_LABELS.items()}
    code = by_label.get(value.strip(), value.strip())
    if code not in STATE_LABELS:
        refuse(f"没有这个状态：{value}（可选：{_STATES}）")
    return code


def _state(state: str) -> str:
    return STATE_LABELS.get(state, state)


def _transition_command(trigger: Trigger):
    def command(
        case_id: int = typer.Argument(..., help=_CASE_ID),
        actor: str = typer.Option(..., "--actor", help="操作人姓名"),
        note: str = typer.Option(None, "--note", help="备注（退回时必填：退回理由）"),
        version: int = typer.Option(None, "--version", help="预期的案件版本号（防止并发覆盖）"),
    ) -> None:
        with handled_errors(), open_app() as application, application.uow() as uow:
            result = case_service.transition(
                uow,
                case_id=case_id,
                trigger=trigger,
                actor=actor,
                note=note,
                expected_version=version,
            )
            uow.commit()
        console.print(
            f"案件 {result.case_id}：{STATE_LABELS[result.from_state]} → {STATE_LABELS[result.to_state]}"
            + (
                f"，整改期限 {result.deadline}"
                if trigger == Trigger.NOTIFY and result.deadline
                else ""
            ),
            highlight=False,
        )

    command.__doc__ = f"Fire '{trigger}' on a case."
    return command


for _trigger in PERSON_TRIGGERS:
    case_app.command(str(_trigger), help=f"案件操作：{TRIGGER_LABELS[_trigger]}")(
        _transition_command(_trigger)
    )


@case_app.command("extend", help="延长案件的整改期限（记入处理记录）")
def extend(
    case_id: int = typer.Argument(..., help=_CASE_ID),
    until: str = typer.Option(..., "--until", help="新的整改期限 YYYY-MM-DD"),
    reason: str = typer.Option(..., "--reason", help="延期理由"),
    actor: str = typer.Option(..., "--actor", help="操作人姓名"),
) -> None:
    """Extend a case's deadline (recorded in its history)."""
    with handled_errors(), open_app() as application, application.uow() as uow:
        case_service.extend_deadline(
            uow, case_id=case_id, new_deadline=date.fromisoformat(until), reason=reason, actor=actor
        )
        uow.commit()
    console.print(f"案件 {case_id} 的整改期限已延长至 {until}", highlight=False)
