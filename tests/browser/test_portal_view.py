"""The 临沧工业园区 portal of the demo in Chromium: its open cases first, by deadline, with the
days left; its two carried-over cases read only, each naming the case that continues it.
The screenshot is the demo as loaded (its 2021Q2 cases found, not yet notified)."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from services.access import unit_links
from services.cases import transitions
from services.db.models import Case, Unit
from services.ops.demo import load_demo


def _demo_link(app) -> tuple[str, dict[int, str]]:
    """The demo loaded; a portal link of 临沧工业园区 (gyyq) and its cases' states by id."""
    with app.uow() as uow:
        load_demo(uow)
        uow.commit()
        unit = uow.session.scalar(select(Unit).where(Unit.code == "gyyq"))
        token = unit_links.issue_link(uow, unit_id=unit.id).token
        uow.commit()
        found = uow.session.execute(select(Case.id, Case.state).where(Case.unit_id == unit.id))
        states = dict(found.all())
    return token, states


def test_the_park_portal_lists_open_cases_first_and_carried_over_ones_read_only(
    app, live_server, browser, artifacts
):
    token, states = _demo_link(app)
    continued = sorted(i for i, s in states.items() if s == "continued")
    assert continued == [1, 2]  # the demo's two cases a later round's case took over
    page = browser.new_page(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server}/portal/{token}")
    expect(page.locator("header")).to_contain_text("临沧工业园区管理委员会")

    open_rows = page.locator("#open-cases tr:has(td)")
    open_ids = [int(t) for t in open_rows.locator("td:first-child").all_inner_texts()]
    assert sorted(open_ids) == sorted(i for i, s in states.items() if s != "continued")
    assert set(open_ids).isdisjoint(continued)

    closed = page.locator("#closed-cases")
    expect(page.get_by_role("heading", name="已转入下一轮和已办结的问题（只读）")).to_be_visible()
    closed_ids = [int(t) for t in closed.locator("tr:has(td) td:first-child").all_inner_texts()]
    assert closed_ids == [2, 1]
    expect(closed.get_by_text("填写整改情况")).to_have_count(0)
    expect(closed.locator("tr:has(td)").nth(0)).to_contain_text("已转入 2021Q2 轮继续整改：案件 15")
    expect(closed.locator("tr:has(td)").nth(1)).to_contain_text("已转入 2021Q2 轮继续整改：案件 15")
    page.screenshot(path=str(artifacts / "issue15-after-portal.png"), full_page=True)

    closed.get_by_role("link", name="查看").first.click()
    expect(page.get_by_role("note")).to_contain_text(
        "该问题已转入 2021Q2 轮继续整改，请在案件 15 中提交"
    )
    expect(page.locator("form")).to_have_count(0)
    page.get_by_role("link", name="前往案件 15").click()
    expect(page.get_by_role("heading", name="案件 15", exact=False)).to_be_visible()

    # The office notifies the zombie account (16): it now has a deadline and comes first.
    with app.uow() as uow:
        transitions.transition(uow, case_id=16, trigger="notify", actor="市政府办公室")
        uow.commit()
        left = (uow.session.get(Case, 16).deadline - uow.clock.today()).days
    page.goto(f"{live_server}/portal/{token}")
    rows = page.locator("#open-cases tr:has(td)")
    assert [int(t) for t in rows.locator("td:first-child").all_inner_texts()] == [16, 15]
    expect(rows.nth(0)).to_contain_text(f"剩余 {left} 天")
    expect(rows.nth(0).get_by_role("link", name="填写整改情况")).to_be_visible()
    expect(rows.nth(1)).to_contain_text("待下发整改通知")
    page.screenshot(path=str(artifacts / "issue15-after-portal-notified.png"), full_page=True)
    page.close()
