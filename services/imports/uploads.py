"""Registry and round tables uploaded from the browser, imported in one commit."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from services import imports
from services.access.users import UserView
from services.core.errors import ValidationFailed
from services.core.plaintext import invisible_in_filename, visible_filename
from services.core.uow import UnitOfWork
from services.imports import ImportReport

#: A file name's length in UTF-8 bytes (most file systems take 255): 80 Chinese characters.
MAX_NAME_BYTES = 240


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
    if problems := [p for f in files if (p := name_problem(f.filename))]:
        raise ValidationFailed(problems)
    with tempfile.TemporaryDirectory(prefix="rectify-import-") as folder:
        paths = []
        for index, upload in enumerate(files):
            name = upload_name(upload.filename)
            # A subfolder per file keeps the user's file name in every error message.
            path = Path(folder) / str(index) / name
            path.parent.mkdir()
            with path.open("wb") as out:
                shutil.copyfileobj(upload.stream, out)
            paths.append(path)
        report = imports.import_tables(uow, imports.read_tables(paths))
    uow.commit()
    return report


def upload_name(filename: str) -> str:
    """The file name a browser sent, without any folder (a browser may send a whole path)."""
    return Path(filename.replace("\\", "/")).name


def name_problem(filename: str) -> str | None:
    """Why an uploaded file's name cannot be a file name here (in Chinese), or None."""
    name = upload_name(filename)
    shown = visible_filename(filename)
    if where := invisible_in_filename(filename):
        return f"文件名「{shown}」{where}，请重命名后再上传"
    if name in ("", ".", ".."):
        return f"「{shown}」不是文件名，请选择要导入的 CSV 或 XLSX 文件"
    if len(name.encode()) > MAX_NAME_BYTES:
        return (
            f"文件名「{shown[:40]}…」过长（不超过 {MAX_NAME_BYTES // 3} 个汉字或 "
            f"{MAX_NAME_BYTES} 个字母、数字），请重命名后再上传"
        )
    return None
