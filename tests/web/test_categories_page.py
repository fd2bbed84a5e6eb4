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


def _field_error(page: str, input_id: str) -> str:
    """The refusal shown under a form field (empty when there is none)."""
    marker = f'id="{input_id}-err">'
    return page.split(marker, 1)[1].split("</p>", 1)[0] if marker in page else ""


async def test_a_refused_new_category_comes_back_as_typed_with_every_problem_at_its_field(
    app, supervisor
):
    page = await supervisor.get("/categories")
    typed = NEW | {"code": "qa bad code!", "name": "", "deadline_days": "-5", "theme": "我的主题"}

    refused = await supervisor.post("/categories", data=typed | {"csrf_token": csrf_of(page)})

    assert refused.status_code == 400
    body = refused.text
    assert "请求有误" not in body and 'href="/categories"' in body  # the page, with navigation
    assert "未保存：以下 3 处有误" in body
    assert "只能由字母、数字和下划线组成" in _field_error(body, "a-code")
    assert "类别名称不能为空" in _field_error(body, "a-name")
    assert "整改天数应为正整数：「-5」" in _field_error(body, "a-deadline_days")
    assert _field_error(body, "a-theme") == ""
    assert 'id="a-code" name="code" value="qa bad code!"' in body
    assert 'id="a-deadline_days" name="deadline_days" value="-5"' in body
    assert 'value="我的主题"' in body and 'value="首页飘窗遮挡正文"' in body
    assert 'value="column" checked' in body and 'value="deduction" selected' in body
    assert 'action="/categories#add"' in body
    with app.uow() as uow:
        assert uow.session.query(Category).filter(Category.theme == "我的主题").count() == 0


async def test_a_refused_edit_keeps_the_typed_values_and_names_each_problem(app, supervisor):
    form = await supervisor.get("/categories?code=typos")
    refused = await supervisor.post(
        "/categories/typos",
        data={
            "csrf_token": csrf_of(form),
            "name": "严重表述错误",  # another category's name
            "deadline_days": "0",
            "theme": "改过的主题",
            "kind": "_",
            "phrase": "{{ 未知 }}",
        },
    )
    assert refused.status_code == 400
    body = refused.text
    assert "未保存：以下 2 处有误" in body and 'id="edit"' in body
    assert "已被类别 serious_wording 使用" in _field_error(body, "e-name")
    assert "整改天数应在 1–365 天之间：0" in _field_error(body, "e-deadline_days")
    assert 'id="e-theme" name="theme" value="改过的主题"' in body
    assert stored(app, "typos").name == "错别字" and stored(app, "typos").theme != "改过的主题"


async def test_an_emptied_field_of_the_edit_form_clears_the_stored_value(app, supervisor):
    page = await supervisor.get("/categories")
    await supervisor.post("/categories", data=NEW | {"csrf_token": csrf_of(page)})
    response = await supervisor.post(
        "/categories/popup_window",
        data={"csrf_token": csrf_of(page), "theme": "", "deadline_days": "", "name": "首页飘窗"},
    )
    assert response.status_code == 303
    category = stored(app, "popup_window")
    assert (category.name, category.theme, category.deadline_days) == ("首页飘窗", None, None)


async def test_the_category_page_names_automated_checks_in_chinese_only(supervisor):
    page = (await supervisor.get("/categories")).text
    assert 'title="site_reachable" >站点能否正常访问</option>' in page
    assert "（site_reachable）" not in page
