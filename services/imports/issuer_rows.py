"""Issuer rows (发文机关): an issuing office per unit, with its default notice texts.

A text cell left empty keeps what the office has; a 下一步工作要求 cell holds one paragraph per
line. The office's options (pass-rate format, sections, ...) come from the 通报设置 sheet
(``services.imports.setting_rows``).
"""

from __future__ import annotations

from sqlalchemy import select

from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db import bulk
from services.db.issuer_models import Issuer
from services.db.models import Round, Unit
from services.imports.report import ImportReport, outcome_of
from services.imports.rows import Problems, Row, check_unique
from services.imports.schema import Column, TableKind, choice, text
from services.rounds import issuers, notice_settings

#: The texts an issuer row may carry (its names are columns of their own).
ISSUER_TEXTS = {k: v for k, v in notice_settings.TEXTS.items() if k not in issuers.NAME_TEXTS}
_LEVELS = (
    {code: code for code in issuers.LEVELS}
    | {label: code for code, label in issuers.LEVELS.items()}
    | {"省": "province", "市": "city", "县": "county"}
)
_FIELDS = ("unit_code", "name", "short_name", "level", "doc_pattern")
_COLUMNS = ("unit_id", "name", "short_name", "level", "doc_pattern", "texts", "options")
BATCH = 5_000  # rows per INSERT statement (and codes per lookup)


def _sized(field: str) -> int:
    return Issuer.__table__.c[field].type.length


ISSUERS = TableKind(
    code="issuers",
    label="发文机关",
    sheet_names=("发文机关", "issuers"),
    columns=(
        Column("unit_code", ("单位代码", "unit_code"), text, required=True),
        Column("name", ("机关名称", "name"), text, required=True, max_len=_sized("name")),
        Column(
            "short_name",
            ("机关简称", "short_name"),
            text,
            required=True,
            max_len=_sized("short_name"),
        ),
        Column("level", ("层级", "level"), choice(_LEVELS), required=True),
        Column("doc_pattern", ("文号格式", "doc_pattern"), text, max_len=_sized("doc_pattern")),
        *(
            Column(key, (label, key), text, max_len=notice_settings.TEXT_MAX * 10)
            for key, label in ISSUER_TEXTS.items()
        ),
    ),
)


def check_issuers(uow: UnitOfWork, rows: list[Row], unit_rows: list[Row], problems: Problems):
    """Each row's office (the rules of ``IssuerSpec``) and its texts, each at its cell."""
    check_unique(rows, ("unit_code",), problems, what="单位代码")
    units = set(uow.session.scalars(select(Unit.code))) | {r["code"] for r in unit_rows}
    for row in rows:
        if row["unit_code"] and row["unit_code"] not in units:
            problems.add(row.at("unit_code"), f"单位「{row['unit_code']}」不存在（请先导入单位）")
        if not all(row[f] for f in ("unit_code", "name", "short_name", "level")):
            continue  # a missing value is named already
        for field, message in _spec(row).field_problems():
            problems.add(row.at(field), message)
        for key in ISSUER_TEXTS:
            value = issuers.normal_text(key, row[key])
            if value is not None:
                for message in notice_settings.text_problems(key, value, where="通报文本"):
                    problems.add(row.at(key), message)


def _spec(row: Row) -> issuers.IssuerSpec:
    return issuers.IssuerSpec(**{f: row[f] for f in _FIELDS})


def known_issuers(uow: UnitOfWork, rows: list[Row]) -> set[str]:
    """Unit codes of the issuers in the database and in this import."""
    stored = uow.session.scalars(select(Unit.code).join(Issuer, Issuer.unit_id == Unit.id))
    return set(stored) | {r["unit_code"] for r in rows if r["unit_code"]}


def check_round_issuers(
    rows: list[Row], known: set[str], problems: Problems, *, owners: dict[str, str] | None = None
) -> None:
    """A round row's 发文机关代码 names an issuer in the database or in this import, and does
    not take over a round another office already runs (``owners``: round code → issuer's unit
    code): two offices' 2023Q3 rounds need two codes, or one office would overwrite the other's."""
    for row in rows:
        code = row["issuer_code"]
        if code and code not in known:
            problems.add(
                row.at("issuer_code"),
                f"发文机关「{code}」不存在（应为已登记为发文机关的单位代码，可在发文机关表中登记）",
            )
        owner = (owners or {}).get(row["code"])
        if code and owner and owner != code:
            problems.add(
                row.at("code"),
                f"检查轮次「{row['code']}」已属于发文机关「{owner}」，不能由「{code}」的导入修改；"
                f"各机关的轮次请使用不同的代码（如 {row['code']}-{code}），"
                f"确需改换发文机关请用 rectify round issuer",
            )


def round_owners(uow: UnitOfWork) -> dict[str, str]:
    """Round code → the unit code of its issuer, for the rounds that have one."""
    return dict(
        uow.session.execute(
            select(Round.code, Unit.code)
            .join(Issuer, Issuer.id == Round.issuer_id)
            .join(Unit, Unit.id == Issuer.unit_id)
        ).all()
    )


def apply_issuers(uow: UnitOfWork, rows: list[Row], report: ImportReport) -> None:
    """Upsert each office, then set the texts its row gives (empty cells keep the stored).

    Offices not stored yet are inserted many rows per statement (``services.db.bulk``):
    3,000 county offices one upsert each would be thousands of round trips."""
    stored = _stored_codes(uow, {row["unit_code"] for row in rows})
    fresh: list[Row] = []
    for row in rows:
        if row["unit_code"] in stored:
            _upsert(uow, row, report)
        else:
            stored.add(row["unit_code"])
            fresh.append(row)
    _insert_new(uow, fresh, report)


def _upsert(uow: UnitOfWork, row: Row, report: ImportReport) -> None:
    existing = _stored(uow, row["unit_code"])
    before = None if existing is None else _snapshot(existing)
    issuer = issuers.upsert_issuer(uow, _spec(row))
    try:
        issuers.set_texts(uow, issuer, _texts(row))
    except ValidationFailed as exc:  # checked above: only a race could get here
        raise ValidationFailed([f"{row.at()}：{e}" for e in exc.errors]) from None
    report.tick("issuers", outcome_of(before, _snapshot(issuer)))


def _texts(row: Row) -> dict:
    return {k: row[k] for k in ISSUER_TEXTS if issuers.normal_text(k, row[k]) is not None}


def _insert_new(uow: UnitOfWork, rows: list[Row], report: ImportReport) -> None:
    """New offices, checked as ``upsert_issuer`` and ``set_texts`` check them."""
    if not rows:
        return
    uow.flush()
    unit_ids = dict(_by_code(uow, {row["unit_code"] for row in rows}, Unit.id, Unit))
    values = []
    for row in rows:
        spec = _spec(row)
        errors = spec.problems()
        if spec.unit_code and spec.unit_code not in unit_ids:
            errors.append(
                f"发文机关的单位代码（unit_code）「{spec.unit_code[:64]}」不是已登记的单位"
            )
        if errors:
            raise ValidationFailed(errors)
        name = spec.name.strip()
        try:
            texts = issuers.apply_texts({}, _texts(row), where=f"发文机关 {name} 的通报文本")
        except ValidationFailed as exc:  # checked above: only a race could get here
            raise ValidationFailed([f"{row.at()}：{e}" for e in exc.errors]) from None
        values.append(
            {
                "unit_id": unit_ids[spec.unit_code],
                "name": name,
                "short_name": spec.short_name.strip(),
                "level": spec.level,
                "doc_pattern": (spec.doc_pattern or "").strip() or None,
                "texts": texts,
                "options": {},
            }
        )
    for start in range(0, len(values), BATCH):
        bulk.insert_rows(uow.session, Issuer.__table__, _COLUMNS, values[start : start + BATCH])
    report.tick("issuers", "created", len(values))


def _stored_codes(uow: UnitOfWork, codes: set[str]) -> set[str]:
    """The unit codes among ``codes`` whose unit is an issuer already."""
    return {code for code, _ in _by_code(uow, codes, Issuer.id, Issuer)}


def _by_code(uow: UnitOfWork, codes: set[str], column, model) -> list[tuple]:
    """(unit code, column) of the units with these codes (joined to their issuer, for an
    issuer's column)."""
    wanted, found = sorted(c for c in codes if c), []
    for start in range(0, len(wanted), BATCH):
        query = select(Unit.code, column).where(Unit.code.in_(wanted[start : start + BATCH]))
        if model is Issuer:
            query = query.join(Issuer, Issuer.unit_id == Unit.id)
        found.extend(tuple(r) for r in uow.session.execute(query))
    return found


def _stored(uow: UnitOfWork, unit_code: str) -> Issuer | None:
    return uow.session.scalar(
        select(Issuer).join(Unit, Unit.id == Issuer.unit_id).where(Unit.code == unit_code)
    )


def _snapshot(issuer: Issuer) -> dict:
    return {
        "name": issuer.name,
        "short_name": issuer.short_name,
        "level": issuer.level,
        "doc_pattern": issuer.doc_pattern,
        "texts": dict(issuer.texts or {}),
    }
