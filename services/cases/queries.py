"""Read side: case listings with filters and keyset pages, as plain dataclasses (never ORM
objects); the case page is ``services.case_detail``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Select, and_, bindparam, func, literal, literal_column, or_, select

from services.core.errors import NotFound, ValidationFailed
from services.core.limits import MAX_ID, out_of_range
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.models import Case, Category, Round, Target, Unit
from states import OPEN_STATES, OVERDUE_STATES, CaseState, Standing, standing


@dataclass(frozen=True)
class CaseRow:
    id: int
    round: str
    unit: str
    target: str
    target_kind: str
    category: str
    category_name: str
    severity: str
    state: str
    deadline: date | None
    overdue_days: int
    escalation_level: int
    notices_city: int
    notices_province: int
    notices_county: int
    description: str
    version: int
    round_id: int = 0
    #: Where the case stands today (states.standing): the one reading every list shows.
    standing: Standing | None = None
    #: The later round's case that took a continued case over.
    successor_id: int | None = None


#: The open states in a fixed order (one SQL text, one cached statement).
OPEN_STATE_VALUES = tuple(sorted(str(s) for s in OPEN_STATES))


@dataclass
class CaseFilters:
    state: str | None = None
    unit_code: str | None = None  # the unit and its whole subtree
    round_code: str | None = None
    category: str | None = None
    overdue: bool = False
    escalated: bool = False
    open_only: bool = False  # the open states (states.OPEN_STATES): 未结案件
    text: str | None = None
    after_id: int | None = None  # keyset pagination
    limit: int | None = None
    unit_id: int | None = None  # exactly this unit (the unit portal)
    current_only: bool = False  # leave out cases a later round's case continues
    #: The viewer's unit subtree (materialised path); None sees every unit.
    scope_path: str | None = None
    sort: str = "id"  # a key of SORTS
    descending: bool = False
    cursor: str | None = None  # from CasePage.next_cursor: "<sort value>~<id>"


#: Sort keys of the case list (labels in Chinese for the page).
SORTS = {"id": "编号", "deadline": "整改期限", "escalation": "升级次数", "round": "检查轮次"}
_FAR = date(9999, 12, 31)


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    next_cursor: str | None


def case_rows_query() -> Select:
    return (
        select(Case, Round.code, Unit.name, Target.name, Target.kind, Category.name)
        .join(Round, Round.id == Case.round_id)
        .join(Unit, Unit.id == Case.unit_id)
        .join(Target, Target.id == Case.target_id)
        .join(Category, Category.code == Case.category_code)
    )


def in_overdue_states():
    """``state IN ('notified', 'rectifying', 'escalated')``, the states written out as literals.

    SQLite reads the partial index ``ix_cases_open_deadline`` only for a query that repeats
    the index's WHERE term as it is: with bound parameters it walked ``(state, …)`` and
    sorted (229 ms for the overdue list at 1M cases).
    """
    states = bindparam(
        "overdue_states", [str(s) for s in OVERDUE_STATES], expanding=True, literal_execute=True
    )
    return Case.state.in_(states)


def codes_by_id(uow: UnitOfWork, model: type, ids: Iterable[int]) -> dict[int, str]:
    """Codes of units or targets by id, in one query (for summaries a supervisor reads)."""
    wanted = set(ids)
    if not wanted:
        return {}
    query = select(model.id, model.code).where(bulk.ids_in(uow.session, model.id, wanted))
    return dict(uow.session.execute(query).all())


def list_cases(uow: UnitOfWork, filters: CaseFilters | None = None) -> list[CaseRow]:
    """Cases matching the filters, oldest first (ids ascending, for keyset pages)."""
    f = filters or CaseFilters()
    today = uow.clock.today()
    query = case_rows_query()
    if f.state:
        query = query.where(Case.state == f.state)
    if f.round_code:
        # The round's id first, so the planner can use the (round_id, state, id) index.
        round_id = select(Round.id).where(Round.code == f.round_code).scalar_subquery()
        query = query.where(Case.round_id == round_id)
    if f.category:
        query = query.where(Case.category_code == f.category)
    if f.unit_code:
        unit = uow.session.scalar(select(Unit).where(Unit.code == f.unit_code))
        if unit is None:
            raise NotFound(f"单位 {f.unit_code} 不存在")
        query = query.where(Unit.path.startswith(unit.path))
    if f.overdue:
        query = query.where(in_overdue_states(), Case.deadline < today)
    if f.escalated:  # a literal, as the partial index ix_cases_escalated's term has it
        query = query.where(Case.state == literal_column(f"'{CaseState.ESCALATED}'"))
    if f.open_only:
        query = query.where(Case.state.in_(OPEN_STATE_VALUES))
    if f.text:
        like = f"%{f.text}%"
        query = query.where(
            or_(Case.description.like(like), Target.name.like(like), Unit.name.like(like))
        )
    if f.scope_path:
        query = query.where(Unit.path.startswith(f.scope_path, autoescape=True))
    if f.unit_id is not None:
        query = query.where(Case.unit_id == f.unit_id)
    if f.current_only:
        query = query.where(Case.state != CaseState.CONTINUED)
    if f.after_id:
        query = query.where(Case.id > f.after_id)
    # Overdue cases all have a deadline: sort on the column itself (its partial index).
    key = Case.deadline if f.overdue and f.sort == "deadline" else _sort_expression(f.sort)
    if f.cursor:
        query = query.where(_after_cursor(key, f))
    if f.descending:
        query = query.order_by(key.desc(), Case.id.desc())
    else:
        query = query.order_by(key, Case.id)
    if f.limit:
        query = query.limit(f.limit)
    rows = [
        case_row(case, round_code, unit_name, target_name, target_kind, category_name, today)
        for case, round_code, unit_name, target_name, target_kind, category_name in uow.session.execute(
            query
        )
    ]
    return with_successors(uow, rows)


def with_successors(uow: UnitOfWork, rows: list[CaseRow]) -> list[CaseRow]:
    """The rows, each continued one with the id of the case that took it over (one query)."""
    continued = [row.id for row in rows if row.state == CaseState.CONTINUED]
    if not continued:
        return rows
    successors = dict(
        uow.session.execute(
            select(Case.previous_case_id, Case.id).where(
                bulk.ids_in(uow.session, Case.previous_case_id, continued)
            )
        ).all()
    )
    return [
        replace(row, successor_id=successors.get(row.id)) if row.id in successors else row
        for row in rows
    ]


def unit_label(uow: UnitOfWork, unit_id: int) -> str | None:
    """A unit's name (for the list's "exactly this unit" filter), None if there is none."""
    return uow.session.scalar(select(Unit.name).where(Unit.id == unit_id))


def page_cases(uow: UnitOfWork, filters: CaseFilters, *, size: int = 50) -> CasePage:
    """One keyset page of the filtered, sorted list, and the cursor of the next one."""
    f = CaseFilters(**{**vars(filters), "limit": size + 1})
    rows = list_cases(uow, f)
    if len(rows) <= size:
        return CasePage(rows, None)
    last = rows[size - 1]
    return CasePage(rows[:size], f"{_sort_value(f.sort, last)}~{last.id}")


def _sort_expression(sort: str):
    if sort == "deadline":
        return func.coalesce(Case.deadline, literal(_FAR, Case.deadline.type))
    if sort == "escalation":
        return Case.escalation_level
    if sort == "round":
        return Case.round_id
    return Case.id


def _sort_value(sort: str, row: CaseRow) -> str:
    if sort == "deadline":
        return (row.deadline or _FAR).isoformat()
    if sort == "escalation":
        return str(row.escalation_level)
    if sort == "round":
        return str(row.round_id)
    return str(row.id)


def parse_cursor(cursor: str, sort: str) -> tuple[date | int, int]:
    """A ``CasePage.next_cursor`` (``"<sort value>~<id>"``) read back as (value, id); anything
    else, or a number past its column's range, is refused naming the parameter."""
    shown = "".join(c if c.isprintable() else "�" for c in cursor[:40])
    shown += "…" if len(cursor) > 40 else ""
    try:
        raw, raw_id = cursor.rsplit("~", 1)
        last_id = int(raw_id)
        value = date.fromisoformat(raw) if sort == "deadline" else int(raw)
    except ValueError:
        raise ValidationFailed(
            [f"分页参数无效：cursor「{shown}」不是上一页给出的值，请从第一页重新翻页"]
        ) from None
    problem = out_of_range("分页参数无效：cursor 中的编号", last_id, 1, MAX_ID)
    if problem is None and isinstance(value, int):
        low = 0 if sort == "escalation" else 1
        problem = out_of_range("分页参数无效：cursor 中的排序值", value, low, MAX_ID)
    if problem:
        raise ValidationFailed([problem])
    return value, last_id


def _after_cursor(key, f: CaseFilters):
    value, last_id = parse_cursor(f.cursor, f.sort)
    if f.sort not in SORTS or f.sort == "id":
        return Case.id < last_id if f.descending else Case.id > last_id
    if f.descending:
        return or_(key < value, and_(key == value, Case.id < last_id))
    return or_(key > value, and_(key == value, Case.id > last_id))


def case_row(  # a row of case_rows_query() as a listing row
    case: Case, round_code, unit_name, target_name, target_kind, category_name, today
) -> CaseRow:
    stands = standing(case.state, case.deadline, today)
    return CaseRow(
        id=case.id,
        round=round_code,
        unit=unit_name,
        target=target_name,
        target_kind=target_kind,
        category=case.category_code,
        category_name=category_name,
        severity=case.severity,
        state=case.state,
        deadline=case.deadline,
        overdue_days=stands.overdue_days,
        escalation_level=case.escalation_level,
        notices_city=case.notices_city,
        notices_province=case.notices_province,
        notices_county=case.notices_county,
        description=case.description,
        version=case.version,
        round_id=case.round_id,
        standing=stands,
    )


__all__ = [
    "SORTS",
    "CaseFilters",
    "CasePage",
    "CaseRow",
    "list_cases",
    "page_cases",
]
