"""整改台账: every case of a round with its unit, state, deadline, report, verification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from services.core.clock import SHANGHAI, zone_label
from services.core.uow import UnitOfWork
from services.db.models import Case, CaseEvent, Category, Round, Submission, Target, Unit
from services.registry.units import TARGET_KINDS
from services.reports.tables import csv_bytes, xlsx_bytes
from services.rounds import rounds
from states import Trigger
from states.lifecycle import STATE_LABELS, CaseState


def headers(tz: ZoneInfo = SHANGHAI) -> tuple[str, ...]:
    """The ledger's columns; the days of a submission and a verification are counted in the
    installation's zone, and their headers say which: 报送日期（北京时间）."""
    zone = f"（{zone_label(tz)}）"
    return tuple(f"{h}{zone}" if h in _ZONED else h for h in _COLUMNS)


_ZONED = ("报送日期", "核验日期")
_COLUMNS = (
    "案件编号",
    "责任单位",
    "监测对象",
    "对象类型",
    "问题类别",
    "问题描述",
    "状态",
    "整改期限",
    "报送日期",
    "核验日期",
    "升级次数",
    "市级通报次数",
    "省级通报次数",
    "县级通报次数",
)
HEADERS = headers()


@dataclass(frozen=True)
class LedgerRow:
    case_id: int
    unit: str
    target: str
    target_kind: str
    category: str
    description: str
    state: str
    deadline: date | None
    submitted_on: date | None
    verified_on: date | None
    escalations: int
    notices_city: int
    notices_province: int
    notices_county: int


_FIELDS = tuple(f.name for f in fields(LedgerRow))


def _cells(row: LedgerRow) -> tuple:
    """The row's values in column order (``astuple`` without its deep copies)."""
    return tuple(getattr(row, name) for name in _FIELDS)


def ledger_rows(
    uow: UnitOfWork, round_code: str, *, scope_path: str | None = None
) -> list[LedgerRow]:
    """One row per case of the round (in the unit subtree ``scope_path``), by unit then case."""
    round_ = rounds.get_round(uow, round_code)
    return ledgers(uow, [round_], scope_path=scope_path)[round_.id]


def ledgers(
    uow: UnitOfWork, round_list: Sequence[Round], *, scope_path: str | None = None
) -> dict[int, list[LedgerRow]]:
    """The ledger rows of several rounds by round id, read together (a query per kind of
    data for them all)."""
    ids = [r.id for r in round_list]
    session = uow.session
    first_submission = dict(
        session.execute(
            select(Submission.case_id, func.min(Submission.submitted_at))
            .join(Case, Case.id == Submission.case_id)
            .where(Case.round_id.in_(ids))
            .group_by(Submission.case_id)
        ).all()
    )
    last_verified = dict(
        session.execute(
            select(CaseEvent.case_id, func.max(CaseEvent.at))
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.round_id.in_(ids), CaseEvent.trigger == Trigger.VERIFY)
            .group_by(CaseEvent.case_id)
        ).all()
    )
    escalations = dict(
        session.execute(
            select(CaseEvent.case_id, func.count())
            .join(Case, Case.id == CaseEvent.case_id)
            .where(Case.round_id.in_(ids), CaseEvent.trigger == Trigger.ESCALATE)
            .group_by(CaseEvent.case_id)
        ).all()
    )
    result = session.execute(
        select(Case, Unit.name, Target.name, Target.kind, Category.name)
        .join(Unit, Unit.id == Case.unit_id)
        .join(Target, Target.id == Case.target_id)
        .join(Category, Category.code == Case.category_code)
        .where(Case.round_id.in_(ids))
        .where(Unit.path.startswith(scope_path) if scope_path else True)
        .order_by(Unit.path, Case.id)
        .options(defer(Case.evidence))  # what a check saw: not in the ledger
    ).all()
    tz = uow.clock.now().tzinfo
    per_round: dict[int, list[LedgerRow]] = {round_id: [] for round_id in ids}
    for case, unit, target, kind, category in result:
        per_round[case.round_id].append(
            LedgerRow(
                case_id=case.id,
                unit=unit,
                target=target,
                target_kind=TARGET_KINDS.get(kind, kind),
                category=category,
                description=case.description,
                state=STATE_LABELS.get(CaseState(case.state), case.state),
                deadline=case.deadline,
                submitted_on=_day(first_submission.get(case.id), tz),
                verified_on=_day(last_verified.get(case.id), tz),
                escalations=escalations.get(case.id, 0),
                notices_city=case.notices_city,
                notices_province=case.notices_province,
                notices_county=case.notices_county,
            )
        )
    return per_round


def _day(moment, tz) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is not None and tz is not None:
        moment = moment.astimezone(tz)
    return moment.date()


def ledger_csv(rows: list[LedgerRow], *, tz: ZoneInfo = SHANGHAI) -> bytes:
    """CSV in UTF-8 with a byte-order mark; formula-like text stays inert."""
    return csv_bytes(headers(tz), map(_cells, rows))


def ledger_xlsx(
    rows: list[LedgerRow], *, title: str = "整改台账", tz: ZoneInfo = SHANGHAI
) -> bytes:
    """An XLSX workbook: bold frozen header with an autofilter, dates as dates, columns fitted."""
    return xlsx_bytes(headers(tz), map(_cells, rows), sheet=title)
