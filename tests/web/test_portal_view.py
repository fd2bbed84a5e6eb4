"""The unit portal tells what the office's pages tell: open cases first by deadline with the
days left, carried-over and verified cases read only (a continued case refuses a submission
and points to the case that continues it), the unit's submissions with the office's replies,
and error pages in the portal's layout."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from services.access import unit_links
from services.cases import submissions, transitions
from services.db.models import Case, CaseEvent, OutboxMessage, Submission
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.flowkit import at
from tests.web.conftest import csrf_of

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
UNIT = "耿马县人民政府"
HEADER = '<span class="brand">整改材料报送</span>'


@dataclass
class Portal:
    token: str
    ids: dict[str, int]

    def url(self, name: str | None = None) -> str:
        return f"/portal/{self.token}" + (f"/cases/{self.ids[name]}" if name else "")


@pytest.fixture
def portal(app) -> Portal:
    """耿马: four open cases due on different days (today is 2021-07-19), a verified one, and a
    2021Q1 case carried over to 2021Q2; 沧源 has a case of its own."""
    with app.uow() as uow:
        a_round(uow, "2021Q1")
        a_round(uow, "2021Q2")
        unit = a_unit(uow, "gengma", name=UNIT, kind="county_gov")
        a_unit(uow, "cangyuan", name="沧源县人民政府", kind="county_gov")

        def case(state: str, **fields) -> Case:
            site = fields.pop("target_code", None) or a_target(uow, unit_code="gengma").code
            return a_case(uow, state=state, target_code=site, **fields)

        ids = {
            "later": case("rectifying").id,
            "overdue": case("notified").id,
            "today": case("notified").id,
            "verified": case("verified").id,
        }
        old = case("notified", round_code="2021Q1")
        ids["old"] = old.id
        ids["new"] = case("notified", target_code=old.target.code, previous_case_id=old.id).id
        ids["other"] = a_case(
            uow, state="notified", target_code=a_target(uow, unit_code="cangyuan").code
        ).id
        due = {"later": 24, "overdue": 16, "today": 19, "new": 32, "old": 10}
        for name, day in due.items():
            uow.session.get(Case, ids[name]).deadline = date(2021, 7, 1) + timedelta(day - 1)
        token = unit_links.issue_link(uow, unit_id=unit.id).token
        uow.commit()
    assert _state(app, ids["old"]) == "continued"
    return Portal(token, ids)


def _state(app, case_id: int) -> str:
    with app.uow() as uow:
        return uow.session.get(Case, case_id).state


def _count(app, model) -> int:
    with app.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(model))


async def test_open_cases_come_first_by_deadline_with_the_days_left(anon, portal):
    page = await anon.get(portal.url())
    assert page.status_code == 200
    open_part, closed_part = page.text.split('id="closed-cases"')
    listed = [int(i) for i in re.findall(rf"{portal.url()}/cases/(\d+)\">填写整改情况", open_part)]
    assert listed == [portal.ids[n] for n in ("overdue", "today", "later", "new")]
    assert '<span class="overdue nowrap">超期 3 天</span>' in open_part  # in red
    assert "今天到期" in open_part and "剩余 5 天" in open_part and "剩余 13 天" in open_part
    assert "已转入下一轮和已办结的问题（只读）" in open_part  # the heading of the second table
    assert f"/cases/{portal.ids['other']}" not in page.text  # another unit's case


async def test_a_continued_case_is_listed_read_only_with_its_successor(anon, portal):
    page = await anon.get(portal.url())
    closed_part = page.text.split('id="closed-cases"')[1]
    rows = re.findall(r"<tr><td>(\d+)</td>(.*?)</tr>", closed_part, re.S)
    assert [int(i) for i, _ in rows] == [portal.ids["old"], portal.ids["verified"]]
    old_row = rows[0][1]
    assert "已转入下一轮" in old_row and "已转入 2021Q2 轮继续整改" in old_row
    assert f'<a href="{portal.url("new")}">案件 {portal.ids["new"]}</a>' in old_row
    assert "整改完成" in rows[1][1]
    assert "填写整改情况" not in closed_part and "超期" not in closed_part


async def test_a_continued_case_shows_no_form_and_refuses_a_post_in_chinese(app, anon, portal):
    note = f"该问题已转入 2021Q2 轮继续整改，请在案件 {portal.ids['new']} 中提交"
    page = await anon.get(portal.url("old"))
    assert page.status_code == 200
    assert note in page.text and f'href="{portal.url("new")}"' in page.text
    assert "<form" not in page.text and "填写整改情况" not in page.text
    assert "超期" not in page.text  # its old deadline (7-10) no longer runs

    before = (_count(app, Submission), _count(app, CaseEvent), _count(app, OutboxMessage))
    form = await anon.get(portal.url("new"))  # a form of the same session, for its CSRF token
    response = await anon.post(
        portal.url("old"),
        data={
            "text": "已注销域名",
            "responsible_person": "李明",
            "phone": "0883-1234567",
            "csrf_token": csrf_of(form),
        },
        files=[("attachments", ("整改报告.pdf", PDF))],
    )
    assert response.status_code == 409
    assert f"未提交：{note}" in response.text and HEADER in response.text
    assert _state(app, portal.ids["old"]) == "continued"
    assert (_count(app, Submission), _count(app, CaseEvent), _count(app, OutboxMessage)) == before
    folder = app.settings.data_dir / "attachments"
    assert not folder.exists() or list(folder.iterdir()) == []


def _submit(app, day: date, case_id: int, unit_id: int, text: str, files=()) -> None:
    with at(app, day).uow() as uow:
        submissions.submit_rectification(
            uow,
            unit_id=unit_id,
            case_id=case_id,
            text=text,
            responsible_person="李明",
            phone="0883-1234567",
            files=[submissions.IncomingFile(name, io.BytesIO(data)) for name, data in files],
        )


def _review(app, day: date, case_id: int, trigger: str, note: str | None = None) -> None:
    with at(app, day).uow() as uow:
        transitions.transition(uow, case_id=case_id, trigger=trigger, actor="张监管", note=note)
        uow.commit()


async def test_the_unit_sees_what_it_submitted_and_the_offices_replies(app, anon, portal):
    case_id = portal.ids["later"]
    with app.uow() as uow:
        unit_id = uow.session.get(Case, case_id).unit_id
    _submit(app, date(2021, 7, 20), case_id, unit_id, "已更新栏目", [("整改报告.pdf", PDF)])
    _review(app, date(2021, 7, 21), case_id, "reject", "缺少盖章扫描件")
    waiting = await anon.get(portal.url("later"))
    assert "重新提交整改情况" in waiting.text and "退回理由：缺少盖章扫描件" in waiting.text
    _submit(app, date(2021, 7, 22), case_id, unit_id, "已补充盖章扫描件", [("盖章件.pdf", PDF)])
    _review(app, date(2021, 7, 23), case_id, "verify")

    page = await anon.get(portal.url("later"))
    assert "本单位的提交记录与审核意见（北京时间）" in page.text
    first, second = page.text.split("第 2 次提交")
    # Times are Beijing time: the clock's 09:00 in Shanghai, stored as 01:00 UTC.
    assert "第 1 次提交</strong> · 2021-07-20 09:00 · 责任人 李明" in first
    assert "已更新栏目" in first and "整改报告.pdf" in first
    assert "退回整改</strong> · 2021-07-21 09:00" in first and "退回理由：缺少盖章扫描件" in first
    assert "2021-07-22 09:00" in second and "已补充盖章扫描件" in second and "盖章件.pdf" in second
    assert "核验通过</strong> · 2021-07-23 09:00" in second
    assert "<form" not in page.text  # verified: nothing more to submit
    assert "该问题已核验通过，整改完成，无需再提交整改材料" in page.text


async def test_portal_error_pages_carry_the_portal_header(app, anon, supervisor, portal):
    with app.uow() as uow:
        unit_id = uow.session.get(Case, portal.ids["later"]).unit_id
        expired = unit_links.issue_link(uow, unit_id=unit_id, ttl=timedelta(seconds=-1)).token
        uow.commit()
    refused = await anon.get(f"/portal/{expired}")
    assert refused.status_code == 403 and "链接已过期" in refused.text
    assert HEADER in refused.text and UNIT not in refused.text  # the link names no unit
    missing = await anon.get(f"{portal.url()}/cases/999999")
    assert missing.status_code == 404 and "案件 999999 不存在" in missing.text
    assert f'{HEADER}<span class="who">{UNIT}</span>' in missing.text
    assert f'<a href="{portal.url()}">返回</a>（本单位问题列表）' in missing.text
    foreign = await anon.get(f"{portal.url()}/cases/{portal.ids['other']}")
    assert foreign.status_code == 403 and f'<span class="who">{UNIT}</span>' in foreign.text
    # A supervisor signed in on the same browser still gets no supervisor navigation there.
    seen = await supervisor.get(f"{portal.url()}/cases/999999")
    assert seen.status_code == 404 and HEADER in seen.text
    assert "工作台" not in seen.text and "退出" not in seen.text


async def test_a_case_carried_over_twice_points_to_the_case_that_holds_the_problem_now(
    app, anon, portal
):
    with app.uow() as uow:
        a_round(uow, "2021Q3")
        new = uow.session.get(Case, portal.ids["new"])
        latest = a_case(
            uow, state="notified", round_code="2021Q3", target_code=new.target.code,
            previous_case_id=new.id,
        ).id  # fmt: skip
        uow.commit()
    for name in ("old", "new"):
        page = await anon.get(portal.url(name))
        assert f"该问题已转入 2021Q3 轮继续整改，请在案件 {latest} 中提交" in page.text
        assert f'href="{portal.url()}/cases/{latest}">前往案件 {latest}</a>' in page.text
