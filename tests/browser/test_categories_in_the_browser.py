"""A supervisor adds a problem category in a real browser: a refused form comes back where he
looks, as he typed it, every problem at its field; corrected, it is added."""

from __future__ import annotations

from playwright.sync_api import expect

from services.access import users

PASSWORD = "s3cret-pass"


def test_a_refused_category_comes_back_as_typed_and_is_added_once_corrected(
    app, live_server, browser, artifacts
):
    with app.uow() as uow:
        users.create_user(uow, username="zhang", role="supervisor", password=PASSWORD)
        uow.commit()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#username", "zhang")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="问题类别", exact=True).click()

    edit_links = page.get_by_role("link", name="编辑", exact=True)
    expect(edit_links.first).to_be_visible()
    line = float(edit_links.first.evaluate("a => getComputedStyle(a).lineHeight")[:-2])
    heights = [box["height"] for box in edit_links.evaluate_all(_BOXES)]
    assert max(heights) < 1.5 * line, "an 编辑 link wraps onto a second line"
    page.screenshot(path=artifacts / "categories.png")

    page.fill("#a-code", "qa bad code!")
    page.fill("#a-name", "错别字")  # another category's name
    page.fill("#a-deadline_days", "-5")
    page.fill("#a-theme", "网站运维保障仍需加强")
    page.get_by_role("button", name="添加").click()

    errors = page.get_by_role("alert").filter(has_text="未保存：以下 3 处有误")
    expect(errors).to_be_in_viewport()
    expect(page.locator("#a-code-err")).to_contain_text("只能由字母、数字和下划线组成")
    expect(page.locator("#a-name-err")).to_contain_text("已被类别 typos 使用")
    expect(page.locator("#a-deadline_days-err")).to_contain_text("整改天数应为正整数")
    expect(page.locator("#a-deadline_days")).to_have_value("-5")
    expect(page.locator("#a-theme")).to_have_value("网站运维保障仍需加强")
    expect(page.get_by_role("link", name="发文机关", exact=True)).to_be_visible()  # navigation
    page.screenshot(path=artifacts / "category_refused.png")

    page.fill("#a-code", "qa_popup")
    page.fill("#a-name", "首页飘窗遮挡正文")
    page.fill("#a-deadline_days", "5")
    page.get_by_role("button", name="添加").click()
    expect(page.get_by_role("status")).to_contain_text("qa_popup（首页飘窗遮挡正文） 已添加")
    expect(page.get_by_role("cell", name="qa_popup", exact=True)).to_be_visible()


_BOXES = "links => links.map(a => a.getBoundingClientRect().toJSON())"
