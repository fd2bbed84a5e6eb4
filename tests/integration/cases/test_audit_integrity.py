"""Case history is append-only, and ``rectify audit verify`` finds a state that lies about it."""

import gc
import json
from datetime import date

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.cases import audit, transitions
from services.db.append_only import AppendOnlyViolation
from services.db.engine import make_session_factory
from services.db.models import Case, CaseEvent, CaseNotice
from services.ops import demo
from tests.builders import a_case

TAMPERING = [
    "UPDATE case_events SET note = '改写' WHERE case_id = :case_id",
    "UPDATE case_events SET to_state = 'verified' WHERE case_id = :case_id",
    "DELETE FROM case_events WHERE case_id = :case_id",
    "UPDATE case_notices SET reference = '伪造' WHERE case_id = :case_id",
    "DELETE FROM case_notices WHERE case_id = :case_id",
]


def history_rows(engine, case_id):
    with engine.connect() as conn:
        events = conn.execute(
            text("SELECT * FROM case_events WHERE case_id = :c ORDER BY id"), {"c": case_id}
        ).all()
        notices = conn.execute(
            text("SELECT * FROM case_notices WHERE case_id = :c ORDER BY id"), {"c": case_id}
        ).all()
    return events, notices


def run_cli(settings, monkeypatch, *args):
    monkeypatch.setenv("RECTIFY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RECTIFY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("COLUMNS", "300")  # no wrapping in the messages asserted on
    return CliRunner().invoke(cli_app, list(args))


def demo_like_history(app) -> list[int]:
    """Cases in every state, with deadline extensions, notices, a rejection and a recheck."""
    with app.uow() as uow:
        ids = [a_case(uow, state=state).id for state in cases_states()]
        rejected = a_case(uow, state="submitted")
        transitions.transition(
            uow, case_id=rejected.id, trigger="reject", actor="督查员", note="不彻底"
        )
        transitions.extend_deadline(
            uow, case_id=rejected.id, new_deadline=date(2021, 9, 1), reason="需采购", actor="督查员"
        )
        transitions.record_notice(
            uow, case_id=rejected.id, level="province", notified_on=date(2021, 8, 2), actor="督查员"
        )
        proven = a_case(uow, state="escalated")
        transitions.transition(
            uow, case_id=proven.id, trigger="verify", actor="复查", actor_kind="system",
            proven_fixed=True,
        )  # fmt: skip
        uow.commit()
        return [*ids, rejected.id, proven.id]


def cases_states() -> list[str]:
    return ["found", "notified", "rectifying", "submitted", "verified", "escalated"]


@pytest.mark.parametrize("statement", TAMPERING)
def test_the_database_refuses_to_rewrite_or_erase_case_history(app, statement):
    with app.uow() as uow:
        case_id = a_case(uow, state="submitted").id
        uow.commit()
    before = history_rows(app.engine, case_id)

    with pytest.raises(IntegrityError, match="只能追加"), app.engine.begin() as conn:
        conn.execute(text(statement), {"case_id": case_id})

    assert history_rows(app.engine, case_id) == before
    assert before[0] and before[1]  # there was history to protect


def test_the_session_refuses_to_change_an_event_before_the_database_sees_it(app):
    with app.uow() as uow:
        case_id = a_case(uow, state="notified").id
        uow.commit()
    with app.uow() as uow:
        event = uow.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)).first()
        event_id, event.note = event.id, "事后补记"
        with pytest.raises(AppendOnlyViolation, match=f"历史记录只能追加，不能修改.*id={event_id}"):
            uow.commit()
    with app.uow() as uow:
        assert uow.session.get(CaseEvent, event_id).note is None


@pytest.mark.parametrize(
    ("model", "rows"),
    [(CaseEvent, 2), (CaseNotice, 1)],  # a notified case: created + notify; one city notice
)
def test_the_session_refuses_to_delete_history(app, model, rows):
    with app.uow() as uow:
        case_id = a_case(uow, state="notified").id
        uow.commit()
    with app.uow() as uow:
        row = uow.session.scalars(select(model).where(model.case_id == case_id)).first()
        uow.session.delete(row)
        with pytest.raises(AppendOnlyViolation, match="只能追加，不能删除"):
            uow.flush()
    with app.uow() as uow:
        count = uow.session.scalar(select(func.count()).where(model.case_id == case_id))
        assert count == rows  # nothing was deleted


def test_every_new_session_factory_guards_history_even_after_old_ones_are_collected(app):
    with app.uow() as uow:
        case_id = a_case(uow, state="notified").id
        uow.commit()
    for _ in range(20):  # a new factory may reuse the address of a collected one
        gc.collect()
        with make_session_factory(app.engine)() as session:
            session.delete(session.scalars(select(CaseEvent).filter_by(case_id=case_id)).first())
            with pytest.raises(AppendOnlyViolation):
                session.flush()


def test_reading_history_without_changing_it_passes_the_guard(app):
    with app.uow() as uow:
        case_id = a_case(uow, state="rectifying").id
        for event in uow.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)):
            event.note = event.note  # assigned, but not changed
        transitions.transition(uow, case_id=case_id, trigger="submit", actor="单位")
        uow.commit()
    with app.uow() as uow:
        assert uow.session.get(Case, case_id).state == "submitted"


def test_the_demo_and_a_history_through_every_state_verify_clean(app, settings, monkeypatch):
    with app.uow() as uow:
        demo.load_demo(uow)
        uow.commit()
        demo_cases = uow.session.scalar(select(func.count()).select_from(Case))
    ids = demo_like_history(app)

    result = run_cli(settings, monkeypatch, "audit", "verify")

    assert result.exit_code == 0, result.output
    assert f"审计通过：{demo_cases + len(ids)} 件案件" in result.output


@pytest.mark.tampers
def test_a_state_changed_behind_the_systems_back_is_reported_with_its_case(
    app, settings, monkeypatch
):
    ids = demo_like_history(app)
    tampered = ids[1]  # notified
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE cases SET state = 'verified' WHERE id = :i"), {"i": tampered})

    result = run_cli(settings, monkeypatch, "audit", "verify", "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["clean"] is False
    assert report["tampered_case_ids"] == [tampered]
    (mismatch,) = report["mismatches"]
    assert mismatch["expected"] == "「已通知」(notified)"
    assert mismatch["found"] == "「已核验」(verified)"
    assert f"案件 {tampered}：当前状态与历史回放不符" in mismatch["message"]

    table = run_cli(settings, monkeypatch, "audit", "verify")
    assert table.exit_code == 1
    assert f"案件 {tampered} 的状态与历史记录不符" in table.stderr


@pytest.mark.tampers
def test_a_forged_verification_without_proof_is_reported(app):
    with app.uow() as uow:
        case_id = a_case(uow, state="notified").id
        uow.commit()
    with app.engine.begin() as conn:  # inserts are allowed: a forger appends a plausible row
        conn.execute(
            text(
                "INSERT INTO case_events (case_id, trigger, from_state, to_state, actor, "
                "actor_kind, at, data) VALUES (:c, 'verify', 'notified', 'verified', '某人', "
                "'user', :at, '{}')"
            ),
            {"c": case_id, "at": "2021-07-20 08:00:00+00:00"},
        )
        conn.execute(text("UPDATE cases SET state = 'verified' WHERE id = :c"), {"c": case_id})

    with app.uow() as uow:
        report = audit.verify(uow)

    assert report.tampered_case_ids == [case_id]
    mismatch, unhashed = report.mismatches
    assert mismatch.problem == "状态机不允许这次流转"
    assert "未经复查证明已整改" in mismatch.found
    assert unhashed.problem == "历史记录没有校验哈希，不是本系统写入的记录"
    assert unhashed.event_id == mismatch.event_id


@pytest.mark.tampers
def test_a_broken_chain_and_a_silent_state_change_are_each_reported(app):
    with app.uow() as uow:
        case_id = a_case(uow, state="rectifying").id
        uow.commit()
    with app.engine.begin() as conn:
        for trigger, from_state, to_state in [
            ("submit", "notified", "submitted"),  # does not follow rectifying
            ("record_notice", "submitted", "escalated"),  # not a transition, yet moves
        ]:
            conn.execute(
                text(
                    "INSERT INTO case_events (case_id, trigger, from_state, to_state, actor, "
                    "actor_kind, at, data) VALUES (:c, :t, :f, :s, '某人', 'user', :at, '{}')"
                ),
                {"c": case_id, "t": trigger, "f": from_state, "s": to_state, "at": "2021-07-20"},
            )

    with app.uow() as uow:
        report = audit.verify(uow)

    assert [m.problem for m in report.mismatches] == [
        "起始状态与上一条记录的结果不符",
        "「record_notice」不是状态流转，却改变了状态",
        "当前状态与历史回放不符",
        *["历史记录没有校验哈希，不是本系统写入的记录"] * 2,  # neither written by the system
    ]
