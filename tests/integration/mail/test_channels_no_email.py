"""A unit reached by its group robot only: no email address, no failed email row per notice
(that row made every dispatch run end Failed and paged the operators); a unit with neither
an address nor a robot keeps its visible failure."""

from __future__ import annotations

import pytest

from services.cases import transitions
from services.mail import causes, outbox, outbox_admin
from services.mail.robots import NO_LINK
from services.registry import channels
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.robot_receiver import RobotReceiver

NO_ADDRESS = "单位「孟定镇人民政府」没有填写联系人邮箱，邮件未发送"


@pytest.fixture
def robots():
    receiver = RobotReceiver().start()
    yield receiver
    receiver.stop()


def _unit(app, robots: RobotReceiver | None, *, email: str | None = None, enabled=True) -> int:
    """孟定镇 with a notified case of round 2021Q2 and (``robots``) a WeCom robot."""
    with app.uow() as uow:
        a_round(uow, "2021Q2", title="2021年二季度政府网站检查")
        unit = a_unit(uow, "mengding", name="孟定镇人民政府", contact_email=None)
        unit.contact_email = email  # (a mistyped one: imported before addresses were checked)
        case = a_case(uow, target_code=a_target(uow, unit_code="mengding").code, state="found")
        transitions.transition(
            uow, case_id=case.id, trigger="notify", actor="发布", data={"publication": True}
        )
        if robots is not None:
            url = robots.urls()["wecom"]
            view = channels.add_channel(uow, unit_code="mengding", kind="wecom", webhook_url=url)
            channels.set_enabled(uow, channel_id=view.id, enabled=enabled)
        uow.commit()
    return case.id


def _notice(app, case_id: int):
    with app.uow() as uow:
        case = uow.session.get(transitions.Case, case_id)
        queued = causes.queue_round_notice(
            uow, round_id=case.round_id, unit_id=case.unit_id, case_ids=[case_id]
        )
        uow.commit()
    return queued


def _rows(app) -> list[tuple[str, str, str | None]]:
    with app.uow() as uow:
        rows = sorted(outbox_admin.list_messages(uow), key=lambda r: r.id)
    return [(r.channel, r.status, r.last_error) for r in rows]


def test_a_unit_without_email_is_told_by_its_robot_and_no_email_fails(app, robots):
    case_id = _unit(app, robots)

    first = _notice(app, case_id)
    again = _notice(app, case_id)  # a re-run of the publication writes nothing
    report = outbox.dispatch(app)

    assert first is not None and first.channel == "wecom" and again is None
    assert (report.claimed, report.sent, report.failed) == (1, 1, 0)
    assert report.by_channel == {"wecom": {"sent": 1}}
    assert _rows(app) == [("wecom", "sent", None)]
    [told] = robots.of("wecom")
    assert told.title.startswith("【整改通知】") and "孟定镇人民政府：" in told.text
    assert NO_LINK in told.text and "已通过邮件发送" not in told.text


def test_a_unit_with_neither_email_nor_robot_keeps_its_visible_failure(app):
    case_id = _unit(app, None)

    _notice(app, case_id)

    assert _rows(app) == [("email", "failed", NO_ADDRESS)]


def test_a_disabled_robot_carries_nothing_so_the_failure_stays(app, robots):
    case_id = _unit(app, robots, enabled=False)

    _notice(app, case_id)

    assert _rows(app) == [("email", "failed", NO_ADDRESS)]


def test_a_mistyped_address_still_fails_visibly_beside_the_robot(app, robots):
    case_id = _unit(app, robots, email="mengding-at-units.test")

    _notice(app, case_id)

    assert [(c, s) for c, s, _ in _rows(app)] == [("email", "failed"), ("wecom", "pending")]


def test_a_rejection_reaches_the_robot_of_a_unit_without_email_and_no_email_fails(app, robots):
    case_id = _unit(app, robots)
    with app.uow() as uow:
        for trigger in ("start", "submit"):
            transitions.transition(uow, case_id=case_id, trigger=trigger, actor="孟定镇")
        transitions.transition(
            uow, case_id=case_id, trigger="reject", actor="审核员", note="佐证材料不清晰"
        )
        uow.commit()

    report = outbox.dispatch(app)

    assert report.failed == 0 and report.by_channel["wecom"] == {"sent": 2}
    with app.uow() as uow:
        [email] = [m for m in outbox_admin.list_messages(uow) if m.channel == "email"]
    assert email.to_addrs == [app.settings.supervisor_email]  # the review request, not the unit
    told = sorted(robots.of("wecom"), key=lambda d: d.title)  # sent concurrently
    assert [d.title[:6] for d in told] == ["【回执】已收", "【退回整改】"]
    rejection = told[1]
    assert "佐证材料不清晰" in rejection.text and NO_LINK in rejection.text
