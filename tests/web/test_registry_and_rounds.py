"""Registry and rounds pages: edits, import with its row-level report, publication, downloads."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from services.db.models import Case, Unit
from tests.builders import a_case, a_round, a_target, a_unit
from tests.web.conftest import a_user, client_for, csrf_of, login

GOOD = "单位代码,单位名称,类型,上级单位代码\nlincang,临沧市人民政府,city_gov,\ngengma,耿马县人民政府,county_gov,lincang\n"
BAD = "单位代码,单位名称,类型,上级单位代码\nlincang,临沧市人民政府,city_gov,\ngengma,,planet,nowhere\n"


@pytest.fixture
async def admin(app, web_app):
    created = a_user(app, "root", role="admin")
    async with client_for(web_app) as client:
        await login(client, "root", created.password)
        yield client


def _units(app) -> list[str]:
    with app.uow() as uow:
        return list(uow.session.scalars(select(Unit.code).order_by(Unit.code)))


async def test_an_admin_imports_units_from_the_browser(app, admin):
    page = await admin.get("/registry/import")
    response = await admin.post(
        "/registry/import",
        data={"csrf_token": csrf_of(page)},
        files=[("files", ("单位.csv", GOOD.encode("utf-8")))],
    )
    assert response.status_code == 200 and "导入成功" in response.text
    assert _units(app) == ["gengma", "lincang"]


async def test_a_bad_import_lists_every_bad_row_and_writes_nothing(app, admin):
    page = await admin.get("/registry/import")
    response = await admin.post(
        "/registry/import",
        data={"csrf_token": csrf_of(page)},
        files=[("files", ("单位.csv", BAD.encode("utf-8")))],
    )
    assert response.status_code == 400 and "未写入任何数据" in response.text
    assert "单位.csv" in response.text and "第 3 行" in response.text
    assert _units(app) == []


async def test_a_supervisor_cannot_edit_the_registry(app, supervisor):
    page = await supervisor.get("/registry/units")
    response = await supervisor.post(
        "/registry/units",
        data={"code": "x", "name": "某单位", "kind": "city_dept", "csrf_token": csrf_of(page)},
    )
    assert response.status_code == 403 and "只有管理员" in response.text
    assert _units(app) == []


async def test_a_unit_form_refuses_an_address_mail_could_not_reach(app, admin):
    page = await admin.get("/registry/units")
    form = {"code": "gengma", "name": "耿马县人民政府", "kind": "county_gov"}
    refused = await admin.post(
        "/registry/units",
        data=form | {"contact_email": "gm@units.test；耿马办公室", "csrf_token": csrf_of(page)},
    )
    saved = await admin.post(
        "/registry/units",
        data=form
        | {"contact_email": "gm@units.test；office@units.test", "csrf_token": csrf_of(page)},
    )
    assert refused.status_code == 400
    assert "联系人邮箱" in refused.text and "「耿马办公室」不是有效的邮箱地址" in refused.text
    assert saved.status_code == 303
    with app.uow() as uow:
        unit = uow.session.scalar(select(Unit).where(Unit.code == "gengma"))
        assert unit.contact_email == "gm@units.test；office@units.test"


async def test_an_admin_edits_a_unit_and_a_round(app, admin):
    page = await admin.get("/registry/units")
    saved = await admin.post(
        "/registry/units",
        data={
            "code": "gengma",
            "name": "耿马县人民政府",
            "kind": "county_gov",
            "csrf_token": csrf_of(page),
        },
    )
    assert saved.status_code == 303
    bad_round = await admin.post(
        "/rounds",
        data={
            "code": "2021Q3",
            "period_start": "2021-07-01",
            "period_end": "九月底",
            "csrf_token": csrf_of(page),
        },
    )
    assert bad_round.status_code == 400 and "YYYY-MM-DD" in bad_round.text
    good_round = await admin.post(
        "/rounds",
        data={
            "code": "2021Q3",
            "period_start": "2021-07-01",
            "period_end": "2021-09-30",
            "deadline_days": "10",
            "deadline_mode": "working",
            "csrf_token": csrf_of(page),
        },
    )
    assert good_round.status_code == 303
    listing = await admin.get("/rounds")
    assert "2021Q3" in listing.text and "10 天（工作日）" in listing.text
    assert _units(app) == ["gengma"]


TITLE = "临沧市人民政府办公室关于2021年二季度全市政府网站和政府系统政务新媒体检查情况的通报"
STALE = "如：永德县人民政府门户网站栏目超期未更新。"
LINKS = "如：永德县人民政府门户网站存在不可用链接。"
REPORT_BY = "并于2021年7月29日前将整改情况"


async def test_publishing_a_round_notifies_its_cases_and_the_notice_downloads(app, supervisor):
    with app.uow() as uow:
        a_round(uow, "2021Q2", notice_date=None)
        unit = a_unit(uow, "yongde", name="永德县人民政府", kind="county_gov")
        site = a_target(uow, unit_code=unit.code, name="永德县人民政府门户网站").code
        ids = [
            a_case(uow, target_code=site).id,
            a_case(uow, category="broken_links", target_code=site).id,
        ]
        uow.commit()
    page = await supervisor.get("/rounds")
    form = {"csrf_token": csrf_of(page)}
    asked = await supervisor.post("/rounds/2021Q2/publish", data=form)  # 发布并通知: confirm first
    assert "将向 1 个单位发送 1 封通知邮件，涉及 2 个案件" in asked.text
    response = await supervisor.post("/rounds/2021Q2/publish", data=form | {"confirmed": "1"})
    assert response.status_code == 303
    after = await supervisor.get("/rounds")
    assert "已发布" in after.text and "通知 2 件" in after.text
    with app.uow() as uow:
        states = list(uow.session.scalars(select(Case.state).where(Case.id.in_(ids))))
    assert states == ["notified", "notified"]
    downloads = {}
    for path in ("notice.docx", "notice.html", "ledger.xlsx", "ledger.csv"):
        saved = "?download=1" if path == "notice.html" else ""  # without, it opens in the browser
        download = await supervisor.get(f"/rounds/2021Q2/{path}{saved}")
        assert download.status_code == 200, path
        assert download.headers["content-disposition"].startswith("attachment;")
        downloads[path] = download

    paragraphs = [p.text for p in Document(io.BytesIO(downloads["notice.docx"].content)).paragraphs]
    assert paragraphs[:2] == ["临沧市人民政府办公室", TITLE]
    assert any(p.startswith("（一）栏目更新不及时") and p.endswith(STALE) for p in paragraphs)
    assert any(p.startswith("（二）存在不可用链接") and p.endswith(LINKS) for p in paragraphs)
    assert any(REPORT_BY in p for p in paragraphs)
    assert paragraphs[-3:] == ["临沧市人民政府办公室", "2021年7月19日", "2021年7月19日印发"]

    html = downloads["notice.html"].text
    assert f"<title>{TITLE}</title>" in html and f'<h1 class="title">{TITLE}</h1>' in html
    assert STALE in html and LINKS in html and REPORT_BY in html

    sheet = load_workbook(io.BytesIO(downloads["ledger.xlsx"].content)).active
    assert sheet.title == "2021Q2整改台账"
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == list(LEDGER_HEADERS)
    common = ["永德县人民政府", "永德县人民政府门户网站", "政府网站"]
    due = datetime(2021, 7, 29)
    assert rows[1:] == [
        [ids[0], *common, "栏目更新不及时", None, "已通知", due, None, None, 0, 1, 0, 0],
        [ids[1], *common, "不可用链接", None, "已通知", due, None, None, 0, 1, 0, 0],
    ]
    table = list(csv.reader(io.StringIO(downloads["ledger.csv"].content.decode("utf-8-sig"))))
    assert table[0] == list(LEDGER_HEADERS)
    assert table[1][:8] == [str(ids[0]), *common, "栏目更新不及时", "", "已通知", "2021-07-29"]


LEDGER_HEADERS = (
    "案件编号",
    "责任单位",
    "监测对象",
    "对象类型",
    "问题类别",
    "问题描述",
    "状态",
    "整改期限",
    "报送日期（北京时间）",
    "核验日期（北京时间）",
    "升级次数",
    "市级通报次数",
    "省级通报次数",
    "县级通报次数",
)
