"""Under the strict content policy every page still shows styled, and the browser refuses nothing."""

from __future__ import annotations

from services.access import unit_links, users
from tests.builders import a_case, a_round, a_target, a_unit

#: The header bar's colour in web/static/app.css: the stylesheet was loaded and applied.
STYLED_HEADER = "rgb(18, 53, 91)"


def _seed(app) -> tuple[int, str]:
    with app.uow() as uow:
        a_round(uow, "2021Q2", notice_date=None)
        unit = a_unit(uow, "gengma", name="耿马县人民政府", kind="county_gov")
        site = a_target(uow, "gengma-site", unit_code=unit.code, name="耿马县人民政府门户网站")
        case = a_case(uow, state="notified", target_code=site.code)
        users.create_user(uow, username="zhang", role="admin", password="s3cret-pass")
        link = unit_links.issue_link(uow, unit_id=unit.id)
        uow.commit()
        return case.id, link.token


def test_every_kind_of_page_loads_styled_under_the_content_policy(app, live_server, browser):
    case_id, token = _seed(app)
    page = browser.new_page()
    refused = []  # what the browser reports it blocked under the policy
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )

    def visit(path: str) -> None:
        response = page.goto(f"{live_server}{path}")
        assert response.ok, f"{path}: {response.status}"
        policy = response.headers.get("content-security-policy", "")
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, path
        colour = page.eval_on_selector("header.top", "e => getComputedStyle(e).backgroundColor")
        assert colour == STYLED_HEADER, f"{path}: not styled"

    visit("/login")
    page.fill("#username", "zhang")
    page.fill("#password", "s3cret-pass")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")
    for path in (
        "/",
        "/cases",
        f"/cases/{case_id}",
        "/registry/units",
        "/registry/targets",
        "/rounds",
        "/rounds/2021Q2/notice",
        "/issuers",
        "/registry/import",
        "/docs",
        f"/portal/{token}",
        f"/portal/{token}/cases/{case_id}",
    ):
        visit(path)

    assert refused == [], "\n".join(refused)
