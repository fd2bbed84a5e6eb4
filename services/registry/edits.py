"""Registry edits from the web: forms, imports and publication; role-checked, one commit each."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from services import imports
from services.access.users import UserView
from services.core.errors import Forbidden, ValidationFailed
from services.core.uow import UnitOfWork
from services.imports import ImportReport
from services.registry import units
from services.rounds import publication, rounds
from services.rounds.publication import PublicationSummary


def save_unit(uow: UnitOfWork, *, user: UserView, spec: units.UnitSpec) -> str:
    """Create or update a unit by code."""
    user.require_admin()
    unit = units.upsert_unit(uow, spec)
    uow.commit()
    return unit.code


def save_target(uow: UnitOfWork, *, user: UserView, spec: units.TargetSpec) -> str:
    """Create or update a target by code."""
    user.require_admin()
    target = units.upsert_target(uow, spec)
    uow.commit()
    return target.code


def save_round(uow: UnitOfWork, *, user: UserView, spec: rounds.RoundSpec) -> str:
    """Create or update a round by code."""
    user.require_admin()
    round_ = rounds.upsert_round(uow, spec)
    uow.commit()
    return round_.code


def publish(uow: UnitOfWork, *, user: UserView, round_code: str) -> PublicationSummary:
    """Publish a round: notify its found cases and queue one email per unit (commits)."""
    user.require_acting()
    if user.scope_path is not None:  # a round spans every county: publishing it is the city's
        raise Forbidden("检查轮次涉及全市各单位，只有不限管辖范围的监管人员可以发布")
    return publication.publish_round(uow, round_code=round_code, actor=user.display_name)


@dataclass(frozen=True)
class Upload:
    filename: str
    stream: BinaryIO


def import_uploads(uow: UnitOfWork, *, user: UserView, files: list[Upload]) -> ImportReport:
    """Import registry or round tables uploaded from the browser: every row checked, then all
    written, or ValidationFailed listing every bad row and column and nothing written."""
    user.require_admin()
    files = [f for f in files if f.filename]
    if not files:
        raise ValidationFailed(["请选择要导入的 CSV 或 XLSX 文件"])
    with tempfile.TemporaryDirectory(prefix="rectify-import-") as folder:
        paths = []
        for index, upload in enumerate(files):
            name = Path(upload.filename.replace("\\", "/")).name or f"file{index}"
            # A subfolder per file keeps the user's file name in every error message.
            path = Path(folder) / str(index) / name
            path.parent.mkdir()
            with path.open("wb") as out:
                shutil.copyfileobj(upload.stream, out)
            paths.append(path)
        report = imports.import_tables(uow, imports.read_tables(paths))
    uow.commit()
    return report
