"""Issuing offices' pages and a round's notice settings: view, edit, refusals, scope, preview."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from services.core.errors import ValidationFailed
from services.reports.files import TEMPLATES, load_yaml
from services.reports.notice import build_notice
from services.rounds import issuers, rounds
from services.rounds.issuers import IssuerSpec
from services.rounds.notice_settings import OPTIONS, OptionError
from tests.builders import a_case, a_round, a_target, a_unit
from tests.web.conftest import a_user, client_for, csrf_of, login

CITY_ADDRESSEES = "各县（区）人民政府，市直各部门："
NEW_ADDRESSEES = "各县、区人民政府，市级各部门，各有关单位："
#: The installation's default (notice_texts.yaml), shown beside the issuer's own.
YAML_ADDRESSEES = load_yaml(TEMPLATES / "notice_texts.yaml")["addressees"]


@pytest.fixture
def offices(app):
    """A city with two counties; the city's and one county's offices; a round of the city's."""
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
        issuers.set_texts(uow, city, {"addressees": CITY_ADDRESSEES})
        issuers.upsert_issuer(
            uow, IssuerSpec("cangyuan", "沧源县人民政府办公室", "县政府办公室", "county")
        )
        round_ = a_round(uow, "2021Q2")
        round_.notice_texts = {}
        round_.issuer = city
        a_case(uow, target_code=a_target(uow, "gm-site", unit_code="gengma").code)
        uow.commit()


async def _client(app, web_app, username: str, **fields):
    """A client signed in as a new account (``role``, scope ``unit_code``)."""
    created = a_user(app, username, **fields)
    async with client_for(web_app) as client:
        await login(client, username, created.password)
        yield client


@pytest.fixture
async def city(app, web_app, offices):
    async for client in _client(app, web_app, "zhang", unit_code="lincang"):
        yield client


@pytest.fixture
async def county(app, web_app, offices):
    async for client in _client(app, web_app, "zhao", unit_code="cangyuan"):
        yield client


@pytest.fixture
async def viewer(app, web_app, offices):
    async for client in _client(app, web_app, "wang", role="viewer"):
        yield client


@pytest.fixture
async def admin(app, web_app, offices):
    async for client in _client(app, web_app, "root", role="admin"):
        yield client


def _issuer(app, unit_code: str) -> dict:
    with app.uow() as uow:
        issuer = issuers.get_issuer(uow, unit_code)
        return {
            "name": issuer.name,
            "texts": dict(issuer.texts or {}),
            "options": dict(issuer.options or {}),
        }


def _round_settings(app) -> tuple[dict, str | None]:
    with app.uow() as uow:
        round_ = rounds.get_round(uow, "2021Q2")
        return dict(round_.notice_texts or {}), (round_.issuer.unit.code if round_.issuer else None)


def _notice_text(app) -> str:
    with app.uow() as uow:
        return build_notice(uow, "2021Q2").text


ISSUER_FORM = {
    "name": "临沧市人民政府办公室",
    "short_name": "市政府办公室",
    "level": "city",
    "doc_pattern": "临政办字〔{year}〕{n}号",
}


async def test_each_supervisor_lists_the_issuers_of_his_scope(city, county):
    listed = (await city.get("/issuers")).text
    assert "临沧市人民政府办公室" in listed and "沧源县人民政府办公室" in listed
    own = await county.get("/issuers")
    assert own.status_code == 200
    assert "沧源县人民政府办公室" in own.text and "临沧市人民政府办公室" not in own.text


async def test_the_issuer_page_shows_each_text_beside_the_installation_default(city):
    page = await city.get("/issuers/lincang")
    assert page.status_code == 200
    assert CITY_ADDRESSEES in page.text and YAML_ADDRESSEES in page.text
    assert "主送机关" in page.text and "下一步工作要求（每行一段）" in page.text
    assert "合格率小数位数" in page.text and "0–2 之间的整数" in page.text


async def test_a_city_supervisor_edits_the_city_issuer_and_the_notice_prints_it(app, city):
    page = await city.get("/issuers/lincang")
    saved = await city.post(
        "/issuers/lincang",
        data=ISSUER_FORM
        | {
            "text:addressees": NEW_ADDRESSEES,
            "text:requirements": "第一段要求。\r\n\r\n第二段要求。",
            "opt:pass_rate.decimals:website": "1",
            "opt:pass_rate.rule": "截断",
            "csrf_token": csrf_of(page),
        },
    )
    assert saved.status_code == 303, saved.text
    stored = _issuer(app, "lincang")
    assert stored["texts"]["addressees"] == NEW_ADDRESSEES
    assert stored["texts"]["requirements"] == ["第一段要求。", "第二段要求。"]
    assert stored["options"]["pass_rate"] == {"rule": "truncate", "website": {"decimals": 1}}
    text = _notice_text(app)
    assert NEW_ADDRESSEES in text and "第二段要求。" in text
    shown = (await city.get("/issuers/lincang")).text
    assert "已保存" in shown and "第一段要求。\n第二段要求。" in shown


async def test_a_bad_value_is_named_the_form_keeps_what_was_typed_and_nothing_is_stored(app, city):
    before = _issuer(app, "lincang")
    page = await city.get("/issuers/lincang")
    refused = await city.post(
        "/issuers/lincang",
        data=ISSUER_FORM
        | {
            "short_name": "",
            "text:addressees": "已改的主送机关：",
            "text:preamble": "{{ 未知词 }}通报如下：",
            "opt:pass_rate.decimals:new_media": "5",
            "csrf_token": csrf_of(page),
        },
    )
    assert refused.status_code == 400
    body = refused.text
    assert "机关简称（short_name）不能为空" in body
    assert "导语（preamble）" in body
    assert "政务新媒体：通报设置「合格率小数位数」应为 0–2 之间的整数" in body
    assert 'value="5"' in body and "已改的主送机关：" in body
    assert _issuer(app, "lincang") == before


async def test_a_county_supervisor_cannot_see_or_edit_the_city_issuer(app, county):
    before = _issuer(app, "lincang")
    assert (await county.get("/issuers/lincang")).status_code == 403
    page = await county.get("/issuers/cangyuan")
    assert page.status_code == 200
    refused = await county.post(
        "/issuers/lincang",
        data=ISSUER_FORM | {"text:addressees": "县里改的：", "csrf_token": csrf_of(page)},
    )
    assert refused.status_code == 403 and "不在您的管辖范围内" in refused.text
    assert _issuer(app, "lincang") == before


async def test_a_viewer_reads_the_issuer_but_cannot_save(app, viewer):
    page = await viewer.get("/issuers/lincang")
    assert page.status_code == 200 and CITY_ADDRESSEES in page.text
    assert "readonly" in page.text and ">保存</button>" not in page.text
    refused = await viewer.post(
        "/issuers/lincang",
        data=ISSUER_FORM | {"text:addressees": "只读用户改的：", "csrf_token": csrf_of(page)},
    )
    assert refused.status_code == 403
    assert _issuer(app, "lincang")["texts"]["addressees"] == CITY_ADDRESSEES


async def test_an_admin_makes_a_unit_an_issuer_once(app, admin, city):
    page = await admin.get("/issuers")
    form = {
        "unit_code": "gengma",
        "name": "耿马县人民政府办公室",
        "short_name": "县政府办公室",
        "level": "county",
        "csrf_token": csrf_of(page),
    }
    created = await admin.post("/issuers", data=form)
    assert created.status_code == 303 and created.headers["location"] == "/issuers/gengma"
    assert _issuer(app, "gengma")["name"] == "耿马县人民政府办公室"
    again = await admin.post("/issuers", data=form | {"name": "另一个名称"})
    assert again.status_code == 400 and "已是发文机关" in again.text
    assert _issuer(app, "gengma")["name"] == "耿马县人民政府办公室"
    page = await city.get("/issuers")
    refused = await city.post("/issuers", data=form | {"unit_code": "cangyuan"})
    assert refused.status_code == 403


async def test_the_round_page_shows_the_issuers_defaults_and_previews_the_notice(city):
    page = await city.get("/rounds/2021Q2/notice")
    assert page.status_code == 200
    body = page.text
    assert '<option value="lincang" selected>' in body
    assert CITY_ADDRESSEES in body  # the issuer's default beside the round's empty field
    assert 'class="notice-preview"' in body and "临沧市人民政府办公室关于" in body
    for fmt in ("docx", "md", "html"):
        assert f"/rounds/2021Q2/notice.{fmt}" in body


async def test_a_round_text_saved_on_its_page_is_previewed_and_downloaded(app, city):
    page = await city.get("/rounds/2021Q2/notice")
    saved = await city.post(
        "/rounds/2021Q2/notice",
        data={
            "issuer": "lincang",
            "text:requirements": "本季度要求一。\n本季度要求二。",
            "opt:pass_rate.print:column": "否",
            "action": "save",
            "csrf_token": csrf_of(page),
        },
    )
    assert saved.status_code == 303, saved.text
    texts, issuer = _round_settings(app)
    assert texts["requirements"] == ["本季度要求一。", "本季度要求二。"]
    assert texts["pass_rate"] == {"column": {"print": False}} and issuer == "lincang"
    preview = await city.get("/rounds/2021Q2/notice")
    assert "本季度要求二。" in preview.text.split('class="notice-preview"')[1]
    markdown = await city.get("/rounds/2021Q2/notice.md")
    assert "本季度要求一。" in markdown.text and CITY_ADDRESSEES in markdown.text


async def test_previewing_shows_the_typed_text_and_stores_nothing(app, city):
    page = await city.get("/rounds/2021Q2/notice")
    shown = await city.post(
        "/rounds/2021Q2/notice",
        data={
            "text:addressees": "预览用的主送机关：",
            "action": "preview",
            "csrf_token": csrf_of(page),
        },
    )
    assert shown.status_code == 200
    assert "尚未保存" in shown.text
    assert "预览用的主送机关：" in shown.text.split('class="notice-preview"')[1]
    assert "addressees" not in _round_settings(app)[0]


async def test_a_bad_round_value_is_refused_naming_the_field_and_nothing_is_stored(app, city):
    page = await city.get("/rounds/2021Q2/notice")
    refused = await city.post(
        "/rounds/2021Q2/notice",
        data={
            "issuer": "",
            "text:preamble": "{% if %}",
            "text:addressees": "新的主送机关：",
            "opt:summary.threshold": "-3",
            "action": "save",
            "csrf_token": csrf_of(page),
        },
    )
    assert refused.status_code == 400
    assert "导语（preamble）" in refused.text and "列举上限" in refused.text
    assert 'value="-3"' in refused.text and "新的主送机关：" in refused.text
    assert _round_settings(app) == ({}, "lincang")


async def test_a_theme_or_group_naming_nothing_known_is_refused_at_its_field(app, city):
    page = await city.get("/rounds/2021Q2/notice")
    refused = await city.post(
        "/rounds/2021Q2/notice",
        data={
            "issuer": "lincang",
            "opt:themes": "栏目问题=column_stale\n新媒体问题=僵尸号",
            "opt:groups:website": "县级网站=county_gov、lincang-x",
            "action": "save",
            "csrf_token": csrf_of(page),
        },
    )
    assert refused.status_code == 400
    assert "通报设置「问题主题」中的「僵尸号」不是问题类别的代码或名称" in refused.text
    assert "nm_zombie（僵尸账号未注销）" in refused.text  # the valid ones are listed
    assert (
        "通报设置「分组统计」中的「lincang-x」既不是单位类型，也不是已登记的单位代码"
        in refused.text
    )
    assert _round_settings(app) == ({}, "lincang")


async def test_a_county_supervisor_cannot_change_the_city_round(app, county):
    page = await county.get("/rounds/2021Q2/notice")
    assert page.status_code == 200 and ">保存</button>" not in page.text
    refused = await county.post(
        "/rounds/2021Q2/notice",
        data={"text:addressees": "县里改的：", "action": "save", "csrf_token": csrf_of(page)},
    )
    assert refused.status_code == 403
    assert _round_settings(app) == ({}, "lincang")


async def test_a_block_is_saved_from_its_form_refused_when_bad_and_removed_when_emptied(app, city):
    page = await city.get("/rounds/2021Q2/notice")
    field = "block:consultation:questions"
    bad = await city.post(
        "/rounds/2021Q2/blocks/consultation",
        data={field: "gm-site，2021-05-10，2021-05-09，如何办理？", "csrf_token": csrf_of(page)},
    )
    assert bad.status_code == 400 and "「答复日期（answered）」早于提问日期" in bad.text
    assert "2021-05-09，如何办理？" in bad.text
    good = await city.post(
        "/rounds/2021Q2/blocks/consultation",
        data={
            field: "gm-site，2021-05-10，，如何办理居住证，需要哪些材料？",
            "csrf_token": csrf_of(page),
        },
    )
    assert good.status_code == 303
    with app.uow() as uow:
        stored = rounds.get_round(uow, "2021Q2").blocks
    assert stored == {
        "consultation": {
            "questions": [
                {
                    "target": "gm-site",
                    "asked": "2021-05-10",
                    "question": "如何办理居住证，需要哪些材料？",
                }
            ]
        }
    }
    shown = (await city.get("/rounds/2021Q2/notice")).text
    assert "gm-site，2021-05-10，，如何办理居住证，需要哪些材料？" in shown
    assert "模拟咨询情况" in shown.split('class="notice-preview"')[1]
    emptied = await city.post(
        "/rounds/2021Q2/blocks/consultation", data={field: "", "csrf_token": csrf_of(page)}
    )
    assert emptied.status_code == 303
    with app.uow() as uow:
        assert not rounds.get_round(uow, "2021Q2").blocks


#: Texts every option accepts one of (the first its parser takes is used).
SAMPLES = (
    "2",
    "截断",
    "抽查",
    "否",
    "100.0%",
    "存在问题、工作要求",
    "对象后",
    "新媒体重点[政务新媒体]=nm_stale、严重表述错误",  # a theme for one kind: kept on save
    "重点=column_stale、严重表述错误",  # a theme: categories by code or name
    "重点=county_gov、gengma",  # a unit group: unit kinds or unit codes
    "仅不合格",  # what 发现问题网站N个 counts
)


class _Fields(HTMLParser):
    """Every input's and textarea's name and value in a page, as a browser would send them."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs["name"]
            self.values[self._textarea] = ""

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None


def _form_of(page) -> dict[str, str]:
    parser = _Fields()
    parser.feed(page.text)
    return parser.values


async def test_every_option_set_shows_on_the_page_and_an_unchanged_save_keeps_it(app, city):
    with app.uow() as uow:
        issuer = issuers.get_issuer(uow, "lincang")
        for option in OPTIONS:
            kind = "new_media" if option.per_kind else None
            accepted = (
                _set(uow, issuer, option, text, kind) for text in SAMPLES if _parses(option, text)
            )
            assert any(accepted), f"no sample text for {option.path}"
        uow.commit()
    stored = _issuer(app, "lincang")["options"]
    page = await city.get("/issuers/lincang")
    form = _form_of(page)
    assert form["opt:summary.threshold"] == "2" and form["opt:pass_rate.rule:new_media"] == "截断"
    assert form["opt:sections"] == "存在问题、工作要求"
    saved = await city.post("/issuers/lincang", data=form | {"level": "city"})
    assert saved.status_code == 303, saved.text
    assert _issuer(app, "lincang")["options"] == stored


def _set(uow, issuer, option, text: str, kind: str | None) -> bool:
    try:
        issuers.set_option(uow, issuer, option.path, text, kind=kind)
    except ValidationFailed:
        return False
    return True


def _parses(option, text: str) -> bool:
    try:
        option.parse(text)
    except OptionError:
        return False
    return True


async def test_block_rows_pasted_from_a_spreadsheet_are_read_by_their_columns(app, city):
    page = await city.get("/rounds/2021Q2/notice")
    saved = await city.post(
        "/rounds/2021Q2/blocks/reprint",
        data={
            "block:reprint:deployed": "12",
            "block:reprint:sampled": "5",
            "block:reprint:results": "gm-site\t不及时\r\n",
            "csrf_token": csrf_of(page),
        },
    )
    assert saved.status_code == 303, saved.text
    with app.uow() as uow:
        stored = rounds.get_round(uow, "2021Q2").blocks["reprint"]
    assert stored == {
        "deployed": 12,
        "sampled": 5,
        "results": [{"target": "gm-site", "result": "late"}],
    }
    shown = (await city.get("/rounds/2021Q2/notice")).text
    assert "gm-site，不及时" in shown
    assert "上级部署转载重要信息12条，从中抽取5条" in shown.split('class="notice-preview"')[1]


async def test_the_preview_opens_the_page_above_the_form_and_downloads_say_they_are_saved(
    app, city
):
    page = await city.get("/rounds/2021Q2/notice")
    shown = await city.post(
        "/rounds/2021Q2/notice",
        data={
            "text:addressees": "预览用的主送机关：",
            "action": "preview",
            "csrf_token": csrf_of(page),
        },
    )
    body = shown.text
    assert body.count('class="notice-preview"') == 1
    banner = body.index("以下为预览，尚未保存。")
    preview = body.index('class="notice-preview"')
    form = body.index('<form id="notice-form"')
    assert banner < preview < form  # what the user sees first, without scrolling
    assert "预览用的主送机关：" in body[preview:form]
    assert 'form="notice-form" name="action" value="save">保存这些修改</button>' in body
    assert "下载已保存的通报（不含本次预览的修改）" in body[preview:form]
    saved_page = (await city.get("/rounds/2021Q2/notice")).text
    assert "以下为预览" not in saved_page and "预览（已保存的通报）" in saved_page
    assert saved_page.index('<form id="notice-form"') < saved_page.index('class="notice-preview"')
    assert "下载已保存的通报：" in saved_page and "下载 Word" not in saved_page


async def test_the_round_page_labels_options_and_blocks_in_chinese_only(app, city):
    with app.uow() as uow:
        city_office = issuers.get_issuer(uow, "lincang")
        for line in ("网站方面=column_stale", "新媒体方面=nm_zombie"):
            issuers.set_option(uow, city_office, "themes", line)
        uow.commit()
    body = (await city.get("/rounds/2021Q2/notice")).text
    for code in ("（recheck）", "（round_half_up）", "（truncate）", "（census）", "（overview）"):
        assert code not in body, code
    assert ">pass_rate.decimals<" not in body and 'title="pass_rate.decimals"' in body
    assert "四舍五入、截断" in body and "普查、抽查" in body
    assert ">保存复查</button>" in body and "<h3>复查" in body
    themes = body.split('name="opt:themes"', 1)[1].split("</td>", 1)[0]
    assert (
        'class="muted small lines">默认：<br>网站方面=column_stale\n新媒体方面=nm_zombie<' in themes
    )


async def test_an_office_that_does_not_cover_the_rounds_cases_is_refused_at_the_issuer_field(
    app, city
):
    page = await city.get("/rounds/2021Q2/notice")
    refused = await city.post(
        "/rounds/2021Q2/notice",
        data={
            "issuer": "cangyuan",  # the case of 2021Q2 is 耿马's, not 沧源's
            "text:addressees": "改过的主送机关：",
            "action": "save",
            "csrf_token": csrf_of(page),
        },
    )
    assert refused.status_code == 400
    said = refused.text.split('<p class="field-error">', 1)[1].split("</p>", 1)[0]
    assert said == (
        "检查轮次 2021Q2 不能由沧源县人民政府办公室（cangyuan）发文："
        "本轮次有 1 件问题案件不属于沧源县人民政府及其下级单位"
    )
    assert '<option value="cangyuan" selected>' in refused.text
    assert "改过的主送机关：" in refused.text
    assert _round_settings(app) == ({}, "lincang")
