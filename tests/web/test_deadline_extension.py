"""A supervisor extends a case's deadline on the case page; the history shows old → new."""

from __future__ import annotations

import re
from datetime import date

from services.core.clock import Clock
from services.core.uow import UnitOfWork
from services.db.models import Case, CaseEvent
from tests.builders import a_case, a_target, a_unit
from tests.web.conftest import a_user, client_for, csrf_of, login

FORM = 'action="/cases/{}/deadline"'


def _case(app, *, state: str = "notified", deadline: date = date(2021, 8, 10)) -> int:
    with app.uow() as uow:
        a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        case = a_case(uow, state=state, target_code=a_target(uow, unit_code="gengma").code)
        case.deadline = deadline
        uow.commit()
        return case.id


def _stored(app, case_id: int) -> tuple[date | None, int]:
    with app.uow() as uow:
        extensions = (
            uow.session.query(CaseEvent)
            .filter_by(case_id=case_id, trigger="extend_deadline")
            .count()
        )
        return uow.session.get(Case, case_id).deadline, extensions


def _value(page, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page.text)
    return found.group(1) if found else ""


async def test_a_supervisor_extends_a_deadline_and_the_history_shows_old_and_new(app, supervisor):
    case_id = _case(app)
    page = await supervisor.get(f"/cases/{case_id}")
    assert FORM.format(case_id) in page.text and "新的整改期限" in page.text

    answer = await supervisor.post(
        f"/cases/{case_id}/deadline",
        data={
            "csrf_token": csrf_of(page),
            "new_deadline": "2021-08-20",
            "reason": "网站改版，需协调技术公司",
        },
    )

    assert answer.status_code == 303
    after = await supervisor.get(answer.headers["location"])
    assert "整改期限已延长至 2021-08-20" in after.text
    assert "延长整改期限：2021-08-10 → 2021-08-20" in after.text
    assert "延期理由：网站改版，需协调技术公司" in after.text
    assert _stored(app, case_id) == (date(2021, 8, 20), 1)


async def test_an_empty_reason_is_refused_in_chinese_with_the_form_as_typed(app, supervisor):
    case_id = _case(app)
    page = await supervisor.get(f"/cases/{case_id}")

    refused = await supervisor.post(
        f"/cases/{case_id}/deadline",
        data={"csrf_token": csrf_of(page), "new_deadline": "2021-08-25", "reason": "  "},
    )

    assert refused.status_code == 400
    assert "延长整改期限必须填写理由" in refused.text
    assert _value(refused, "new_deadline") == "2021-08-25"
    assert f"案件 {case_id}" in refused.text and "处理记录" in refused.text  # the case page
    assert _stored(app, case_id) == (date(2021, 8, 10), 0)


async def test_a_date_not_later_than_the_deadline_is_refused_and_the_reason_kept(app, supervisor):
    case_id = _case(app)
    page = await supervisor.get(f"/cases/{case_id}")

    refused = await supervisor.post(
        f"/cases/{case_id}/deadline",
        data={"csrf_token": csrf_of(page), "new_deadline": "2021-08-10", "reason": "单位申请"},
    )

    assert refused.status_code == 400
    assert "新期限 2021-08-10 必须晚于原期限 2021-08-10" in refused.text
    assert ">单位申请</textarea>" in refused.text
    assert _stored(app, case_id) == (date(2021, 8, 10), 0)


async def test_a_date_not_later_than_today_is_refused(app, supervisor):
    """An overdue case (deadline 2021-07-01, today 2021-07-19) may not get a past deadline."""
    case_id = _case(app, deadline=date(2021, 7, 1))
    page = await supervisor.get(f"/cases/{case_id}")

    refused = await supervisor.post(
        f"/cases/{case_id}/deadline",
        data={"csrf_token": csrf_of(page), "new_deadline": "2021-07-10", "reason": "补办"},
    )

    assert refused.status_code == 400
    assert "必须晚于今天 2021-07-19" in refused.text
    assert _stored(app, case_id) == (date(2021, 7, 1), 0)


async def test_a_date_that_is_no_date_is_refused_in_chinese(app, supervisor):
    case_id = _case(app)
    page = await supervisor.get(f"/cases/{case_id}")

    refused = await supervisor.post(
        f"/cases/{case_id}/deadline",
        data={"csrf_token": csrf_of(page), "new_deadline": "8月20日", "reason": "单位申请"},
    )

    assert refused.status_code == 400 and "YYYY-MM-DD" in refused.text
    assert _stored(app, case_id) == (date(2021, 8, 10), 0)


async def test_the_form_is_only_where_a_deadline_runs_and_only_for_who_may_act(
    app, web_app, supervisor
):
    running = _case(app)
    with app.uow() as uow:
        found = a_case(uow, state="found", target_code=a_target(uow, unit_code="gengma").code)
        verified = a_case(uow, state="verified", target_code=a_target(uow, unit_code="gengma").code)
        uow.commit()
        found_id, verified_id = found.id, verified.id
    for case_id in (found_id, verified_id):
        page = await supervisor.get(f"/cases/{case_id}")
        assert page.status_code == 200 and FORM.format(case_id) not in page.text
    viewer = a_user(app, "wang", role="viewer")
    async with client_for(web_app) as client:
        await login(client, "wang", viewer.password)
        page = await client.get(f"/cases/{running}")
        assert page.status_code == 200 and FORM.format(running) not in page.text
        refused = await client.post(
            f"/cases/{running}/deadline",
            data={"csrf_token": csrf_of(page), "new_deadline": "2021-08-20", "reason": "试试"},
        )
        assert refused.status_code == 403
    assert _stored(app, running) == (date(2021, 8, 10), 0)


async def test_an_extension_stamped_before_the_cases_last_event_is_refused_and_not_shown(
    app, supervisor
):
    """The case was notified on 2021-07-25; the web runs on 2021-07-19: refused, and the page
    shows the deadline as stored, not the one refused (it was written, then rolled back)."""
    later = UnitOfWork(app.session_factory, clock=Clock(date(2021, 7, 25)), settings=app.settings)
    with later as uow:
        a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        case = a_case(uow, state="notified", target_code=a_target(uow, unit_code="gengma").code)
        case.deadline = date(2021, 8, 10)
        uow.commit()
        case_id = case.id
    page = await supervisor.get(f"/cases/{case_id}")

    refused = await supervisor.post(
        f"/cases/{case_id}/deadline",
        data={"csrf_token": csrf_of(page), "new_deadline": "2021-08-30", "reason": "单位申请"},
    )

    assert refused.status_code == 400 and "早于该案件最近一次记录的时间" in refused.text
    shown = re.search(r"<dt>整改期限</dt><dd>([\d-]+)", refused.text).group(1)
    assert shown == "2021-08-10"
    assert _value(refused, "new_deadline") == "2021-08-30"  # the form as typed
    assert _stored(app, case_id) == (date(2021, 8, 10), 0)
