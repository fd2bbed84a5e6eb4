"""Supervisor actions in Chromium: a unit's portal link issued, copied with the button (a
static script, under the content policy) and sent by email after the confirmation; a case's
deadline extended with the date picker."""

from __future__ import annotations

from datetime import date

from services.access import users
from services.db.models import OutboxMessage
from tests.builders import a_case, a_target, a_unit


def _seed(app) -> None:
    with app.uow() as uow:
        a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        users.create_user(uow, username="zhang", role="supervisor", password="s3cret-pass")
        uow.commit()


def test_a_new_link_is_copied_with_the_button_and_another_sent_after_confirming(
    app, live_server, browser, artifacts
):
    _seed(app)
    context = browser.new_context(locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    refused = []
    page.on(
        "console",
        lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{live_server}/login")
    page.fill("#username", "zhang")
    page.fill("#password", "s3cret-pass")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/registry/units?code=gengma#links")
    page.get_by_role("button", name="生成新链接").click()
    copy = page.locator("button[data-copy]")
    assert copy.text_content() == "复制链接"
    copy.click()  # visible: the script ran under the content policy

    url = page.input_value("#new-link")
    assert "/portal/" in url
    assert page.evaluate("navigator.clipboard.readText()") == url
    assert copy.text_content() == "已复制"
    page.screenshot(path=str(artifacts / "unit-links-copied.png"), full_page=True)

    page.get_by_role("link", name="通过邮件发送新链接…").click()
    assert "gengma@units.test" in page.locator("#resend").inner_text()
    page.get_by_role("button", name="确认发送").click()

    assert "含新门户链接的邮件已放入发送队列" in page.locator(".flash").inner_text()
    with app.uow() as uow:
        templates = [m.template for m in uow.session.query(OutboxMessage)]
    assert templates == ["portal_link"]
    assert url not in page.content()  # the copied URL is not shown again
    assert refused == [], "\n".join(refused)
    context.close()


def test_a_deadline_is_extended_from_the_case_page_with_the_date_picker(
    app, live_server, browser, artifacts
):
    _seed(app)
    with app.uow() as uow:
        case = a_case(uow, state="notified", target_code=a_target(uow, unit_code="gengma").code)
        case.deadline = date(2021, 8, 10)
        uow.commit()
        case_id = case.id
    page = browser.new_page(locale="zh-CN")
    page.goto(f"{live_server}/login")
    page.fill("#username", "zhang")
    page.fill("#password", "s3cret-pass")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    page.goto(f"{live_server}/cases/{case_id}")

    page.get_by_role("button", name="延长期限").click()  # empty: the browser asks first
    assert page.url.endswith(f"/cases/{case_id}")
    page.fill('input[name="new_deadline"]', "2021-08-20")
    page.get_by_label("延期理由").fill("网站改版，需协调技术公司")
    page.get_by_role("button", name="延长期限").click()

    history = page.locator("#history").inner_text()
    assert "延长整改期限：2021-08-10 → 2021-08-20" in history
    assert "延期理由：网站改版，需协调技术公司" in history
    page.screenshot(path=str(artifacts / "case-deadline-extended.png"), full_page=True)
