"""A supervisor and a unit work one case through in a real browser, start to finish."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from services.access import unit_links, users
from tests.builders import a_case, a_round, a_target, a_unit

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _seed(app) -> tuple[int, str]:
    with app.uow() as uow:
        a_round(uow, "2021Q2", notice_date=None)
        unit = a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        site = a_target(uow, "gengma-site", unit_code=unit.code, name="耿马县人民政府门户网站")
        other = a_target(uow, "cangyuan-site", name="沧源县人民政府门户网站")
        case = a_case(uow, target_code=site.code, description="“政务动态”栏目超过两周未更新")
        a_case(uow, target_code=other.code, category="column_blank", description="空白栏目 6 个")
        users.create_user(
            uow, username="zhang", role="supervisor", display_name="张监管", password="s3cret-pass"
        )
        uow.commit()
        return case.id, unit.id


def test_a_case_goes_from_notice_to_verified_through_the_pages(
    app, live_server, browser, artifacts
):
    case_id, unit_id = _seed(app)
    supervisor = browser.new_page(viewport={"width": 1280, "height": 900})

    supervisor.goto(f"{live_server}/login")
    supervisor.fill("#username", "zhang")
    supervisor.fill("#password", "s3cret-pass")
    supervisor.get_by_role("button", name="登录").click()
    expect(supervisor.get_by_role("heading", name="工作台")).to_be_visible()
    supervisor.screenshot(path=artifacts / "dashboard.png", full_page=True)

    supervisor.get_by_role("link", name="整改案件").first.click()
    supervisor.select_option("select[name=state]", "found")
    supervisor.fill("input[name=q]", "耿马")
    supervisor.get_by_role("button", name="筛选").click()
    expect(supervisor.locator("table").get_by_text("沧源县人民政府门户网站")).to_have_count(0)
    supervisor.get_by_role("link", name=str(case_id), exact=True).click()

    notify = supervisor.locator("form", has=supervisor.locator("input[value=notify]"))
    notify.locator("textarea").fill("请于期限内完成整改")
    notify.get_by_role("button", name="通知").click()
    expect(supervisor.get_by_role("status")).to_contain_text("已执行「通知」")
    expect(supervisor.locator(".badge").first).to_have_text("已通知")

    with app.uow() as uow:
        link = unit_links.issue_link(uow, unit_id=unit_id)
        uow.commit()
    unit_page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    unit_page.goto(f"{live_server}/portal/{link.token}")
    expect(unit_page.get_by_text("沧源县人民政府门户网站")).to_have_count(0)
    unit_page.get_by_role("link", name="填写整改情况").click()
    unit_page.fill("#text", "已更新“政务动态”栏目，并建立每周更新制度")
    unit_page.fill("#responsible_person", "李明")
    unit_page.fill("#phone", "0883-1234567")
    unit_page.set_input_files(
        "#attachments",
        files=[{"name": "整改报告.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    unit_page.screenshot(path=artifacts / "unit_form.png", full_page=True)
    unit_page.get_by_role("button", name="提交整改材料").click()
    expect(unit_page.get_by_role("heading", name="提交成功")).to_be_visible()

    supervisor.reload()
    expect(supervisor.get_by_role("link", name="整改报告.pdf")).to_be_visible()
    verify = supervisor.locator("form", has=supervisor.locator("input[value=verify]"))
    verify.locator("textarea").fill("材料齐全，栏目已恢复更新")
    verify.get_by_role("button", name="核验通过").click()
    expect(supervisor.locator(".badge").first).to_have_text("已核验")
    history = supervisor.locator("#history li")
    expect(history).to_have_count(4)
    for step, text in enumerate(["立案", "通知", "提交整改", "核验通过"]):
        expect(history.nth(step)).to_contain_text(text)
    expect(history.nth(2)).to_contain_text("耿马县人民政府")
    expect(history.nth(3)).to_contain_text(re.compile("材料齐全"))
    supervisor.screenshot(path=artifacts / "case.png", full_page=True)
