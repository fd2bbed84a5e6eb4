"""The case history's hash chain: ``rectify audit verify`` finds an event edited or removed in
the database even where the state machine's replay sees nothing wrong."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC

from alembic import command
from sqlalchemy import select, text

from services.cases import audit, batch, transitions
from services.db.migrate import alembic_config, upgrade
from services.db.models import CaseEvent
from tests.builders import a_case
from tests.integration.cases.test_audit_integrity import demo_like_history, run_cli

#: Migration 0002's SQLite trigger, re-created after a test went behind it.
SQLITE_NO = {
    "update": "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events "
    "BEGIN SELECT RAISE(ABORT, '案件历史记录（case_events）只能追加，不能修改'); END",
    "delete": "CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events "
    "BEGIN SELECT RAISE(ABORT, '案件历史记录（case_events）只能追加，不能删除'); END",
}


def behind_the_guards(app, statement: str, params: dict) -> None:
    """Change the history as someone with the database's keys would: triggers off, then on."""
    with app.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
            conn.execute(text(statement), params)
            conn.execute(text("ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))
            return
        for operation in SQLITE_NO:
            conn.execute(text(f"DROP TRIGGER case_events_no_{operation}"))
        conn.execute(text(statement), params)
        for create in SQLITE_NO.values():
            conn.execute(text(create))


def events_of(app, case_id: int) -> list:
    """The case's events as (id, trigger) rows, in order."""
    with app.uow() as uow:
        return uow.session.execute(
            select(CaseEvent.id, CaseEvent.trigger)
            .where(CaseEvent.case_id == case_id)
            .order_by(CaseEvent.id)
        ).all()


def test_an_event_whose_actor_was_rewritten_is_reported_with_its_case_and_event(
    app, settings, monkeypatch
):
    ids = demo_like_history(app)
    rejected = ids[-2]  # submitted → rejected, a deadline extension, a province notice
    reject = next(e for e in events_of(app, rejected) if e.trigger == "reject")
    behind_the_guards(
        app, "UPDATE case_events SET actor = '某领导' WHERE id = :i", {"i": reject.id}
    )

    result = run_cli(settings, monkeypatch, "audit", "verify", "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["tampered_case_ids"] == [rejected]
    (mismatch,) = report["mismatches"]
    assert mismatch["event_id"] == reject.id
    assert mismatch["message"].startswith(
        f"案件 {rejected}（历史记录 {reject.id}）：历史记录与哈希链不符：该记录在数据库中被改动"
    )
    table = run_cli(settings, monkeypatch, "audit", "verify")
    assert table.exit_code == 1
    assert f"案件 {rejected} 的状态与历史记录不符" in table.stderr


def test_an_event_removed_from_the_middle_of_a_history_is_reported(app):
    ids = demo_like_history(app)
    rejected = ids[-2]
    history = events_of(app, rejected)
    extension = next(i for i, e in enumerate(history) if e.trigger == "extend_deadline")
    behind_the_guards(
        app, "DELETE FROM case_events WHERE id = :i", {"i": history[extension].id}
    )  # not a state change: the replay alone would not notice

    with app.uow() as uow:
        report = audit.verify(uow)

    assert report.tampered_case_ids == [rejected]
    (mismatch,) = report.mismatches
    assert mismatch.event_id == history[extension + 1].id  # the event that followed it
    assert "或它之前的记录被删除" in mismatch.problem


def test_the_upgrade_hashes_existing_history_as_the_system_would_have(app):
    ids = demo_like_history(app)
    with app.uow() as uow:
        written = uow.session.execute(select(CaseEvent.id, CaseEvent.hash)).all()
    assert all(value for _, value in written)

    config = alembic_config(app.engine)
    try:
        command.downgrade(config, "0002")  # the column goes: history as before the chain
        command.upgrade(config, "0003")  # and comes back, backfilled case by case
    finally:
        upgrade(app.engine)

    with app.uow() as uow:
        assert uow.session.execute(select(CaseEvent.id, CaseEvent.hash)).all() == written
        report = audit.verify(uow)
    assert report.clean and report.cases_checked == len(ids)


def documented_chain(events: list[CaseEvent]) -> list[str]:
    """The chain as the README states it, computed here without the system's code."""
    hashes, previous = [], ""
    for e in events:
        fields = [e.case_id, e.trigger, e.from_state, e.to_state, e.actor, e.actor_kind]
        fields += [e.at.astimezone(UTC).isoformat(), e.note, e.data]
        canonical = json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        previous = hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()
        hashes.append(previous)
    return hashes


def test_single_and_batched_moves_continue_one_chain_per_case(app):
    with app.uow() as uow:
        ids = [a_case(uow).id for _ in range(3)]  # "created" through the single path
        moves = [batch.Move(i, "notify") for i in ids] + [batch.Move(ids[0], "escalate")]
        first = batch.transition_many(uow, moves, actor="测试流程")  # two moves of one case
        transitions.transition(uow, case_id=ids[1], trigger="start", actor="单位", note="开始整改")
        verified = batch.transition_many(
            uow, [batch.Move(i, "verify", proven_fixed=True) for i in ids[1:]], actor="复查"
        )
        assert (len(first.moved), len(verified.moved)) == (4, 2)
        uow.commit()

    with app.uow() as uow:
        for case_id in ids:
            events = uow.session.scalars(
                select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            ).all()
            assert [e.hash for e in events] == documented_chain(events)
        assert len(events) == 3 and audit.verify(uow).clean
