"""The demo scenario (Lincang, 2021): a YAML file of import tables, loaded by the import services."""

from __future__ import annotations

from importlib import resources

import yaml
from sqlalchemy import func, select

from services import imports
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.db.models import Unit

DEMO_FILE = "lincang-2021.yaml"
#: Sections in load order; each is a table with the columns of the CSV/XLSX imports.
SECTIONS = (
    "units",
    "targets",
    "rounds",
    "verdicts",
    "board_figures",
    "findings",
    "history",
    "notices",
)


def demo_text(name: str = DEMO_FILE) -> str:
    return resources.files("services.ops.scenarios").joinpath(name).read_text("utf-8")


def load_demo(uow: UnitOfWork, *, name: str = DEMO_FILE) -> imports.ImportReport:
    """Load the scenario through the import services; loading it again changes nothing."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(demo_text(name), Loader=loader) or {}
    unknown = set(document) - set(SECTIONS)
    if unknown:
        raise ValidationFailed([f"{name}：未知的部分「{'、'.join(sorted(unknown))}」"])
    tables = [
        imports.from_records(document[section], source=name, sheet=section)
        for section in SECTIONS
        if document.get(section)
    ]
    return imports.import_tables(uow, tables)


def has_units(uow: UnitOfWork) -> bool:
    """Whether the registry already holds units (``rectify demo --if-empty`` then skips)."""
    return bool(uow.session.scalar(select(func.count()).select_from(Unit)))
