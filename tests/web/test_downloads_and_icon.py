"""What a clerk notices about files and the browser tab: the HTML notice opens in the browser
(with a separate download), the site has an icon, spreadsheets open with fitted columns, a
frozen header and filters, and a system action is named 系统 on the case page."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from services.cases import transitions
from services.reports.tables import MAX_WIDTH, text_width
from tests.builders import a_case, a_round, a_target, a_unit

LONG_UNIT = "临沧市临翔区人民政府办公室电子政务与政府网站集约化建设管理中心"
LONG_TARGET = "临翔区人民政府门户网站政务公开专栏"
DESCRIPTION = "首页“通知公告”栏目超过两周未更新，" * 8
TITLE = re.compile(r"<title>[^<]*通报[^<]*</title>")


def a_round_with_cases(app) -> list[int]:
    with app.uow() as uow:
        a_round(uow, "2021Q2", notice_date=None)
        unit = a_unit(uow, "linxiang", name=LONG_UNIT, kind="county_gov")
        site = a_target(uow, unit_code=unit.code, name=LONG_TARGET).code
        ids = [
            a_case(uow, state="notified", target_code=site, description=DESCRIPTION).id,
            a_case(uow, category="broken_links", target_code=site).id,
        ]
        uow.commit()
        return ids


async def test_the_html_notice_opens_in_the_browser_and_downloads_on_its_own_link(app, supervisor):
    a_round_with_cases(app)

    opened = await supervisor.get("/rounds/2021Q2/notice.html")
    saved = await supervisor.get("/rounds/2021Q2/notice.html?download=1")
    word = await supervisor.get("/rounds/2021Q2/notice.docx")

    assert opened.status_code == saved.status_code == 200
    assert opened.headers["content-type"].startswith("text/html")
    assert opened.headers["content-disposition"].startswith("inline;")
    assert saved.headers["content-disposition"].startswith("attachment;")
    assert word.headers["content-disposition"].startswith("attachment;")
    assert TITLE.search(opened.text) and opened.content == saved.content
    # Its own inline stylesheet is allowed, and nothing else: no script, no loads, no framing.
    policy = opened.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy and "sandbox" in policy
    assert "style-src 'self'" in word.headers["content-security-policy"]  # unchanged elsewhere


async def test_the_rounds_pages_link_the_notice_to_open_and_to_download(app, supervisor):
    a_round_with_cases(app)

    listing = (await supervisor.get("/rounds")).text
    settings = (await supervisor.get("/rounds/2021Q2/notice")).text

    for page in (listing, settings):
        assert 'href="/rounds/2021Q2/notice.html" target="_blank"' in page
        assert 'href="/rounds/2021Q2/notice.html?download=1" download' in page
    assert "在浏览器中打开（HTML）" in settings and "下载 HTML" in settings


async def test_every_page_names_the_icon_and_the_browser_finds_it_at_the_root(anon, two_units):
    login_page = (await anon.get("/login")).text
    portal_page = (await anon.get(f"/portal/{two_units.token_a}")).text
    icon = await anon.get("/favicon.ico")
    svg = await anon.get("/static/favicon.svg")

    link = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
    assert link in login_page and link in portal_page
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")


def assert_fitted(sheet, rows: int, widest: dict[str, str]) -> None:
    """Header frozen, filter over header and rows, each named column as wide as its text."""
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{rows + 1}"
    headers = {cell.value: cell.column_letter for cell in sheet[1]}
    for header, text in widest.items():
        width = sheet.column_dimensions[headers[header]].width
        assert min(text_width(text), MAX_WIDTH) <= width <= MAX_WIDTH, (header, width)
    narrow = sheet.column_dimensions[headers[next(iter(headers))]].width
    assert narrow < 15  # a case number is not given a unit name's width


async def test_the_case_list_spreadsheet_has_fitted_columns_a_frozen_header_and_filters(
    app, supervisor
):
    a_round_with_cases(app)

    export = await supervisor.get("/cases/export.xlsx")

    sheet = load_workbook(io.BytesIO(export.content)).active
    assert_fitted(
        sheet,
        rows=2,
        widest={"责任单位": LONG_UNIT, "监测对象": LONG_TARGET, "问题描述": DESCRIPTION},
    )
    assert sheet.column_dimensions["B"].width < 15  # 检查轮次: 2021Q2


async def test_the_ledger_spreadsheet_has_fitted_columns_a_frozen_header_and_filters(
    app, supervisor
):
    a_round_with_cases(app)

    ledger = await supervisor.get("/rounds/2021Q2/ledger.xlsx")

    sheet = load_workbook(io.BytesIO(ledger.content)).active
    assert_fitted(sheet, rows=2, widest={"责任单位": LONG_UNIT, "问题描述": DESCRIPTION})


async def test_the_case_page_names_a_system_action_as_the_system(app, supervisor):
    with app.uow() as uow:
        case = a_case(uow, state="found")
        transitions.transition(
            uow, case_id=case.id, trigger="notify", actor="数据导入", actor_kind="system"
        )
        uow.commit()

    page = (await supervisor.get(f"/cases/{case.id}")).text

    assert "系统（数据导入）" in page
    assert "系统 数据导入" not in page
