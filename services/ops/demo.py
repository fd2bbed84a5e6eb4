"""The demo scenarios: YAML files of import tables (``demo/<name>.yaml``, a data package of
its own), loaded by the import services. Which scenario loads by default is the scenarios'
own data: the file with a ``# 默认场景`` line (else the first by name); nothing here names an
office."""

from __future__ import annotations

from datetime import date
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import func, select

from services import imports
from services.core.clock import Clock
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Round, Unit
from services.imports.kinds import ALL_KINDS, ROUNDS
from services.ops import clock

#: A scenario file's first line of this form describes it in ``rectify demo --help``.
_TITLE_PREFIX = "# 场景："
#: A line of its opening comment that makes a scenario the one ``rectify demo`` loads unnamed.
_DEFAULT_MARK = "# 默认场景"


def _folder():
    return resources.files("demo")


def _stems() -> list[str]:
    return sorted(p.name[: -len(".yaml")] for p in _folder().iterdir() if p.name.endswith(".yaml"))


def default_scenario() -> str:
    """The scenario whose opening comment has a ``# 默认场景`` line, else the first by name."""
    stems = _stems()
    marked = [n for n in stems if _DEFAULT_MARK in _opening(f"{n}.yaml")]
    return (marked or stems)[0]


def _opening(file: str) -> list[str]:
    """The lines of a scenario file's opening comment."""
    lines = []
    for line in _folder().joinpath(file).read_text("utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.strip())
    return lines


def scenario_names() -> list[str]:
    """The scenarios shipped, the default first, then the others by name."""
    default = default_scenario()
    return sorted(_stems(), key=lambda n: n != default)


def scenario_titles() -> dict[str, str]:
    """Each scenario's one-line Chinese description (its ``# 场景：`` line), by name."""
    titles = {}
    for name in scenario_names():
        first = demo_text(f"{name}.yaml").split("\n", 1)[0]
        titles[name] = (
            first.removeprefix(_TITLE_PREFIX).strip() if first.startswith(_TITLE_PREFIX) else ""
        )
    return titles


def scenario_file(name: str) -> str:
    """The file of a scenario named ``county`` (or ``county.yaml``); an unknown name is refused."""
    stem = name.strip().removesuffix(".yaml")
    names = scenario_names()
    if stem not in names:
        raise ValidationFailed([f"没有名为「{name[:40]}」的演示场景，可选：{'、'.join(names)}"])
    return f"{stem}.yaml"


def demo_text(name: str | None = None) -> str:
    """A scenario file's text (default: the default scenario's)."""
    return _folder().joinpath(name or f"{default_scenario()}.yaml").read_text("utf-8")


def sections() -> list[str]:
    """The section names a scenario may use: the English sheet name of every import table
    (units, targets, issuers, ...); the Chinese ones (单位, 监测对象, ...) work as well."""
    return [name for kind in ALL_KINDS.values() for name in kind.sheet_names]


def _document(file: str) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(demo_text(file), Loader=loader) or {}


def load_demo(uow: UnitOfWork, *, name: str | None = None) -> imports.ImportReport:
    """Load a scenario through the import services; loading it again changes nothing."""
    file = scenario_file(name or default_scenario())
    document = _document(file)
    unknown = sorted(set(document) - set(sections()))
    if unknown:
        shown = "、".join(kind.code for kind in ALL_KINDS.values())
        raise ValidationFailed([f"{file}：未知的部分「{'、'.join(unknown)}」（可用：{shown}）"])
    tables = [
        imports.from_records(records, source=file, sheet=section)
        for section, records in document.items()
        if records
    ]
    return imports.import_tables(uow, tables)


def has_units(uow: UnitOfWork) -> bool:
    """Whether the registry already holds units (``rectify demo --if-empty`` then skips)."""
    return bool(uow.session.scalar(select(func.count()).select_from(Unit)))


def _latest_round(file: str) -> tuple[str, date] | None:
    """The code and notice day of the scenario's latest round (by notice day)."""
    fields = {c.field: c.aliases for c in ROUNDS.columns}

    def value(record: dict[str, Any], field: str) -> Any:
        return next((record[k] for k in fields[field] if k in record), None)

    dated = [
        (value(record, "notice_date"), str(value(record, "code")))
        for section, records in _document(file).items()
        if section in ROUNDS.sheet_names
        for record in records or ()
        if isinstance(value(record, "notice_date"), date)
    ]
    return (max(dated)[1], max(dated)[0]) if dated else None


def demo_day(name: str | None = None) -> date | None:
    """The day a scenario is told as of: its latest round's notice day; None when no round
    has one."""
    latest = _latest_round(scenario_file(name or default_scenario()))
    return latest[1] if latest else None


def use_demo_day(uow: UnitOfWork, *, name: str | None = None) -> Clock | None:
    """Run the installation as of the scenario's day (``rectify demo``); None when it has none.
    The caller commits."""
    day = demo_day(name)
    if day is None:
        return None
    stem = scenario_file(name or default_scenario()).removesuffix(".yaml")
    return clock.set_day(uow, day, note=f"演示数据 {stem}")


def adopt_demo_day(uow: UnitOfWork, *, name: str | None = None) -> Clock | None:
    """``rectify demo --if-empty`` on a database that already holds the scenario: its day, when
    no day was ever set (nor real time chosen) on this database; None otherwise."""
    file = scenario_file(name or default_scenario())
    latest = _latest_round(file)
    if latest is None or clock.chosen(uow):
        return None
    code, day = latest
    held = uow.session.scalar(
        select(func.count()).select_from(Round).where(Round.code == code, Round.notice_date == day)
    )
    return use_demo_day(uow, name=file) if held else None
