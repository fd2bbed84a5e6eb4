"""The demo scenarios: YAML files of import tables (``scenarios/<name>.yaml``), loaded by the
import services. ``lincang-2021`` reproduces the seed notice; the others are synthetic."""

from __future__ import annotations

from importlib import resources

import yaml
from sqlalchemy import func, select

from services import imports
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Unit
from services.imports.kinds import ALL_KINDS

DEFAULT_SCENARIO = "lincang-2021"
DEMO_FILE = f"{DEFAULT_SCENARIO}.yaml"
#: A scenario file's first line of this form describes it in ``rectify demo --help``.
_TITLE_PREFIX = "# 场景："


def _folder():
    return resources.files("services.ops.scenarios")


def scenario_names() -> list[str]:
    """The scenarios shipped, the default first: lincang-2021, then the others by name."""
    names = sorted(p.name[: -len(".yaml")] for p in _folder().iterdir() if p.name.endswith(".yaml"))
    return sorted(names, key=lambda n: n != DEFAULT_SCENARIO)


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


def demo_text(name: str = DEMO_FILE) -> str:
    return _folder().joinpath(name).read_text("utf-8")


def sections() -> list[str]:
    """The section names a scenario may use: the English sheet name of every import table
    (units, targets, issuers, ...); the Chinese ones (单位, 监测对象, ...) work as well."""
    return [name for kind in ALL_KINDS.values() for name in kind.sheet_names]


def load_demo(uow: UnitOfWork, *, name: str = DEMO_FILE) -> imports.ImportReport:
    """Load a scenario through the import services; loading it again changes nothing."""
    file = scenario_file(name)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(demo_text(file), Loader=loader) or {}
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
