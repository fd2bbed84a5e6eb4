"""The ORM half of the append-only history: a session refuses to change or delete it.

The database refuses too (migration 0002); this guard makes a service fail first,
with a message that names the record, before anything is sent to the database.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from services.core.errors import ServiceError
from services.db.models import CaseEvent, CaseNotice

#: Models whose rows may be added but never changed or deleted, and what a person calls them.
APPEND_ONLY: dict[type, str] = {CaseEvent: "案件历史记录", CaseNotice: "案件通报记录"}


class AppendOnlyViolation(ServiceError):
    """Someone tried to change or delete a history row; nothing was written."""


def refuse_history_changes(session: Session, _flush_context, _instances) -> None:
    """Raise before a flush that would update or delete an append-only row."""
    for verb, objects in (("删除", session.deleted), ("修改", session.dirty)):
        for obj in objects:
            label = APPEND_ONLY.get(type(obj))
            if label is None or (verb == "修改" and not session.is_modified(obj)):
                continue
            raise AppendOnlyViolation(
                f"{label}只能追加，不能{verb}（{obj.__tablename__} id={obj.id}）；本次操作未保存"
            )


def install(factory: sessionmaker[Session]) -> None:
    """Make every session of ``factory`` refuse changes to the append-only history."""
    # No event.contains() check: it keys on id() of the factory's Session subclass, and a
    # new factory can reuse the id of a collected one, so the check would wrongly say yes.
    event.listen(factory, "before_flush", refuse_history_changes)
