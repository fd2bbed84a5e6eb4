"""Round rows: rounds (quarters), inspection scope (verdicts) and message-board figures."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date, timedelta

from sqlalchemy import select

from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.issuer_models import Issuer
from services.db.models import BoardFigure, Round, Target, Unit, Verdict
from services.imports.report import ImportReport, outcome_of
from services.imports.rows import Problems, Row, check_unique
from services.rounds import rounds

ROUND_FIELDS = [f.name for f in fields(rounds.RoundSpec)]
_COLUMNS = (*[f for f in ROUND_FIELDS if f != "issuer_code"], "issuer_id", "notice_texts", "blocks")
BATCH = 5_000  # rows per INSERT statement (and codes per lookup)


@dataclass(frozen=True)
class Known:
    """Codes an import may refer to: in the database or earlier in the same import."""

    rounds: dict[str, date]  # code → period start (orders rounds)
    targets: dict[str, str]  # code → kind


def known(uow: UnitOfWork, round_rows: list[Row], target_rows: list[Row]) -> Known:
    session = uow.session
    round_starts = dict(session.execute(select(Round.code, Round.period_start)).all())
    for row in round_rows:
        if row["code"] and row["period_start"]:
            round_starts[row["code"]] = row["period_start"]
    kinds = dict(session.execute(select(Target.code, Target.kind)).all())
    kinds.update(
        (code, r.values.get("kind")) for r in target_rows if (code := r.values.get("code"))
    )
    return Known(rounds=round_starts, targets=kinds)


def quarter_period(code: str) -> tuple[date, date] | None:
    """2021Q2 → (2021-04-01, 2021-06-30); the quarter may carry an office's prefix or suffix
    (2021Q2-xx, XX-2021Q2), as rounds of several offices in one installation do."""
    match = re.search(r"(?<![0-9])(\d{4})Q([1-4])(?![0-9])", code or "")
    if not match:
        return None
    year, quarter = int(match[1]), int(match[2])
    start = date(year, 3 * quarter - 2, 1)
    end = date(year + quarter // 4, (3 * quarter) % 12 + 1, 1) - timedelta(days=1)
    return start, end


def check_rounds(rows: list[Row], problems: Problems) -> None:
    """Fill a quarter's dates from its code; a round needs a period either way."""
    check_unique(rows, ("code",), problems, what="轮次")
    for row in rows:
        period = quarter_period(row["code"])
        if period:
            row.values["period_start"] = row["period_start"] or period[0]
            row.values["period_end"] = row["period_end"] or period[1]
        elif row["code"] and not (row["period_start"] and row["period_end"]):
            problems.add(
                row.at("code"), f"轮次「{row['code']}」不是 YYYYQn 格式，必须填写开始和结束日期"
            )
        if row["code"] and row["period_start"] and row["period_end"]:
            # The rules of every entry point (RoundSpec), each error at its own cell.
            spec = rounds.RoundSpec(**{k: row[k] for k in ROUND_FIELDS})
            for name, message in spec.field_problems():
                problems.add(row.at(name), message)


def check_round_ref(row: Row, known_: Known, problems: Problems) -> None:
    if row["round_code"] and row["round_code"] not in known_.rounds:
        problems.add(row.at("round_code"), f"检查轮次「{row['round_code']}」不存在")


def check_target_ref(row: Row, known_: Known, problems: Problems, *, kind: str | None = None):
    code = row["target_code"]
    if not code:
        return
    if code not in known_.targets:
        problems.add(row.at("target_code"), f"监测对象「{code}」不存在")
    elif kind and known_.targets[code] != kind:
        problems.add(row.at("target_code"), f"监测对象「{code}」不是网民留言平台")


def check_verdicts(rows: list[Row], known_: Known, problems: Problems) -> None:
    check_unique(rows, ("round_code", "target_code"), problems, what="轮次与对象")
    check_unique(rows, ("round_code", "target_kind"), problems, what="轮次与对象类型")
    for row in rows:
        check_round_ref(row, known_, problems)
        check_target_ref(row, known_, problems)
        if row.blank("target_code") and row.blank("target_kind"):
            problems.add(
                row.at("target_code"), "须填写对象代码，或填写对象类型表示该类全部在运行对象"
            )
        if row["qualified_override"] is not None and not row["override_reason"]:
            problems.add(row.at("override_reason"), "人工判定合格与否必须填写理由")


def check_board_figures(rows: list[Row], known_: Known, problems: Problems) -> None:
    check_unique(rows, ("round_code", "target_code"), problems, what="轮次与留言平台")
    for row in rows:
        check_round_ref(row, known_, problems)
        check_target_ref(row, known_, problems, kind="message_board")
        overdue, received = row["replies_overdue"] or 0, row["messages_received"] or 0
        if overdue > received:
            problems.add(row.at("replies_overdue"), f"超期未回复数 {overdue} 大于留言数 {received}")


def apply_rounds(uow: UnitOfWork, rows: list[Row], report: ImportReport) -> None:
    """Upsert each round; rounds not stored yet are inserted many rows per statement
    (``services.db.bulk``): an office's round each for 3,000 offices."""
    stored = _stored_rounds(uow, {row["code"] for row in rows})
    fresh: list[Row] = []
    for row in rows:
        if row["code"] in stored:
            _upsert_round(uow, row, report)
        else:
            stored.add(row["code"])
            fresh.append(row)
    _insert_rounds(uow, fresh, report)


def _upsert_round(uow: UnitOfWork, row: Row, report: ImportReport) -> None:
    spec = rounds.RoundSpec(**{k: row[k] for k in ROUND_FIELDS})
    existing = rounds.get_round(uow, spec.code, required=False)
    before = None if existing is None else vars(rounds.RoundSpec.of(existing))
    round_ = rounds.upsert_round(uow, spec)
    changed = _choose_followups(round_, row)
    changed = _name_office(round_, row) or changed
    after = vars(rounds.RoundSpec.of(round_))
    report.tick("rounds", "updated" if changed and before else outcome_of(before, after))


def _insert_rounds(uow: UnitOfWork, rows: list[Row], report: ImportReport) -> None:
    """New rounds, checked as ``upsert_round`` checks them."""
    if not rows:
        return
    uow.flush()
    issuer_ids = _issuer_ids(uow, {row["issuer_code"] for row in rows})
    values = []
    for row in rows:
        spec = rounds.RoundSpec(**{k: row[k] for k in ROUND_FIELDS})
        if errors := spec.problems():
            raise ValidationFailed(errors)
        if spec.issuer_code is not None and spec.issuer_code not in issuer_ids:
            raise ValidationFailed([rounds.unknown_issuer(spec)])
        round_ = Round(notice_texts={})  # transient: the notice texts as the upsert sets them
        _choose_followups(round_, row)
        _name_office(round_, row)
        values.append(
            {
                **{f: getattr(spec, f) for f in ROUND_FIELDS if f != "issuer_code"},
                "issuer_id": issuer_ids.get(spec.issuer_code),
                "notice_texts": round_.notice_texts,
                "blocks": {},
            }
        )
    for start in range(0, len(values), BATCH):
        bulk.insert_rows(uow.session, Round.__table__, _COLUMNS, values[start : start + BATCH])
    report.tick("rounds", "created", len(values))


def _stored_rounds(uow: UnitOfWork, codes: set[str]) -> set[str]:
    wanted, found = sorted(c for c in codes if c), set()
    for start in range(0, len(wanted), BATCH):
        found.update(
            uow.session.scalars(
                select(Round.code).where(Round.code.in_(wanted[start : start + BATCH]))
            )
        )
    return found


def _issuer_ids(uow: UnitOfWork, codes: set[str | None]) -> dict[str, int]:
    """Unit code → issuer id, for the units with these codes that are issuers."""
    wanted, found = sorted(c for c in codes if c), {}
    for start in range(0, len(wanted), BATCH):
        query = (
            select(Unit.code, Issuer.id)
            .join(Issuer, Issuer.unit_id == Unit.id)
            .where(Unit.code.in_(wanted[start : start + BATCH]))
        )
        found.update(dict(uow.session.execute(query).all()))
    return found


def _choose_followups(round_: Round, row: Row) -> bool:
    """Record which follow-up paragraphs the round's notice prints; True when that changed."""
    chosen = {
        paragraph: row[column]
        for paragraph, column in (
            ("unreported", "print_unreported"),
            ("still_unfixed", "print_still_unfixed"),
        )
        if row[column] is not None
    }
    texts = dict(round_.notice_texts or {})
    merged = {**(texts.get("followups") or {}), **chosen}
    if merged == (texts.get("followups") or {}):
        return False
    round_.notice_texts = {**texts, "followups": merged}
    return True


def _name_office(round_: Round, row: Row) -> bool:
    """Record the issuing office's names the round's notice prints; True when that changed."""
    names = {key: row[key] for key in ("office", "office_short") if row[key]}
    texts = dict(round_.notice_texts or {})
    if all(texts.get(key) == value for key, value in names.items()):
        return False
    round_.notice_texts = {**texts, **names}
    return True


def apply_verdicts(uow: UnitOfWork, rows: list[Row], report: ImportReport) -> None:
    """A row names one target, or a kind: then every operating target of it was inspected."""
    if not rows:  # every target's id, read below, is half a million rows nationally
        return
    attrs = ("inspected", "qualified_override", "override_reason", "praise")
    ids = dict(uow.session.execute(select(Target.code, Target.id)).all())
    for row in rows:
        round_ = rounds.get_round(uow, row["round_code"])
        codes = (
            [row["target_code"]]
            if row["target_code"]
            else _operating(uow, row["target_kind"], round_)
        )
        existing = {
            v.target_id: v
            for v in uow.session.scalars(select(Verdict).where(Verdict.round_id == round_.id))
        }
        for code in codes:
            before = existing.get(ids[code])
            wanted = {
                "inspected": row["inspected"] if row["inspected"] is not None else True,
                "qualified_override": row["qualified_override"],
                "override_reason": row["override_reason"],
                "praise": row["praise"],
            }
            if before is not None and {a: getattr(before, a) for a in attrs} == wanted:
                report.tick("verdicts", "unchanged")
                continue
            # Written here rather than by rounds.set_verdict, one flush for the lot: a kind row
            # covers hundreds of targets, and every row was checked above.
            verdict = before or Verdict(round_id=round_.id, target_id=ids[code])
            for name, value in wanted.items():
                setattr(verdict, name, value)
            uow.session.add(verdict)
            report.tick("verdicts", "created" if before is None else "updated")
    uow.flush()


def _operating(uow: UnitOfWork, kind: str, round_: Round) -> list[str]:
    """Every operating target of the kind in the round's scope: its issuer's subtree."""
    query = select(Target.code).where(Target.kind == kind, Target.status == "operating")
    if round_.issuer is not None:
        query = query.join(Unit, Unit.id == Target.unit_id).where(
            Unit.path.startswith(round_.issuer.unit.path, autoescape=True)
        )
    return list(uow.session.scalars(query.order_by(Target.code)))


def apply_board_figures(uow: UnitOfWork, rows: list[Row], report: ImportReport) -> None:
    for row in rows:
        round_ = rounds.get_round(uow, row["round_code"])
        existing = uow.session.scalar(
            select(BoardFigure)
            .join(Target, Target.id == BoardFigure.target_id)
            .where(BoardFigure.round_id == round_.id, Target.code == row["target_code"])
        )
        pair = ("messages_received", "replies_overdue")
        before = None if existing is None else {a: getattr(existing, a) for a in pair}
        figure = rounds.set_board_figure(
            uow,
            round_code=row["round_code"],
            target_code=row["target_code"],
            messages_received=row["messages_received"],
            replies_overdue=row["replies_overdue"] or 0,
        )
        report.tick("board_figures", outcome_of(before, {a: getattr(figure, a) for a in pair}))
