"""The city's supervisor edits the issuing office and a round's notice in a real browser,
previews it and downloads it with the new text; a county's supervisor is refused the city's."""

from __future__ import annotations

from docx import Document
from playwright.sync_api import expect

from services.access import users
from services.reports.files import TEMPLATES, load_yaml
from services.rounds import issuers
from services.rounds.issuers import IssuerSpec
from tests.builders import a_case, a_round, a_target, a_unit

ADDRESSEES = "各县、区人民政府，市级各部门，各有关单位："
REQUIREMENTS = ["压实主体责任。各地各部门要落实网站和新媒体“谁主管谁负责”。", "按期整改到位。"]
PASSWORD = "s3cret-pass"
DEADLINE = (
    "请被通报单位于{{ deadline }}前将整改情况报{{ office_short }}"
    "（电子版发送至zwgk@lincang.example，抄送rectification-reports-2021@lincang.example）。"
)

#: How much wider than the font size (px) the widest Chinese character of a full line of an
#: element is drawn: a justified line that had to stretch widens every character.
WIDEST_STRETCH = """e => {
  const size = parseFloat(getComputedStyle(e).fontSize);
  const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  const boxes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      boxes.push({box, han: /[\u4e00-\u9fff]/.test(node.data[i])});
    }
  }
  const lastTop = boxes[boxes.length - 1].box.top;
  const full = boxes.filter(b => b.han && Math.abs(b.box.top - lastTop) > 2);
  return Math.max(0, ...full.map(b => b.box.width - size));
}"""


def _seed(app) -> None:
    with app.uow() as uow:
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        a_unit(uow, "gengma", parent_code="lincang", name="耿马县人民政府", kind="county_gov")
        a_unit(uow, "cangyuan", parent_code="lincang", name="沧源县人民政府", kind="county_gov")
        city = issuers.upsert_issuer(
            uow,
            IssuerSpec(
                "lincang", "临沧市人民政府办公室", "市政府办公室", "city", "临政办字〔{year}〕{n}号"
            ),
        )
        issuers.upsert_issuer(
            uow, IssuerSpec("cangyuan", "沧源县人民政府办公室", "县政府办公室", "county")
        )
        for theme in (
            "网站运维保障仍需加强=column_stale、首页不更新",
            "政务新媒体管理不规范=僵尸账号未注销",
        ):
            issuers.set_option(uow, city, "themes", theme)
        round_ = a_round(uow, "2021Q2", title=None)
        round_.notice_texts = {}
        round_.issuer = city
        site = a_target(uow, "gengma-site", unit_code="gengma", name="耿马县人民政府门户网站")
        a_case(uow, target_code=site.code, description="“政务动态”栏目超过两周未更新")
        for username, scope, name in (
            ("zhang", "lincang", "张监管"),
            ("zhao", "cangyuan", "赵监管"),
        ):
            users.create_user(
                uow,
                username=username,
                role="supervisor",
                unit_code=scope,
                display_name=name,
                password=PASSWORD,
            )
        uow.commit()


def _sign_in(page, live_server: str, username: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="工作台")).to_be_visible()


def test_the_city_edits_its_notice_previews_and_downloads_it_and_a_county_is_refused(
    app, live_server, browser, artifacts, tmp_path
):
    _seed(app)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, live_server, "zhang")

    page.get_by_role("link", name="发文机关", exact=True).click()
    expect(page.get_by_role("link", name="沧源县人民政府办公室")).to_be_visible()
    page.screenshot(path=artifacts / "issuers.png")
    page.get_by_role("link", name="临沧市人民政府办公室").click()
    expect(page.get_by_role("heading", name="临沧市人民政府办公室")).to_be_visible()
    addressees = page.get_by_label("主送机关", exact=True)
    expect(addressees).to_have_value("")
    default = load_yaml(TEMPLATES / "notice_texts.yaml")["addressees"]
    expect(page.locator("tr", has=addressees)).to_contain_text(default)
    addressees.fill(ADDRESSEES)
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_role("status")).to_contain_text("发文机关 临沧市人民政府办公室 已保存")
    expect(page.get_by_label("主送机关", exact=True)).to_have_value(ADDRESSEES)
    page.screenshot(path=artifacts / "issuer.png", full_page=True)

    page.get_by_role("link", name="检查轮次", exact=True).click()
    page.get_by_role("link", name="通报设置与预览").click()
    expect(page.get_by_role("heading", name="检查轮次 2021Q2 的通报设置")).to_be_visible()
    requirements = page.get_by_label("下一步工作要求（每行一段）")
    # The issuer's addressee line is now the round's default, shown beside its empty field.
    expect(page.locator("tr", has=page.get_by_label("主送机关", exact=True))).to_contain_text(
        ADDRESSEES
    )
    requirements.fill("\n".join(REQUIREMENTS))
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text("检查轮次 2021Q2 的通报设置已保存")

    page.get_by_role("link", name="查看预览").click()
    preview = page.get_by_role("article", name="通报预览")
    expect(preview).to_contain_text(ADDRESSEES)
    for paragraph in REQUIREMENTS:
        expect(preview).to_contain_text(paragraph)
    expect(preview).to_contain_text("临沧市人民政府办公室关于2021年二季度")
    page.screenshot(path=artifacts / "round_notice.png", full_page=True)
    preview.screenshot(path=artifacts / "notice_preview.png")

    with page.expect_download() as docx_download:
        page.get_by_role("link", name="Word（DOCX）").click()
    saved = tmp_path / "notice.docx"
    docx_download.value.save_as(saved)
    docx_text = "\n".join(p.text for p in Document(saved).paragraphs)
    assert ADDRESSEES in docx_text
    assert all(paragraph in docx_text for paragraph in REQUIREMENTS)
    with page.expect_download() as md_download:
        page.get_by_role("link", name="Markdown", exact=True).click()
    markdown = md_download.value.path().read_text(encoding="utf-8")
    assert ADDRESSEES in markdown and REQUIREMENTS[1] in markdown

    _preview_then_save(page, artifacts)

    page.get_by_text("通报设置（合格率").click()  # the options' section opens
    decimals = page.locator('[name="opt:pass_rate.decimals:website"]')
    decimals.fill("5")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text(
        "政府网站：通报设置「合格率小数位数」应为 0–2"
    )
    expect(decimals).to_have_value("5")
    expect(decimals).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=artifacts / "round_notice_refused.png")
    options = page.locator("table.notice-options")
    expect(options).not_to_contain_text("pass_rate.decimals")  # the code only in a tooltip
    expect(options).to_contain_text("四舍五入、截断")
    options.screenshot(path=artifacts / "round_notice_options.png")
    themes = options.locator("tr", has=page.locator('[name="opt:themes"]'))
    default = themes.locator(".lines")  # the office's themes, one a line
    assert default.inner_text().splitlines()[1:] == [
        "网站运维保障仍需加强=column_stale、首页不更新",
        "政务新媒体管理不规范=僵尸账号未注销",
    ]
    themes.screenshot(path=artifacts / "round_notice_themes.png")
    page.get_by_text("通报数据块（").click()
    expect(page.get_by_role("button", name="保存复查", exact=True)).to_be_visible()
    page.locator("#block-recheck").screenshot(path=artifacts / "round_notice_block.png")

    county = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    _sign_in(county, live_server, "zhao")
    refused = county.goto(f"{live_server}/issuers/lincang")
    assert refused.status == 403
    expect(county.get_by_role("heading")).to_contain_text("无权访问")
    expect(county.get_by_text("临沧市人民政府办公室不在您的管辖范围内")).to_be_visible()
    county.screenshot(path=artifacts / "issuer_refused.png", full_page=True)
    county.goto(f"{live_server}/issuers")
    expect(county.get_by_role("link", name="沧源县人民政府办公室")).to_be_visible()
    expect(county.get_by_text("临沧市人民政府办公室")).to_have_count(0)


def _preview_then_save(page, artifacts) -> None:
    """预览（不保存）shows the typed notice where the user looks: at the top of the page that
    comes back, marked unsaved; 保存这些修改 there stores it."""
    page.get_by_label("整改期限段落").fill(DEADLINE)
    page.get_by_role("button", name="预览（不保存）").click()
    banner = page.get_by_role("status")
    expect(banner).to_contain_text("以下为预览，尚未保存。")
    expect(banner).to_be_in_viewport()
    preview = page.get_by_role("article", name="通报预览")
    expect(preview).to_be_in_viewport()
    expect(preview).to_contain_text("zwgk@lincang.example")
    page.screenshot(path=artifacts / "round_notice_previewed.png")
    paragraph = preview.locator("p", has_text="zwgk@lincang.example")
    paragraph.scroll_into_view_if_needed()
    preview.screenshot(path=artifacts / "notice_preview_deadline.png")
    # The e-mail address breaks where the line ends: no line is justified with wide gaps.
    assert paragraph.evaluate(WIDEST_STRETCH) < 3, "a line of the paragraph is stretched"
    expect(page.get_by_text("下载已保存的通报（不含本次预览的修改）")).to_be_visible()
    page.get_by_role("button", name="保存这些修改").click()
    expect(page.get_by_role("status")).to_contain_text("检查轮次 2021Q2 的通报设置已保存")
    expect(page.get_by_role("article", name="通报预览")).to_contain_text("zwgk@lincang.example")
