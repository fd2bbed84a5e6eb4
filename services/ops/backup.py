"""Backup and restore: the whole database and the attachment files in one checked archive.

The archive is a tar.gz of ``manifest.json`` (schema revision, row counts, created time
and the sha256 of every other member), ``manifest.sig`` (its HMAC with the installation's
key, ``services.ops.signing``), ``tables/<name>.jsonl`` in dependency order and
``attachments/<stored name>``. A restore checks the signature before it trusts anything,
refuses attachment rows whose stored name the system cannot have made, and goes into an
empty, migrated database only.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Integer, Table, delete, func, insert, select, text

from services.cases import submissions
from services.core.errors import ServiceError, ValidationFailed
from services.core.progress import Progress, silent
from services.core.uow import UnitOfWork
from services.db import rows
from services.db.models import Attachment, Base, Category
from services.ops import signing

FORMAT = 1
MANIFEST = "manifest.json"
#: The seeded catalogue does not make a database "non-empty": the archive's replaces it.
REPLACEABLE = {Category.__tablename__}
_BATCH = 1000


class RestoreRefused(ServiceError):
    """The archive cannot go into this database; nothing was written."""


class ExportRefused(ServiceError):
    """The database holds something no archive may carry; no archive was written."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    schema_revision: str | None
    tables: dict[str, int]
    files: int
    missing_files: list[str] = field(default_factory=list)


def export_archive(uow: UnitOfWork, *, path: Path, progress: Progress = silent) -> BackupSummary:
    """Write every table and every attachment file into one archive at ``path`` (``progress``:
    the tables written, of all)."""
    hmac_key = signing.key(uow.settings)  # before anything: no key, no archive
    session = uow.session
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":  # one snapshot for every table
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    elif dialect == "sqlite":  # pysqlite starts no transaction for reads: ask for one
        session.connection().exec_driver_sql("BEGIN")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")  # never a half archive under the name
    try:
        manifest = _write_archive(uow, partial, hmac_key, progress)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    counts = {name: spec["rows"] for name, spec in manifest["tables"].items()}
    files = len(manifest["members"]) - len(counts)
    return BackupSummary(
        path, manifest["schema_revision"], counts, files, manifest["missing_files"]
    )


def _write_archive(
    uow: UnitOfWork, path: Path, hmac_key: bytes, progress: Progress
) -> dict[str, Any]:
    session = uow.session
    missing: list[str] = []
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(path, "w:gz") as archive:
        staged: list[tuple[str, Path]] = []
        counts: dict[str, int] = {}
        for done, table in enumerate(Base.metadata.sorted_tables, 1):
            staged_path = Path(scratch) / f"{table.name}.jsonl"
            with staged_path.open("w", encoding="utf-8") as out:
                counts[table.name] = _write_rows(session, table, out)
            staged.append((f"tables/{table.name}.jsonl", staged_path))
            progress(done, len(Base.metadata.sorted_tables))
        for attachment_id, stored_name in session.execute(
            select(Attachment.id, Attachment.stored_name).order_by(Attachment.id)
        ):
            if not submissions.is_system_name(stored_name):
                raise ExportRefused(
                    f"附件记录 id={attachment_id} 的存储文件名「{stored_name}」不是系统生成的名称，"
                    "已拒绝导出；请先核查并更正该记录"
                )
            source = submissions.attachment_path(uow, stored_name, attachment_id=attachment_id)
            if source.is_file():
                staged.append((f"attachments/{stored_name}", source))
            else:
                missing.append(stored_name)
        manifest = {
            "format": FORMAT,
            "application": "rectify",
            "schema_revision": _revision(uow),
            "created_at": uow.clock.now().isoformat(),
            "tables": {
                t.name: {"rows": counts[t.name], "columns": [c.name for c in t.columns]}
                for t in Base.metadata.sorted_tables
            },
            "members": {
                member: {"sha256": _sha256(source), "size": source.stat().st_size}
                for member, source in staged
            },
            "missing_files": missing,
        }
        content = json.dumps(manifest, ensure_ascii=False, indent=1)
        mtime = uow.clock.now().timestamp()
        _add_bytes(archive, MANIFEST, content, mtime=mtime)
        signature = signing.sign(hmac_key, content.encode("utf-8"))
        _add_bytes(archive, signing.SIGNATURE, signature, mtime=mtime)
        for member, source in staged:
            archive.add(source, arcname=member, recursive=False)
    return manifest


def import_archive(uow: UnitOfWork, *, path: Path, progress: Progress = silent) -> BackupSummary:
    """Restore an archive into this empty database and its attachment folder; all or nothing
    (``progress``: the rows restored, of all)."""
    path = Path(path)
    if not path.is_file():
        raise ValidationFailed([f"备份文件 {path} 不存在"])
    hmac_key = signing.key(uow.settings, restoring=True)
    with tempfile.TemporaryDirectory() as scratch:
        manifest = _unpack(path, Path(scratch), hmac_key)
        _check_fits(uow, manifest)
        _check_empty(uow)
        written: list[Path] = []
        try:
            counts = _restore_tables(uow, Path(scratch), manifest, progress)
            _restore_files(uow, Path(scratch), manifest, written)
            uow.commit()
        except BaseException:
            for file in written:
                file.unlink(missing_ok=True)
            raise
    files = sum(1 for m in manifest["members"] if m.startswith("attachments/"))
    missing = list(manifest.get("missing_files", []))
    return BackupSummary(path, manifest["schema_revision"], counts, files, missing)


def _write_rows(session, table: Table, out: IO[str]) -> int:
    count = 0
    for row in rows.read_table(session, table):
        encoded = {c.name: rows.encode(c, row[c.name]) for c in table.columns}
        out.write(json.dumps(encoded, ensure_ascii=False, separators=(",", ":")) + "\n")
        count += 1
    return count


def _unpack(path: Path, scratch: Path, hmac_key: bytes) -> dict[str, Any]:
    """Read the signed manifest, then copy out each member it lists, checking its sha256."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            manifest = _read_manifest(archive, hmac_key)
            expected = manifest["members"]
            seen = set()
            for info in archive:
                if info.name in (MANIFEST, signing.SIGNATURE):
                    continue
                if info.name not in expected or not info.isfile():
                    raise RestoreRefused(f"备份文件含有清单之外的内容「{info.name}」，已拒绝恢复")
                target = scratch / hashlib.sha256(info.name.encode()).hexdigest()
                with archive.extractfile(info) as source, target.open("wb") as out:
                    while chunk := source.read(1 << 20):
                        out.write(chunk)
                if _sha256(target) != expected[info.name]["sha256"]:
                    raise RestoreRefused(
                        f"备份文件中「{info.name}」的校验值不符，文件已损坏或被改动"
                    )
                seen.add(info.name)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise RestoreRefused(f"无法读取备份文件 {path}：{exc}") from exc
    if absent := sorted(set(expected) - seen):
        raise RestoreRefused(f"备份文件不完整，缺少 {len(absent)} 项，如「{absent[0]}」")
    return manifest


def _read_manifest(archive: tarfile.TarFile, hmac_key: bytes) -> dict[str, Any]:
    """The manifest, once its signature is checked against its exact bytes."""
    raw = _member_bytes(archive, MANIFEST)
    if raw is None:
        raise RestoreRefused("这不是 rectify 的备份文件：缺少 manifest.json")
    signing.verify(hmac_key, raw, _member_bytes(archive, signing.SIGNATURE))
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except ValueError as exc:
        raise RestoreRefused("这不是 rectify 的备份文件：无法读取 manifest.json") from exc
    if manifest.get("application") != "rectify" or manifest.get("format") != FORMAT:
        raise RestoreRefused(f"备份文件格式不受支持（应为 rectify 第 {FORMAT} 版格式）")
    return manifest


def _member_bytes(archive: tarfile.TarFile, name: str) -> bytes | None:
    try:
        member = archive.extractfile(name)
    except KeyError:
        return None
    return member.read() if member is not None else None


def _check_fits(uow: UnitOfWork, manifest: dict[str, Any]) -> None:
    revision = _revision(uow)
    if manifest["schema_revision"] != revision:
        raise RestoreRefused(
            f"备份的数据库结构版本为 {manifest['schema_revision']}，"
            f"当前数据库为 {revision or '未初始化'}；"
            "请先将两边升级到同一版本（rectify db upgrade）再恢复"
        )
    ours = {t.name: [c.name for c in t.columns] for t in Base.metadata.sorted_tables}
    theirs = {name: spec["columns"] for name, spec in manifest["tables"].items()}
    if ours != theirs:
        differing = sorted(n for n in ours.keys() | theirs.keys() if ours.get(n) != theirs.get(n))
        raise RestoreRefused(
            f"备份的表结构与当前数据库不一致（{'、'.join(differing)}），已拒绝恢复"
        )


def _check_empty(uow: UnitOfWork) -> None:
    session = uow.session
    filled = [
        f"{t.name}（{n} 行）"
        for t in Base.metadata.sorted_tables
        if t.name not in REPLACEABLE and (n := session.scalar(select(func.count()).select_from(t)))
    ]
    if filled:
        raise RestoreRefused(
            "只能恢复到空数据库，当前数据库已有数据：" + "、".join(filled[:5])
            + "；请新建数据库并执行 rectify db upgrade 后再恢复"
        )  # fmt: skip


def _restore_tables(
    uow: UnitOfWork, scratch: Path, manifest: dict[str, Any], progress: Progress
) -> dict[str, int]:
    session = uow.session
    total, restored = sum(spec["rows"] for spec in manifest["tables"].values()), 0
    for name in REPLACEABLE:  # only the seeded catalogue, nothing points at it yet
        session.execute(delete(Base.metadata.tables[name]))
    counts = {}
    for table in Base.metadata.sorted_tables:
        member = f"tables/{table.name}.jsonl"
        counts[table.name] = 0
        with _member_path(scratch, member).open(encoding="utf-8") as lines:
            batch = []
            for number, line in enumerate(lines, 1):
                raw = json.loads(line)
                batch.append({c.name: rows.decode(c, raw[c.name]) for c in table.columns})
                if table.name == Attachment.__tablename__:
                    _check_stored_name(batch[-1], number)
                if len(batch) >= _BATCH:
                    counts[table.name] += _insert(session, table, batch)
                    restored, batch = restored + len(batch), []
                    progress(restored, total)
            counts[table.name] += _insert(session, table, batch)
            restored += len(batch)
            progress(restored, total)
        if counts[table.name] != manifest["tables"][table.name]["rows"]:
            raise RestoreRefused(f"表 {table.name} 的行数与备份清单不符，已拒绝恢复")
    if session.get_bind().dialect.name == "postgresql":
        _reset_sequences(session)
    return counts


def _check_stored_name(row: dict[str, Any], number: int) -> None:
    if not submissions.is_system_name(row["stored_name"]):
        raise RestoreRefused(
            f"备份中的附件记录（tables/attachments.jsonl 第 {number} 行，id={row['id']}）"
            f"的存储文件名「{row['stored_name']}」不是系统生成的名称（应为 32 位十六进制字符），"
            "已拒绝恢复"
        )


def _insert(session, table: Table, batch: list[dict[str, Any]]) -> int:
    if batch:
        session.execute(insert(table), batch)
    return len(batch)


def _reset_sequences(session) -> None:
    """Point every id sequence past the restored ids, so the next insert does not collide."""
    for table in Base.metadata.sorted_tables:
        column = table.primary_key.columns.values()[0]
        if column.autoincrement is False or not isinstance(column.type, Integer):
            continue
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                f'COALESCE(MAX("{column.name}"), 1), MAX("{column.name}") IS NOT NULL) '
                f'FROM "{table.name}"'
            )
        )


def _restore_files(
    uow: UnitOfWork, scratch: Path, manifest: dict[str, Any], written: list[Path]
) -> None:
    for member, spec in manifest["members"].items():
        if not member.startswith("attachments/"):
            continue
        stored_name = member.removeprefix("attachments/")
        if not submissions.is_system_name(stored_name):
            raise RestoreRefused(f"备份文件中的附件名「{member}」不是系统生成的名称，已拒绝恢复")
        target = submissions.attachment_path(uow, stored_name)
        if target.exists():
            if _sha256(target) == spec["sha256"]:
                continue
            raise RestoreRefused(f"附件目录中已有同名而内容不同的文件 {target}，已拒绝覆盖")
        target.parent.mkdir(parents=True, exist_ok=True)
        written.append(target)
        shutil.move(_member_path(scratch, member), target)


def _member_path(scratch: Path, member: str) -> Path:
    return scratch / hashlib.sha256(member.encode()).hexdigest()


def _revision(uow: UnitOfWork) -> str | None:
    return MigrationContext.configure(uow.session.connection()).get_current_revision()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, content: str, *, mtime: float) -> None:
    data = content.encode("utf-8")
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    archive.addfile(info, io.BytesIO(data))
