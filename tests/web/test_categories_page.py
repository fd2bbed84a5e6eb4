"""The categories page: supervisors add and edit categories, viewers only read them."""

from __future__ import annotations

import pytest

from services.db.models import Category
from tests.builders import a_unit
from tests.web.conftest import a_user, client_for, csrf_of, login

NEW = {
    "code": "popup_window",
    "name": "首页飘窗遮挡",
    "severity": "deduction",
    "kinds": ["", "website", "column"],
    "deadline_days": "5",
    "deadline_mode": "working",
    "check": "",
    "theme": "网站运维保障仍需加强",
    "phrase": "首页飘窗遮挡正文",
}


def stored(app, code: str) -> Category | None:
    with app.uow() as uow:
        category = uow.session.get(Category, code)
        if category is not None:
            uow.session.expunge(category)
        return category


@pytest.fixture
async def viewer(app, web_app):
    created = a_user(app, "wang", role="viewer")
    async with client_for(web_app) as client:
        await login(client, "wang", created.password)
        yield client


async def test_a_supervisor_adds_a_category_and_sees_it_listed(app, supervisor):
    page = await supervisor.get("/categories")
    assert "新增问题类别" in page.text and "错别字" in page.text  # the seeded catalogue

    response = await supervisor.post("/categories", data=NEW | {"csrf_token": csrf_of(page)})

    assert response.status_code == 303
    listed = await supervisor.get("/categories?q=飘窗")
    assert "已添加" in listed.text
    row = listed.text.split("<td>popup_window</td>", 1)[1].split("</tr>", 1)[0]
    assert "首页飘窗遮挡" in row and "政府网站、信息公开专栏" in row and "5 个工作日" in row
    assert "网站运维保障仍需加强" in row and "扣分" in row
    category = stored(app, "popup_window")
    assert category.wording == {"_": {"phrase": "首页飘窗遮挡正文"}}
    assert (category.target_kind, category.target_kinds) == ("any", ["website", "column"])


async def test_the_edit_form_changes_what_it_sends_and_keeps_the_rest(app, supervisor):
    page = await supervisor.get("/categories")
    await supervisor.post("/categories", data=NEW | {"csrf_token": csrf_of(page)})
    form = await supervisor.get("/categories?code=popup_window&kind=column")
    assert "通报表述：信息公开专栏" in form.text

    response = await supervisor.post(
        "/categories/popup_window",
        data={
            "csrf_token": csrf_of(form),
            "theme": "网页显示异常",
            "retired": "1",
            "kind": "column",
            "phrase": "专栏页面飘窗遮挡",
        },
    )

    assert response.status_code == 303
    category = stored(app, "popup_window")
    assert (category.theme, category.retired, category.deadline_days) == ("网页显示异常", True, 5)
    assert category.wording == {
        "_": {"phrase": "首页飘窗遮挡正文"},
        "column": {"phrase": "专栏页面飘窗遮挡"},
    }
    listed = await supervisor.get("/categories?show=retired")
    assert "popup_window" in listed.text and "已停用" in listed.text
    assert "错别字" not in listed.text


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("deadline_days", "-3", "整改天数应为正整数"),
        ("deadline_days", "400", "整改天数应在 1–365 天之间"),
        ("check", "ghost", "自动检查「ghost」不存在"),
        ("severity", "严重", "严重程度「严重」无效"),
        ("kinds", "planet", "适用对象「planet」无效"),
        ("name", "错别字", "类别名称「错别字」已被类别 typos 使用"),
        ("code", "a b", "类别代码只能由字母、数字和下划线组成"),
    ],
)
async def test_a_bad_value_is_refused_naming_its_field_and_nothing_is_written(
    app, supervisor, field, value, says
):
    page = await supervisor.get("/categories")
    response = await supervisor.post(
        "/categories", data=NEW | {field: value, "csrf_token": csrf_of(page)}
    )
    assert response.status_code == 400
    assert says in response.text
    assert stored(app, NEW["code"]) is None and stored(app, "a b") is None


async def test_a_viewer_reads_the_catalogue_but_cannot_change_it(app, viewer):
    page = await viewer.get("/categories")
    assert page.status_code == 200 and "错别字" in page.text
    assert "新增问题类别" not in page.text and "您只能查看" in page.text

    added = await viewer.post("/categories", data=NEW | {"csrf_token": csrf_of(page)})
    edited = await viewer.post(
        "/categories/typos", data={"name": "别字", "csrf_token": csrf_of(page)}
    )

    assert (added.status_code, edited.status_code) == (403, 403)
    assert stored(app, "popup_window") is None and stored(app, "typos").name == "错别字"


async def test_a_county_supervisor_cannot_change_the_shared_catalogue(app, web_app):
    with app.uow() as uow:
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        a_unit(uow, "gengma", parent_code="lincang", name="耿马县人民政府", kind="county_gov")
        uow.commit()
    county = a_user(app, "zhao", unit_code="gengma")
    city = a_user(app, "qian", unit_code="lincang")
    for username, created, expected in (("zhao", county, 403), ("qian", city, 303)):
        async with client_for(web_app) as client:
            await login(client, username, created.password)
            page = await client.get("/categories")
            response = await client.post(
                "/categories/typos",
                data={"theme": f"{username}的主题", "csrf_token": csrf_of(page)},
            )
            assert response.status_code == expected, username
    assert stored(app, "typos").theme == "qian的主题"
