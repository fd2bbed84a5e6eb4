"""One email per case per cause: a case notified on its own is not notified again by its
round's publication; the unit's round email lists it apart, without a second portal link.
The confirmation's figures (``publication.plan``) are what the publication then queues."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import func, select

from services.cases import transitions
from services.core.clock import Clock
from services.core.uow import UnitOfWork
from services.db.access_models import UnitLink
from services.db.models import CaseEvent, OutboxMessage, Unit
from services.mail import outbox
from services.rounds import publication
from tests.builders import a_case, a_round, a_target, a_unit
from tests.integration.mail.test_outbox_delivery import smtp

EARLY = date(2021, 7, 5)


def _early(app) -> UnitOfWork:
    """A unit of work on 5 July: before the round's notice day (the app's clock)."""
    return UnitOfWork(app.session_factory, clock=Clock(EARLY), settings=app.settings)


def _round_with_one_case_notified_on_its_own(app) -> dict[str, list[int]]:
    """耿马县水务局: one case, notified on 5 July; 永德县: two found; 园区: one of each."""
    with _early(app) as uow:
        a_round(uow, "2021Q2", title="关于2021年二季度全市政府网站检查情况的通报")
        a_unit(uow, "swj", name="耿马县水务局", contact_email="swj@units.test")
        a_unit(uow, "yongde", name="永德县人民政府", contact_email="yd@units.test")
        a_unit(uow, "park", name="临沧工业园区管理委员会", contact_email="park@units.test")
        ids: dict[str, list[int]] = {"swj": [], "yongde": [], "park": []}
        for unit, category in [
            ("swj", "column_stale"),
            ("yongde", "column_stale"),
            ("yongde", "site_unreachable"),
            ("park", "column_stale"),
            ("park", "site_unreachable"),
        ]:
            target = a_target(uow, unit_code=unit).code
            ids[unit].append(a_case(uow, target_code=target, category=category).id)
        for case_id in (ids["swj"][0], ids["park"][0]):
            transitions.transition(uow, case_id=case_id, trigger="notify", actor="张三")
        uow.commit()
    return ids


def test_the_confirmation_counts_what_publishing_then_queues(app):
    ids = _round_with_one_case_notified_on_its_own(app)
    with app.uow() as uow:
        plan = publication.plan(uow, round_code="2021Q2")
    with app.uow() as uow:  # the dry run changed nothing
        assert uow.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2

    assert plan.sentence == "将向 3 个单位发送 3 封通知邮件，涉及 5 个案件"
    assert (plan.cases, plan.earlier) == (3, 2)
    by_unit = {n.unit_code: n for n in plan.notices}
    assert by_unit["swj"].new == () and [i for i, _ in by_unit["swj"].earlier] == ids["swj"]
    assert by_unit["park"].new == (ids["park"][1],)
    assert by_unit["park"].earlier == ((ids["park"][0], "2021-07-05"),)

    with app.uow() as uow:
        summary = publication.publish_round(uow, round_code="2021Q2", actor="测试员")
    with app.uow() as uow:
        round_rows = uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == "round_notice")
        ).all()
    assert summary.notified == plan.cases == 3
    assert len(round_rows) == plan.emails == 3


def test_a_case_notified_on_its_own_gets_one_notice_and_no_second_link(app, mail_server):
    ids = _round_with_one_case_notified_on_its_own(app)
    with app.uow() as uow:
        publication.publish_round(uow, round_code="2021Q2", actor="测试员")
    with app.uow() as uow:
        rows = uow.session.execute(
            select(Unit.code, OutboxMessage.template)
            .join(Unit, Unit.id == OutboxMessage.unit_id)
            .order_by(OutboxMessage.id)
        ).all()
        renotified = uow.session.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.trigger == "notify", CaseEvent.case_id.in_(ids["swj"]))
        )
        links = Counter(
            code
            for (code,) in uow.session.execute(
                select(Unit.code).join(UnitLink, UnitLink.unit_id == Unit.id)
            )
        )

    # exactly one email per unit and cause: its own case notices, then one round email
    assert Counter(rows) == {
        ("swj", "case_notice"): 1,
        ("park", "case_notice"): 1,
        ("swj", "round_notice"): 1,
        ("yongde", "round_notice"): 1,
        ("park", "round_notice"): 1,
    }
    assert renotified == 1  # its own notify; the publication fired none
    assert links == {"swj": 1, "park": 2, "yongde": 1}  # 水务局: its first link only

    report = outbox.dispatch(app, sender=smtp(app, mail_server))
    assert report.sent == 5
    # several SMTP connections deliver side by side: the two emails in either order
    received = mail_server.to("swj@units.test")
    assert len(received) == 2
    [round_mail] = [m for m in received if m.message["Subject"].startswith("【检查通报】")]
    [own] = [m for m in received if m is not round_mail]
    assert "/portal/" in own.text
    assert round_mail.message["Subject"] == (
        "【检查通报】《关于2021年二季度全市政府网站检查情况的通报》已印发："
        "耿马县水务局的1个问题此前已单独通知"
    )
    for body in (round_mail.text, round_mail.html):
        assert "以下1个问题已于2021年7月5日单独通知贵单位，本通知不再重复通知" in body
        assert "/portal/" not in body
    park = next(
        m for m in mail_server.to("park@units.test") if "整改通知】《" in m.message["Subject"]
    )
    assert park.message["Subject"].endswith("涉及临沧工业园区管理委员会的1个问题，请按期整改")
    new_part, earlier_part = park.text.split("另有1个问题已于2021年7月5日单独通知贵单位")
    assert new_part.count("/portal/") == 1 and "/portal/" not in earlier_part
    assert "站点无法访问" in new_part and "栏目更新不及时" in earlier_part


def test_a_publication_killed_after_notifying_every_case_still_mails_and_is_marked(app):
    """Every case notified by the publication, killed before its emails: not taken for a
    round published before the system; the run again queues them and marks it."""
    ids = _round_with_one_case_notified_on_its_own(app)
    with app.uow() as uow:
        found = publication.found_case_ids(uow, round_code="2021Q2")
        publication.notify_range(
            uow, round_code="2021Q2", first_id=found[0], last_id=found[-1], actor="测试员"
        )
    with app.uow() as uow:
        again = publication.publish_round(uow, round_code="2021Q2", actor="测试员")
    assert again.notified == 0
    assert again.cases_per_unit == {"swj": 0, "yongde": 2, "park": 1}
    assert again.published_at.startswith("2021-07-19T")
    assert len(ids["yongde"]) == 2
