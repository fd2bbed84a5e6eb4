"""One email seam: a single transition and a batch write the same outbox rows, and a batch's
email costs a constant number of statements (none when nobody is mailed)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import date, datetime

import pytest
from sqlalchemy import event, select

from notifications.render import render
from services.cases import batch, transitions
from services.db.models import CaseEvent, OutboxMessage
from tests.builders import a_case, a_round, a_target, a_unit

ACTOR = "张三"
#: trigger → (the state it is fired from, its note, its data)
MOVES = {
    "reject": ("submitted", "截图不清晰", {}),
    "escalate": ("notified", "逾期未整改", {"reason": "overdue"}),
    "submit": ("rectifying", None, {"text": "已更新栏目", "responsible_person": "赵六"}),
    "notify": ("found", None, {}),
    "start": ("notified", None, {}),  # mails nobody
}


def _pair(uow, trigger: str, unit_code: str) -> tuple[int, int]:
    """Two cases alike but for their ids, in the state ``trigger`` is fired from."""
    state = MOVES[trigger][0]
    return tuple(
        a_case(
            uow,
            state=state,
            description="“通知公告”栏目超期未更新",
            target_code=a_target(
                uow, unit_code=unit_code, name="永德县政府网站", url="http://www.ynyd.gov.cn"
            ).code,
        ).id
        for _ in range(2)
    )


def _rows(uow, case_id: int) -> list[OutboxMessage]:
    """The case's rows caused by its last event (earlier steps mailed too)."""
    last = uow.session.scalar(
        select(CaseEvent.id).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id.desc())
    )
    rows = uow.session.scalars(
        select(OutboxMessage).where(OutboxMessage.case_id == case_id).order_by(OutboxMessage.id)
    )
    return [r for r in rows if r.key.split(":")[3] == str(last)]


def _same(value, case_id: int):
    """A row's context with what differs between two alike cases made equal: the case id
    (also in the review URL), the portal link (its id and nonce) and the time zone instants
    are written in."""
    if isinstance(value, dict):
        return {k: _same(v, case_id) for k, v in value.items() if k not in ("id", "nonce")}
    if isinstance(value, list):
        return [_same(v, case_id) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT.*", value):
        return datetime.fromisoformat(value)
    if isinstance(value, str):
        value = re.sub(r"/portal/[\w-]+", "/portal/TOKEN", value)
        return value.replace(f"/cases/{case_id}", "/cases/ID")
    return value


def _rendered(row: OutboxMessage) -> tuple[str, str, str]:
    """The email as sent, but for the case id, its review URL and the portal token."""
    context = row.context | {"case": row.context["case"] | {"id": 0}}
    context |= {k: "URL" for k in ("portal_url", "case_url") if k in context}
    context |= {"portal_url": "URL"} if "portal_link" in context else {}
    mail = render(row.template, context, sent_on=date(2021, 7, 19))
    return mail.subject, mail.text, mail.html


@pytest.mark.parametrize("trigger", ["reject", "escalate", "submit", "notify"])
@pytest.mark.parametrize("parent", [True, False], ids=["with-parent", "without-parent"])
def test_a_single_transition_and_a_batch_write_the_same_outbox_rows(app, trigger, parent):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline_days=10)
        a_unit(uow, "county", kind="county_gov", leader_name="王县长")
        a_unit(uow, "dept", parent_code="county" if parent else None)
        single, batched = _pair(uow, trigger, "dept")
        uow.commit()
        _, note, data = MOVES[trigger]
        transitions.transition(
            uow, case_id=single, trigger=trigger, actor=ACTOR, note=note, data=dict(data)
        )
        move = batch.Move(batched, trigger, note=note, data=dict(data))
        assert batch.transition_many(uow, [move], actor=ACTOR, actor_kind="user").moved
        uow.commit()

        one, many = _rows(uow, single), _rows(uow, batched)
        expected = {"submit": 2}.get(trigger, 1)
        assert len(one) == len(many) == expected
        for a, b in zip(one, many, strict=True):
            assert (b.template, b.to_addrs, b.cc_addrs, b.status, b.last_error) == (
                a.template,
                a.to_addrs,
                a.cc_addrs,
                a.status,
                a.last_error,
            )
            assert (b.unit_id, b.round_id, b.attempts) == (a.unit_id, a.round_id, a.attempts)
            assert list(b.context) == list(a.context)  # the same keys, in the same order
            assert _same(b.context, batched) == _same(a.context, single)
            assert b.context["case"]["id"] == batched and a.context["case"]["id"] == single
            assert _rendered(b) == _rendered(a)
            assert re.fullmatch(rf"case:{batched}:{trigger}:\d+(:unit|:supervisor)?", b.key)
        if trigger == "escalate" and not parent:
            assert one[0].status == "failed"
            assert one[0].last_error == "没有上级单位，无法确定督办邮件的收件人"


@contextmanager
def _statements(app):
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(app.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(app.engine, "before_cursor_execute", count)


def _batch_statements(app, trigger: str, cases: int) -> list[str]:
    with app.uow() as uow:
        # One tree, as an office has: the batch's units under one root (the counters' key).
        tree = a_unit(uow, "tree").code  # upserted: the same root for every batch
        ids = [
            a_case(
                uow,
                state=MOVES[trigger][0],
                target_code=a_target(uow, unit_code=a_unit(uow, parent_code=tree).code).code,
            ).id
            for _ in range(cases)
        ]
        uow.commit()
        _, note, data = MOVES[trigger]
        moves = [batch.Move(i, trigger, note=note, data=dict(data)) for i in ids]
        with _statements(app) as seen:
            assert len(batch.transition_many(uow, moves, actor=ACTOR).moved) == cases
            uow.commit()
    return seen


@pytest.mark.parametrize("trigger", ["reject", "escalate", "submit", "notify"])
def test_a_batch_mails_in_as_many_statements_for_one_case_as_for_many(app, trigger):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline_days=10)
        uow.commit()
    one, many = _batch_statements(app, trigger, 1), _batch_statements(app, trigger, 6)
    add = {"submit": 6}.get(trigger, 1)  # a submission is inserted one by one (RETURNING)
    assert len(many) == len(one) + add - 1
    with app.uow() as uow:
        assert uow.session.scalars(select(OutboxMessage.key)).all()  # and they did mail


def test_a_batch_that_mails_nobody_spends_no_statement_on_email(app):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline_days=10)
        uow.commit()
    seen = _batch_statements(app, "start", 5)
    # no email, no portal link, and no event id read back (``coalesce(max(id))``, ``id >``)
    mail = re.compile(r"outbox|unit_links|coalesce\(max\(case_events|case_events\.id >", re.I)
    assert [s for s in seen if mail.search(s)] == []
