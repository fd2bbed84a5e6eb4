"""Finding rows (cases), their earlier notices and their recorded history (transitions)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import select

from services.core.clock import Clock
from services.core.uow import UnitOfWork
from services.db.models import (
    Case,
    CaseEvent,
    CaseNotice,
    Category,
    Round,
    Target,
)
from services.imports.category_rows import CategoryIndex, Entry
from services.imports.report import ImportReport
from services.imports.round_rows import Known, check_round_ref, check_target_ref
from services.imports.rows import Problems, Row, check_unique
from services.registry.category_spec import kinds_label
from services.registry.units import TARGET_KINDS
from states import InvalidTransition, Trigger, fire

Key = tuple[str, str, str]  # round, target, category
IMPORT_ACTOR = "数据导入"


def key_of(row: Row) -> Key:
    return (row["round_code"], row["target_code"], row["category_code"])


def existing_cases(uow: UnitOfWork, round_codes: set[str]) -> dict[Key, Case]:
    """The cases of the rounds an import names, by (round, target, category)."""
    if not round_codes:
        return {}
    rows = uow.session.execute(
        select(Round.code, Target.code, Case.category_code, Case)
        .join(Round, Round.id == Case.round_id)
        .join(Target, Target.id == Case.target_id)
        .where(Round.code.in_(round_codes))
    ).all()
    return {(r, t, c): case for r, t, c, case in rows}


def resolve_categories(
    rows: list[Row], catalogue: CategoryIndex, problems: Problems | None = None
) -> dict[int, str]:
    """Name each row's category by its code, whether the file gave the code or the Chinese
    name. An unknown one is left empty (so nothing else is said of it) and returned by row
    number; with ``problems`` it is refused at once, with the categories a finding may name."""
    unknown = {}
    for row in rows:
        text = row["category_code"]
        if not text:
            continue
        code = catalogue.code_of(text)
        row.values["category_code"] = code
        if code is None:
            unknown[row.number] = text
            if problems is not None:
                unknown_category(row, text, catalogue, problems)
    return unknown


def unknown_category(row: Row, text: str, catalogue: CategoryIndex, problems: Problems) -> None:
    problems.add(
        row.at("category_code"),
        f"问题类别「{text}」不存在（可填类别代码或类别名称：{catalogue.valid()}）",
    )


def check_findings(
    rows: list[Row],
    known_: Known,
    in_db: dict[Key, Case],
    problems: Problems,
    *,
    catalogue: CategoryIndex,
) -> None:
    """References, kinds and repeat links; (round, target, category) once per import. A new
    finding may not name a retired category, nor one that does not apply to its target."""
    unknown = resolve_categories(rows, catalogue)
    check_unique(rows, ("round_code", "target_code", "category_code"), problems, what="问题")
    in_file = {key_of(r) for r in rows}
    for row in rows:
        check_round_ref(row, known_, problems)
        check_target_ref(row, known_, problems)
        if row.number in unknown:
            unknown_category(row, unknown[row.number], catalogue, problems)
        code = row["category_code"]
        entry = catalogue.entries.get(code)
        if entry is not None:
            _check_category(row, entry, known_, new=key_of(row) not in in_db, problems=problems)
        previous = row["previous_round"]
        if previous:
            earlier = (previous, row["target_code"], code)
            start, prev_start = known_.rounds.get(row["round_code"]), known_.rounds.get(previous)
            if earlier not in in_db and earlier not in in_file:
                problems.add(
                    row.at("previous_round"), f"上一轮次「{previous}」中没有该对象的同类问题"
                )
            elif start and prev_start and prev_start >= start:
                problems.add(row.at("previous_round"), f"上一轮次「{previous}」不早于本轮次")


def _check_category(row: Row, entry: Entry, known_: Known, *, new: bool, problems: Problems):
    target_kind = known_.targets.get(row["target_code"])
    if entry.retired and new:
        problems.add(
            row.at("category_code"),
            f"问题类别「{entry.name}」（{entry.code}）已停用，不能用于新发现的问题",
        )
    if target_kind and entry.kinds and target_kind not in entry.kinds:
        problems.add(
            row.at("category_code"),
            f"问题类别「{entry.name}」（{entry.code}）只适用于{kinds_label(entry.kinds)}，"
            f"不适用于{TARGET_KINDS.get(target_kind, target_kind)}「{row['target_code']}」",
        )


def check_case_refs(
    rows: list[Row], in_db: dict[Key, Case], finding_rows: list[Row], problems: Problems
) -> None:
    """Notice and history rows must name a case that exists or is imported with them."""
    in_file = {key_of(r) for r in finding_rows}
    for row in rows:
        if None not in key_of(row) and key_of(row) not in in_db and key_of(row) not in in_file:
            problems.add(row.at("category_code"), "找不到对应的问题（轮次、对象代码、问题类别）")


def check_history(rows: list[Row], in_db: dict[Key, Case], problems: Problems, uow: UnitOfWork):
    """Each case's steps in date order must extend its recorded history and be allowed moves."""
    by_case = _by_case(rows)
    done = _recorded_triggers(uow, {in_db[k].id for k in by_case if k in in_db})
    for key, steps in by_case.items():
        case = in_db.get(key)
        recorded = done.get(case.id, []) if case else []
        state = "found"
        for index, row in enumerate(steps):
            if index < len(recorded):
                if recorded[index] != row["trigger"]:
                    problems.add(row.at("trigger"), "与系统中该案件已有的处理记录不一致")
                    break
            try:
                state = str(fire(state, row["trigger"], proven_fixed=False))
            except InvalidTransition as exc:
                problems.add(row.at("trigger"), str(exc))
                break


def _recorded_triggers(uow: UnitOfWork, case_ids: set[int]) -> dict[int, list[str]]:
    """Each case's transitions so far, in order (other events left out)."""
    triggers = {str(t) for t in Trigger}
    done: dict[int, list[str]] = defaultdict(list)
    if not case_ids:
        return done
    for case_id, trigger in uow.session.execute(
        select(CaseEvent.case_id, CaseEvent.trigger)
        .where(CaseEvent.case_id.in_(case_ids))
        .order_by(CaseEvent.id)
    ):
        if trigger in triggers:
            done[case_id].append(trigger)
    return done


def _by_case(rows: list[Row]) -> dict[Key, list[Row]]:
    grouped: dict[Key, list[Row]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r["date"] or date.min, r.number)):
        grouped[key_of(row)].append(row)
    return grouped


@contextmanager
def clock_at(uow: UnitOfWork, day: date | None) -> Iterator[None]:
    """Run a step as of the day it happened, so the history's times are the real ones."""
    saved = uow.clock
    if day is not None:
        uow.clock = Clock(day, tz=saved.tz)
    try:
        yield
    finally:
        uow.clock = saved


def apply_finding(
    uow: UnitOfWork, row: Row, report: ImportReport, *, by_key: dict[Key, Case]
) -> None:
    """Open a case, or update it when its description or severity changed."""
    from services.cases import transitions  # and the mail it causes: not for a registry import

    previous = by_key.get((row["previous_round"], row["target_code"], row["category_code"]))
    finding = transitions.Finding(
        round_code=row["round_code"],
        target_code=row["target_code"],
        category_code=row["category_code"],
        description=row["description"] or "",
        severity=row["severity"],
        source=row["source"] or "import",
        previous_case_id=previous.id if previous and row["previous_round"] else None,
        synthetic=bool(row["synthetic"]),
    )
    case = by_key.get(key_of(row))
    if case is not None:
        severity = finding.severity or uow.session.get(Category, finding.category_code).severity
        if (case.description, case.severity) == (finding.description, severity):
            report.tick("cases", "unchanged")
            return
    with clock_at(uow, row["found_on"]):
        opened, created = transitions.open_case(
            uow, finding, actor=IMPORT_ACTOR, actor_kind="system"
        )
    by_key[key_of(row)] = opened
    report.tick("cases", "created" if created else "updated")


def apply_history(
    uow: UnitOfWork, rows: list[Row], report: ImportReport, *, by_key: dict[Key, Case]
) -> None:
    """Fire the steps a case has not recorded yet, each as of its own day."""
    from services.cases import transitions  # and the mail it causes: not for a registry import

    by_case = _by_case(rows)
    done = _recorded_triggers(uow, {by_key[k].id for k in by_case})
    for key, steps in by_case.items():
        case = by_key[key]
        already = len(done.get(case.id, []))
        report.tick("events", "unchanged", min(already, len(steps)))
        for row in steps[already:]:
            data = {"imported": True} | ({"reason": row["reason"]} if row["reason"] else {})
            with clock_at(uow, row["date"]):
                transitions.transition(
                    uow,
                    case_id=case.id,
                    trigger=row["trigger"],
                    actor=row["actor"] or IMPORT_ACTOR,
                    actor_kind="user" if row["actor"] else "system",
                    note=row["note"],
                    data=data,
                )
            report.tick("events", "created")


def apply_notices(
    uow: UnitOfWork, rows: list[Row], report: ImportReport, *, by_key: dict[Key, Case]
) -> None:
    """Record earlier notices (city or province) once: a notice already on file is skipped."""
    from services.cases import transitions  # and the mail it causes: not for a registry import

    for row in rows:
        case = by_key[key_of(row)]
        seen = uow.session.scalar(
            select(CaseNotice.id).where(
                CaseNotice.case_id == case.id,
                CaseNotice.level == row["level"],
                CaseNotice.notified_on == row["notified_on"],
            )
        )
        if seen is not None:
            report.tick("notices", "unchanged")
            continue
        with clock_at(uow, row["notified_on"]):
            transitions.record_notice(
                uow,
                case_id=case.id,
                level=row["level"],
                notified_on=row["notified_on"],
                issuer=row["issuer"],
                reference=row["reference"],
                actor=IMPORT_ACTOR,
                actor_kind="system",
            )
        report.tick("notices", "created")
