"""A unit submits its rectification: text, responsible person, phone and sniffed attachments."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy.orm import Session

from services.cases import succession, transitions
from services.core.errors import Forbidden, NotFound, ServiceError, ValidationFailed
from services.core.plaintext import invisible, invisible_in_filename, visible_filename
from services.core.uow import UnitOfWork
from services.db.models import Attachment, Case, CaseEvent, Unit
from states import SUBMITTABLE_STATES, CaseState, Trigger
from states.lifecycle import STATE_LABELS

log = logging.getLogger(__name__)

#: Allowed file kinds: extension → the content type its bytes must sniff as.
ALLOWED = {
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".ofd": "application/ofd",
}
ALLOWED_LABEL = "PDF、JPG、PNG、DOC、DOCX、OFD"
PHONE = re.compile(r"^[0-9+\-() ]{5,20}$")
MAX_TEXT = 10_000  # characters of the rectification text
MAX_PERSON = 100  # the column's length
#: A stored file's name as the system makes it (``secrets.token_hex(16)``): nothing else is read.
STORED_NAME = re.compile(r"[0-9a-f]{32}")
#: Upload temporaries: written under this prefix, renamed to a stored name once accepted.
INCOMING = ".incoming-"
#: A temporary untouched this long belongs to no upload in progress (a killed process left it).
STALE_INCOMING = timedelta(hours=1)
_CHUNK = 1 << 16


class TooLarge(ValidationFailed):
    """An attachment is over the configured size limit."""

    http_status = 413


class UnsafeStoredName(NotFound):
    """An attachment row names a file the system cannot have made: refused, never read."""


class NotSubmittable(ServiceError):
    """The case takes no rectification in its state (carried over, verified, under review)."""

    http_status = 409


#: Why a case in a state that takes no submission refuses one (continued: see ``refusal``).
_REFUSALS = {
    CaseState.VERIFIED: "该问题已核验通过，整改完成，无需再提交整改材料",
    CaseState.SUBMITTED: "整改材料已提交，正在等待监管人员审核；审核前不能再次提交",
    CaseState.FOUND: "该问题尚未下发整改通知，暂不需要提交整改材料",
}


def refusal(session: Session, case: Case) -> str | None:
    """Why the unit may not submit its rectification of ``case`` now (Chinese), or None.

    The rule is the domain's (``SUBMITTABLE_STATES``); a case carried over to a later round
    names the case that continues the problem."""
    if case.state in SUBMITTABLE_STATES:
        return None
    if case.state == CaseState.CONTINUED:
        later = succession.successor(session, case.id)
        if later is None:
            return "该问题已转入下一轮继续整改，本案件不再接受提交"
        return f"该问题已转入 {later.round} 轮继续整改，请在案件 {later.case_id} 中提交"
    label = STATE_LABELS.get(case.state, case.state)
    return _REFUSALS.get(case.state, f"案件当前状态为「{label}」，不能提交整改材料")


class StorageFailed(ServiceError):
    """The attachments could not be written (disk full, not writable): nothing was submitted."""

    http_status = 503


@dataclass(frozen=True)
class IncomingFile:
    filename: str
    stream: BinaryIO


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    path: Path


@dataclass(frozen=True)
class SubmissionReceipt:
    case_id: int
    submission_id: int
    attachments: list[str]


def sniff(head: bytes, path: Path) -> str | None:
    """The content type the bytes say, among the allowed kinds; None for anything else."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/msword"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return ALLOWED[".docx"]
        if "OFD.xml" in names:
            return ALLOWED[".ofd"]
    return None


def attachment_dir(uow: UnitOfWork) -> Path:
    return Path(uow.settings.data_dir) / "attachments"


def is_system_name(stored_name: object) -> bool:
    """Whether ``stored_name`` is a name the system gives a stored file (32 hex digits)."""
    return isinstance(stored_name, str) and STORED_NAME.fullmatch(stored_name) is not None


def attachment_path(uow: UnitOfWork, stored_name: str, *, attachment_id: int | None = None) -> Path:
    """The file of ``stored_name`` in the attachment folder: every read of a file asks here.

    Refused (and logged) unless the system could have made the name and the path resolves
    inside that folder (not through a link to elsewhere).
    """
    folder = attachment_dir(uow)
    path = folder / stored_name if is_system_name(stored_name) else None
    if path is None or path.resolve().parent != folder.resolve():
        log.warning(
            "refused attachment %s: stored name %r is not the system's or leaves %s",
            attachment_id, stored_name, folder,
        )  # fmt: skip
        which = (
            f"附件 {attachment_id} " if attachment_id is not None else f"附件文件「{stored_name}」"
        )
        raise UnsafeStoredName(
            f"{which}的存储文件名不是系统生成的名称或指向附件目录之外，已拒绝读取（已记录，请联系管理员）"
        )
    return path


def remove_stale_incoming(settings, now: datetime | None = None) -> list[Path]:
    """Remove upload temporaries older than ``STALE_INCOMING`` that a killed process left.

    Run at the web app's start-up. ``now`` is the wall clock (file times are real, whatever
    day the app runs as of); a fresh temporary, an upload another process is writing right
    now, stays. Returns the files removed.
    """
    folder = Path(settings.data_dir) / "attachments"
    moment = now.timestamp() if now is not None else time.time()
    cutoff = moment - STALE_INCOMING.total_seconds()
    removed = []
    for path in sorted(folder.glob(f"{INCOMING}*")) if folder.is_dir() else []:
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed.append(path)
        except FileNotFoundError:  # its upload finished (renamed) or failed (removed) meanwhile
            continue
        except OSError as exc:
            log.warning("could not remove stale upload temporary %s: %s", path, exc)
    if removed:
        log.info("removed %d stale upload temporaries from %s", len(removed), folder)
    return removed


def submit_rectification(
    uow: UnitOfWork,
    *,
    unit_id: int,
    case_id: int,
    text: str,
    responsible_person: str,
    phone: str,
    files: list[IncomingFile],
) -> SubmissionReceipt:
    """Store the files, record the submission and move the case to submitted: all or nothing.

    Commits itself: the files are moved to their final names only if the rows are written,
    and removed again if the commit fails, so no half-submission survives either way.
    """
    case = uow.session.get(Case, case_id)
    if case is None:
        raise NotFound(f"案件 {case_id} 不存在")
    if case.unit_id != unit_id:
        raise Forbidden("该案件不属于本单位，无权查看或提交")
    if (refused := refusal(uow.session, case)) is not None:
        raise NotSubmittable(refused)
    files = [f for f in files if f.filename]
    _check_form(uow, text=text, responsible_person=responsible_person, phone=phone, files=files)

    folder = attachment_dir(uow)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        stored = [_store(uow, folder, incoming, written) for incoming in files]
        unit = uow.session.get(Unit, unit_id)
        result = transitions.transition(
            uow,
            case_id=case_id,
            trigger=Trigger.SUBMIT,
            actor=unit.name,
            actor_kind="unit",
            data={
                "text": text.strip(),
                "responsible_person": responsible_person.strip(),
                "phone": phone.strip(),
            },
        )
        submission_id = uow.session.get(CaseEvent, result.event_id).data["submission_id"]
        now = uow.clock.now()
        for filename, temp, content_type, size, digest in stored:
            stored_name = secrets.token_hex(16)
            uow.session.add(
                Attachment(
                    submission_id=submission_id,
                    filename=filename,
                    stored_name=stored_name,
                    content_type=content_type,
                    size=size,
                    sha256=digest,
                    created_at=now,
                )
            )
            final = folder / stored_name
            temp.rename(final)
            written.append(final)
        uow.flush()
        uow.commit()
    except BaseException as exc:
        for path in written:
            path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise StorageFailed(
                "附件保存失败：服务器存储空间不足或无法写入，本次整改材料未提交，请稍后重试"
            ) from exc
        raise
    return SubmissionReceipt(case_id, submission_id, [s[0] for s in stored])


def _check_form(
    uow: UnitOfWork, *, text: str, responsible_person: str, phone: str, files: list[IncomingFile]
) -> None:
    """Refuse the form with every problem named (in Chinese), before anything is stored."""
    errors = []
    if not (text or "").strip():
        errors.append("请填写整改情况")
    elif len(text) > MAX_TEXT:
        errors.append(f"整改情况内容过长（{len(text)} 字），请精简到 {MAX_TEXT} 字以内")
    if not (responsible_person or "").strip():
        errors.append("请填写责任人")
    elif len(responsible_person.strip()) > MAX_PERSON:
        errors.append(f"责任人不超过 {MAX_PERSON} 字")
    for label, value in (("整改情况", text), ("责任人", responsible_person), ("联系电话", phone)):
        if where := invisible(value):
            errors.append(f"「{label}」{where}，请删除后重新提交")
    if not PHONE.match((phone or "").strip()):
        errors.append("请填写有效的联系电话")
    if len(files) > uow.settings.upload_max_files:
        errors.append(f"附件最多 {uow.settings.upload_max_files} 个")
    for incoming in files:
        name = upload_name(incoming.filename)
        if where := invisible_in_filename(name):
            errors.append(f"附件名「{visible_filename(name)}」{where}，请重命名后再上传")
    if errors:
        raise ValidationFailed(errors)


def upload_name(filename: str) -> str:
    """The name an upload is kept under: its last path part (a browser may send a whole path)."""
    return Path(filename.replace("\\", "/")).name[:200] or "附件"


def _store(
    uow: UnitOfWork, folder: Path, incoming: IncomingFile, written: list[Path]
) -> tuple[str, Path, str, int, str]:
    """Stream one upload to a temporary name, hashing and measuring it; check its kind."""
    filename = upload_name(incoming.filename)
    extension = Path(filename).suffix.lower()
    if extension not in ALLOWED:
        raise ValidationFailed([f"附件「{filename}」的类型不允许（只接受 {ALLOWED_LABEL}）"])
    limit = uow.settings.upload_max_mb * 1024 * 1024
    temp = folder / f"{INCOMING}{secrets.token_hex(16)}"
    written.append(temp)
    digest = hashlib.sha256()
    size = 0
    head = b""
    with temp.open("wb") as out:
        while chunk := incoming.stream.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise TooLarge(
                    [f"附件「{filename}」超过大小上限 {uow.settings.upload_max_mb} MB，未保存"]
                )
            if len(head) < 16:
                head = (head + chunk)[:16]
            digest.update(chunk)
            out.write(chunk)
    if size == 0:
        raise ValidationFailed([f"附件「{filename}」是空文件"])
    content_type = sniff(head, temp)
    if content_type is None or content_type != ALLOWED[extension]:
        raise ValidationFailed(
            [
                f"附件「{filename}」的内容与扩展名不符或不是允许的类型（只接受 {ALLOWED_LABEL}），未保存"
            ]
        )
    return filename, temp, content_type, size, digest.hexdigest()


def open_attachment(
    uow: UnitOfWork,
    *,
    attachment_id: int,
    scope_path: str | None = None,
    unit_id: int | None = None,
) -> StoredFile:
    """An attachment's name, type and path, if its case is in the scope (or is the unit's)."""
    attachment = uow.session.get(Attachment, attachment_id)
    if attachment is None:
        raise NotFound(f"附件 {attachment_id} 不存在")
    case = uow.session.get(Case, attachment.submission.case_id)
    if unit_id is not None and case.unit_id != unit_id:
        raise Forbidden("该附件不属于本单位")
    if scope_path is not None and not case.unit.path.startswith(scope_path):
        raise Forbidden("该附件不在您的管辖范围内")
    path = attachment_path(uow, attachment.stored_name, attachment_id=attachment_id)
    if not path.is_file():
        raise NotFound(f"附件 {attachment_id} 的文件已丢失")
    return StoredFile(attachment.filename, attachment.content_type, path)
