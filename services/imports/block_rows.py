"""Import sheets of a round's data blocks (services/rounds/blocks.py): 复查, 通报表扬, 模拟咨询,
重要信息转载, 清理整合. A sheet's rows for one round are that round's whole block: importing
it again changes nothing, importing it changed replaces the block."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from services.core.uow import UnitOfWork
from services.db.models import Round, Unit
from services.imports.report import ImportReport, outcome_of
from services.imports.round_rows import Known, check_round_ref, check_target_ref
from services.imports.rows import Problems, Row, check_unique
from services.imports.schema import Column, TableKind, boolean, choice, day, integer, text
from services.rounds import blocks

_ROUND = Column("round_code", ("轮次", "检查轮次", "round", "round_code"), text, required=True)
_TARGET = Column("target_code", ("对象代码", "监测对象代码", "target", "target_code"), text)
_UNIT = Column("unit_code", ("单位代码", "unit", "unit_code"), text)
#: 转载情况 as a cell may say it → its code.
RESULTS = {code: code for code in blocks.REPRINT_RESULTS}
RESULTS |= {label: code for code, label in blocks.REPRINT_RESULTS.items()}
RESULTS |= {"转载及时": "good", "转载不及时": "late"}
FIGURE_LABELS = {"deployed": "部署条数", "sampled": "抽查条数", "checked": "检查对象数"}


def _kind(code: str, sheet: str, *columns: Column) -> TableKind:
    return TableKind(code=code, label=sheet, sheet_names=(sheet, code), columns=columns)


RECHECK = _kind(
    "recheck",
    "复查",
    _ROUND,
    Column("initial", ("初查日期", "initial"), day, required=True),
    Column("recheck", ("复查日期", "recheck"), day, required=True),
)
COMMENDATIONS = _kind(
    "commendations",
    "通报表扬",
    _ROUND,
    _TARGET,
    Column("reason", ("表扬理由", "reason"), text, max_len=1000),
    _UNIT,
    Column("task", ("报送事项", "task"), text, max_len=200),
)
CONSULTATION = _kind(
    "consultation",
    "模拟咨询",
    _ROUND,
    Column("target_code", _TARGET.aliases, text, required=True),
    Column("asked", ("提问日期", "asked"), day, required=True),
    Column("answered", ("答复日期", "answered"), day),
    Column("question", ("咨询问题", "问题内容", "question"), text, max_len=1000),
)
REPRINT = _kind(
    "reprint",
    "重要信息转载",
    _ROUND,
    Column("deployed", ("部署条数", "deployed"), integer),
    Column("sampled", ("抽查条数", "sampled"), integer),
    Column("checked", ("检查对象数", "checked"), integer),
    _TARGET,
    Column("result", ("转载情况", "result"), choice(RESULTS)),
)
CLEANUP = _kind(
    "cleanup",
    "清理整合",
    _ROUND,
    Column("task", ("清理任务", "task"), text, max_len=200),
    Column("name", ("账号名称", "account_name"), text, required=True, max_len=200),
    _UNIT,
    Column("deregistered", ("是否已注销", "已注销", "deregistered"), boolean),
)
BLOCK_KINDS = {k.code: k for k in (RECHECK, COMMENDATIONS, CONSULTATION, REPRINT, CLEANUP)}


@dataclass
class _Block:
    """One round's block built from its rows, and which cell each of its values came from."""

    data: dict[str, Any] = field(default_factory=dict)
    cells: dict[tuple, tuple[Row, str]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    complete: bool = True  # every row of the round is in it (none was refused on its own)

    def place(self, path: tuple) -> str:
        """The cell behind a block path; the first row when the path names none."""
        for length in range(len(path), 0, -1):
            if path[:length] in self.cells:
                row, name = self.cells[path[:length]]
                return row.at(name)
        return self.rows[0].at()

    def row_of(self, path: tuple) -> Row | None:
        """The row a block path comes from, if it names one."""
        for length in range(len(path), 0, -1):
            if path[:length] in self.cells:
                return self.cells[path[:length]][0]
        return None


def _flagged(row: Row, problems: Problems) -> bool:
    """The row already has an error (a bad cell, an unknown code)."""
    return any(
        m.startswith(f"{row.at()}「") or m.startswith(f"{row.at()}：") for m in problems.messages
    )


def _checked(
    kind: str, group: list[Row], period: tuple[date, date] | None, problems: Problems
) -> _Block:
    """The block from a round's rows without errors, checked as a whole; each error is said
    once, at its own cell (a row already refused is not refused again as part of the block)."""
    clean = [r for r in group if not _flagged(r, problems)]
    before = len(problems.messages)
    block = _build(kind, clean, problems, complete=len(clean) == len(group))
    if not clean:
        return block
    whole = len(clean) == len(group) and len(problems.messages) == before
    for path, message in blocks.complaints(kind, block.data, blocks.References(period=period)):
        place = block.place(path)
        row = block.row_of(path)
        if (whole or row is not None) and (row is None or not _flagged(row, problems)):
            problems.add(place, message)
    return block


def _build(kind: str, rows: list[Row], problems: Problems, *, complete: bool) -> _Block:
    block = _Block(rows=rows, complete=complete)
    build = {
        "recheck": _recheck,
        "commendations": _commendations,
        "consultation": _consultation,
        "reprint": _reprint,
        "cleanup": _cleanup,
    }[kind]
    build(block, rows, problems)
    return block


def _put(block: _Block, path: tuple, row: Row, name: str) -> None:
    block.cells[path] = (row, name)


def _recheck(block: _Block, rows: list[Row], problems: Problems) -> None:
    row = rows[0]
    block.data = {"initial": row["initial"], "recheck": row["recheck"]}
    for name in ("initial", "recheck"):
        _put(block, (name,), row, name)


def _commendations(block: _Block, rows: list[Row], problems: Problems) -> None:
    targets, reported = [], []
    for row in rows:
        if not row["target_code"] and not row["unit_code"]:
            problems.add(row.at("target_code"), "须填写对象代码（表扬对象）或单位代码（报送单位）")
        for code, other, what in (
            ("target_code", "reason", "表扬理由"),
            ("unit_code", "task", "报送事项"),
        ):
            if row[code] and not row[other]:
                problems.add(
                    row.at(other),
                    f"填写了{'对象代码' if code == 'target_code' else '单位代码'}，须同时填写{what}",
                )
        if row["target_code"] and row["reason"]:
            i = len(targets)
            targets.append({"target": row["target_code"], "reason": row["reason"]})
            _put(block, ("targets", i, "target"), row, "target_code")
            _put(block, ("targets", i, "reason"), row, "reason")
        if row["unit_code"] and row["task"]:
            i = len(reported)
            reported.append({"unit": row["unit_code"], "task": row["task"]})
            _put(block, ("reported", i, "unit"), row, "unit_code")
            _put(block, ("reported", i, "task"), row, "task")
    block.data = {"targets": targets, "reported": reported}


def _consultation(block: _Block, rows: list[Row], problems: Problems) -> None:
    questions = []
    for i, row in enumerate(rows):
        item = {"target": row["target_code"], "asked": row["asked"]}
        item |= {k: row[k] for k in ("answered", "question") if row[k] is not None}
        questions.append(item)
        for name, column in (
            ("target", "target_code"),
            ("asked", "asked"),
            ("answered", "answered"),
        ):
            _put(block, ("questions", i, name), row, column)
    block.data = {"questions": questions}


def _reprint(block: _Block, rows: list[Row], problems: Problems) -> None:
    figures: dict[str, Any] = {}
    results = []
    for name in FIGURE_LABELS:
        found = _figure(name, [(row, row[name]) for row in rows if row[name] is not None], problems)
        if found is not None:
            figures[name] = found[1]
            _put(block, (name,), found[0], name)
    for row in rows:
        if row["target_code"] or row["result"]:
            if not (row["target_code"] and row["result"]):
                missing = "result" if row["target_code"] else "target_code"
                problems.add(row.at(missing), "对象代码和转载情况须同时填写")
                continue
            i = len(results)
            results.append({"target": row["target_code"], "result": row["result"]})
            _put(block, ("results", i, "target"), row, "target_code")
            _put(block, ("results", i, "result"), row, "result")
    for name in ("deployed", "sampled"):
        if not any(row[name] is not None for row in rows) and block.complete:
            problems.add(
                rows[0].at(name),
                f"轮次「{rows[0]['round_code']}」的重要信息转载须在某一行填写{FIGURE_LABELS[name]}",
            )
    block.data = {**figures, "results": results}


def _figure(name: str, filled: list[tuple[Row, Any]], problems: Problems) -> tuple[Row, Any] | None:
    """The round's one value of a figure and the row it is read from: what most rows that
    fill it say. Rows that say otherwise get one error, at the first of them, and the value
    most rows say is the one checked against the other figures (so no error echoes it)."""
    if not filled:
        return None
    counts = Counter(value for _, value in filled)
    usual = max(counts, key=lambda v: counts[v])  # ties: the first written
    odd = [row for row, value in filled if value != usual]
    if odd:
        others = "、".join(str(row.number) for row, value in filled if value == usual)
        problems.add(
            odd[0].at(name),
            f"{odd[0][name]} 与第 {others} 行的 {usual} 不一致"
            f"（每轮只有一个{FIGURE_LABELS[name]}，填写一行即可）",
        )
    return next(item for item in filled if item[1] == usual)


def _cleanup(block: _Block, rows: list[Row], problems: Problems) -> None:
    tasks = list(dict.fromkeys(r["task"] for r in rows if r["task"]))
    if len(tasks) > 1:
        row = next(r for r in rows if r["task"] == tasks[1])
        problems.add(row.at("task"), f"同一轮次只能有一个清理任务（已有「{tasks[0]}」）")
    accounts = []
    for i, row in enumerate(rows):
        item = {"name": row["name"], "deregistered": bool(row["deregistered"])}
        if row["unit_code"]:
            item["unit"] = row["unit_code"]
        accounts.append(item)
        _put(block, ("accounts", i, "name"), row, "name")
        _put(block, ("accounts", i, "unit"), row, "unit_code")
    block.data = {"accounts": accounts, **({"task": tasks[0]} if tasks else {})}


def _periods(uow: UnitOfWork, round_rows: list[Row]) -> dict[str, tuple[date, date]]:
    periods = {
        code: (start, end)
        for code, start, end in uow.session.execute(
            select(Round.code, Round.period_start, Round.period_end)
        )
    }
    for row in round_rows:
        if row["code"] and row["period_start"] and row["period_end"]:
            periods[row["code"]] = (row["period_start"], row["period_end"])
    return periods


def check_blocks(
    uow: UnitOfWork, rows: dict[str, list[Row]], known: Known, problems: Problems
) -> dict[tuple[str, str], _Block]:
    """Every block row checked (references, dates, figures), each error at its cell; the
    blocks to write, by (kind, round)."""
    units = set(uow.session.scalars(select(Unit.code))) | {
        r["code"] for r in rows.get("units", []) if r["code"]
    }
    periods = _periods(uow, rows.get("rounds", []))
    built: dict[tuple[str, str], _Block] = {}
    for kind in BLOCK_KINDS:
        kind_rows = rows.get(kind, [])
        if kind == "recheck":
            check_unique(kind_rows, ("round_code",), problems, what="轮次")
        if kind == "reprint":
            check_unique(kind_rows, ("round_code", "target_code"), problems, what="轮次与对象")
        by_round: dict[str, list[Row]] = defaultdict(list)
        for row in kind_rows:
            check_round_ref(row, known, problems)
            check_target_ref(row, known, problems)
            if row["unit_code"] and row["unit_code"] not in units:
                problems.add(row.at("unit_code"), f"单位「{row['unit_code']}」不存在")
            if row["round_code"]:
                by_round[row["round_code"]].append(row)
        for code, group in by_round.items():
            built[(kind, code)] = _checked(kind, group, periods.get(code), problems)
    return built


def apply_blocks(
    uow: UnitOfWork, built: dict[tuple[str, str], _Block], report: ImportReport
) -> None:
    """Write every block (replacing the round's block of that kind)."""
    for (kind, code), block in built.items():
        round_ = uow.session.scalar(select(Round).where(Round.code == code))
        before = blocks.block_of(round_, kind) if round_ is not None else None
        after = blocks.set_block(uow, code, kind, block.data)
        report.tick("blocks", outcome_of(before, after))
