"""In Chromium: a supervisor clicks every card of the dashboard and counts the cases listed,
page by page (下一页), against the card's figure. Sixty more found cases make the lists of
案件总数 and 未结案件 run over two pages of fifty."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from services.access import users
from tests.builders import a_case, a_target
from tests.integration.reports.dashboard_scenario import EXPECTED, build, with_verdicts

EXTRA = 60
LABELS = ["案件总数", "未结案件", "已超期", "已升级督办", "已转入下一轮"]


def _seed(app) -> None:
    with_verdicts(app, build(app))  # and one more found case, its target ruled qualified
    with app.uow() as uow:
        for n in range(EXTRA):
            target = a_target(uow, unit_code="water", name=f"样例县水务局公众号{n}").code
            a_case(uow, state="found", round_code="2021Q2", target_code=target)
        users.create_user(
            uow, username="zhang", role="supervisor", display_name="张监管", password="s3cret-pass"
        )
        uow.commit()


def _listed(page: Page) -> int:
    """Rows of the case list, following 下一页 to the last page."""
    rows = 0
    while True:
        rows += page.locator("input[name=case_ids]").count()
        following = page.get_by_role("link", name="下一页 →")
        if following.count() == 0:
            return rows
        following.click()
        page.wait_for_load_state()


def test_every_card_lists_as_many_cases_as_it_counts(app, live_server, browser, artifacts):
    _seed(app)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#username", "zhang")
    page.fill("#password", "s3cret-pass")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()
    expect(page.get_by_text("数据截至 2021年7月19日 09:00（北京时间）")).to_be_visible()
    page.screenshot(path=artifacts / "issue15-after-dashboard.png", full_page=True)

    expected = {**EXPECTED[None]}
    expected["total"] += EXTRA + 1
    expected["open"] += EXTRA + 1
    shown = {}
    for label in LABELS:
        card = page.locator("a.card", has_text=label)
        count = int(card.locator(".big").inner_text())
        key = card.get_attribute("data-card")
        shown[key] = count
        card.click()
        expect(page.get_by_role("heading", name="整改案件")).to_be_visible()
        if key == "escalated":
            page.screenshot(path=artifacts / "issue15-after-cases-escalated.png", full_page=True)
        assert _listed(page) == count, label
        page.goto(f"{live_server}/")
    assert shown == expected
    assert expected["total"] > 50  # the first card's list did run over a page


def test_the_continued_list_links_each_case_to_its_successor(app, live_server, browser):
    _seed(app)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#username", "zhang")
    page.fill("#password", "s3cret-pass")
    page.get_by_role("button", name="登录").click()
    page.locator("a.card", has_text="已转入下一轮").click()
    successor = page.locator("a.successor").first
    expect(successor).to_have_text(re.compile(r"接续案件 \d+"))
    expect(page.locator("table .overdue")).to_have_count(0)
    successor.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+$"))
