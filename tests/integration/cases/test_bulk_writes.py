"""The batch writer (``services.db.bulk``): rows read back as if the ORM had written them."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.cases.store import EVENT_COLUMNS
from services.core.errors import ValidationFailed
from services.db import bulk
from services.db.models import Case, CaseEvent
from tests.builders import a_case

CST = timezone(timedelta(hours=8))


def _event(case_id: int, **values) -> dict:
    return {
        "case_id": case_id,
        "trigger": "verify",
        "from_state": "notified",
        "to_state": "verified",
        "actor": "复查流程",
        "actor_kind": "system",
        "at": datetime(2021, 10, 1, 2, 0, tzinfo=CST),
        "note": None,
        "data": {"recheck_round": "2021Q3", "说明": "已整改", "list": [1, None]},
    } | values


def _columns(event: CaseEvent) -> tuple:
    return tuple(getattr(event, name) for name in EVENT_COLUMNS)


def test_inserted_rows_read_back_like_orm_rows(app):
    with app.uow() as uow:
        case_id = a_case(uow).id
        written = [_event(case_id), _event(case_id, note="限期「三日」内整改", data={})]
        bulk.insert_rows(uow.session, CaseEvent.__table__, EVENT_COLUMNS, written)
        uow.session.add(CaseEvent(**_event(case_id)))
        uow.commit()
    with app.uow() as uow:
        events = uow.session.scalars(
            select(CaseEvent).where(CaseEvent.trigger == "verify").order_by(CaseEvent.id)
        ).all()
        read = [_columns(e) for e in events]
        assert events[0].at.utcoffset() == timedelta(0)  # stored in UTC, the same instant
    # in the order given, equal to what was given and to the row the ORM wrote
    assert read == [tuple(r.values()) for r in [*written, _event(case_id)]]


def test_a_column_empty_in_every_row_is_written_as_nulls(app):
    with app.uow() as uow:
        case_id = a_case(uow).id
        rows = [_event(case_id, from_state=None, note=None) for _ in range(3)]
        bulk.insert_rows(uow.session, CaseEvent.__table__, EVENT_COLUMNS, rows)
        uow.commit()
    with app.uow() as uow:
        written = uow.session.scalars(select(CaseEvent).where(CaseEvent.trigger == "verify"))
        assert [(e.from_state, e.note) for e in written] == [(None, None)] * 3


@pytest.mark.tampers  # the low-level write, without the services that keep the counters
def test_versioned_update_changes_only_rows_at_the_expected_version(app):
    with app.uow() as uow:
        current, stale = a_case(uow), a_case(uow)
        ids, versions = (current.id, stale.id), (current.version, stale.version)
        uow.commit()
    at = datetime(2021, 10, 2, 9, 30, tzinfo=CST)
    rows = [
        {
            "id": case_id,
            "version": version - (case_id == ids[1]),
            "new_version": version + 1,
            "state": "notified",
            "deadline": date(2021, 10, 20),
            "updated_at": at,
        }
        for case_id, version in zip(ids, versions, strict=True)
    ]
    with app.uow() as uow:
        changed = bulk.update_versioned(
            uow.session, Case.__table__, ("state", "deadline", "updated_at"), rows
        )
        uow.commit()
    assert changed == 1
    with app.uow() as uow:
        moved, untouched = (uow.session.get(Case, i) for i in ids)
        assert (moved.state, moved.deadline, moved.updated_at, moved.version) == (
            "notified",
            date(2021, 10, 20),
            at,
            versions[0] + 1,
        )
        assert (untouched.state, untouched.version) == ("found", versions[1])


def test_ids_in_matches_exactly_the_given_ids(app):
    with app.uow() as uow:
        ids = [a_case(uow).id for _ in range(3)]
        session = uow.session
        for wanted in ([], ids[:1], ids[1:], [*ids, 10**9]):
            found = session.scalars(select(Case.id).where(bulk.ids_in(session, Case.id, wanted)))
            assert sorted(found) == sorted(set(wanted) & set(ids))


def test_a_nul_character_in_bulk_text_is_refused_cleanly(app):
    with app.uow() as uow:
        case_id = a_case(uow).id
        with pytest.raises(ValidationFailed):
            bulk.insert_rows(
                uow.session, CaseEvent.__table__, EVENT_COLUMNS, [_event(case_id, note="a\x00b")]
            )
