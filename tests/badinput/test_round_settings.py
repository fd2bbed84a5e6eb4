"""A round's settings are checked in one place (``RoundSpec.problems``) whatever the way in: the
round form, an import file (the service and the CLI's ``rectify import findings``). Each bad
value is refused naming its field, nothing is written; and a round stored with bad settings
before these rules makes its notice and its publication answer a Chinese 4xx, never a 500."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app as cli_app
from services import imports
from services.core.errors import ValidationFailed
from services.db.models import Round
from tests.badinput.corpus import footprint
from tests.builders import a_case, a_round, a_target
from tests.web.conftest import a_user, csrf_of, login
from web.app import create_app

ROUND_FORM = {"code": "2021Q3", "period_start": "2021-07-01", "period_end": "2021-09-30"}
DAYS = "整改天数（deadline_days）超出范围（1–365）"
#: (form fields over ROUND_FORM, a fragment of the Chinese refusal)
FORM_REFUSED = [
    ({"deadline_days": "-5"}, DAYS),
    ({"deadline_days": "0"}, DAYS),
    ({"deadline_days": "366"}, DAYS),
    (
        {"deadline_mode": "weird"},
        "期限方式（deadline_mode）应为 calendar（自然日）、working（工作日）",
    ),
    ({"notice_date": "2021-10-19", "deadline": "2021-10-01"}, "整改期限早于通报日期"),
    ({"period_start": "1900-01-01"}, "开始日期（period_start）应在 2000–2099 年之间"),
    ({"notice_date": "9999-12-31"}, "通报日期（notice_date）应在 2000–2099 年之间"),
    ({"code": "2021Q3" + "x" * 20}, "轮次代码（code）过长（26 字，上限 20 字）"),
    ({"code": "2021/Q3"}, "轮次代码（code）不能为空，也不能含有斜杠"),
    ({"title": "长" * 301}, "标题（title）过长（301 字，上限 300 字）"),
    ({"doc_number": "临政办\u202e字"}, "文号（doc_number）第 4 个字符是不可见的控制字符"),
]
HEAD = "轮次,开始日期,结束日期,通报日期,整改期限,整改天数,期限方式,标题,新增登记新媒体\n"
#: (an import row under HEAD, its column, a fragment of the refusal)
IMPORT_REFUSED = [
    ("2021Q3,,,,,99999999999999999999,,,", "整改天数", DAYS),
    ("2021Q3,,,,,0,,,", "整改天数", DAYS),
    ("2021Q3,,,,,400,calendar,,", "整改天数", DAYS),
    ("2021Q3,,,,,,weird,,", "期限方式", "「weird」无效"),
    ("2021Q3,,,2021-10-19,2021-10-01,,,,", "整改期限", "整改期限早于通报日期"),
    ("2021Q3,,,,,,,,99999999999", "新增登记新媒体", "（nm_registered）超出范围（0–2147483647）"),
    ("X" * 21 + ",2021-07-01,2021-09-30,,,,,,", "轮次", "轮次代码（code）过长"),
    ("2021Q3,,,,,,," + "长" * 301 + ",", "标题", "标题（title）过长"),
    ("2021Q3,1999-07-01,1999-09-30,,,,,,", "开始日期", "应在 2000–2099 年之间"),
]


@pytest.fixture
async def admin(app, two_units):
    created = a_user(app, "li", role="admin")
    transport = httpx.ASGITransport(app=create_app(app), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        assert (await login(client, "li", created.password)).status_code == 303
        yield client


def _refused(response: httpx.Response, says: str) -> bool:
    return (
        400 <= response.status_code < 500
        and "text/html" in response.headers["content-type"]
        and says in response.text
    )


async def test_every_bad_round_setting_on_the_form_is_refused_naming_the_field(app, admin):
    csrf = csrf_of(await admin.get("/rounds"))
    before, wrong = footprint(app), []
    for fields, says in FORM_REFUSED:
        response = await admin.post("/rounds", data=ROUND_FORM | fields | {"csrf_token": csrf})
        if not _refused(response, says):
            wrong.append(f"{fields}: {response.status_code}")
        if footprint(app) != before:
            wrong.append(f"{fields}: wrote something")
            before = footprint(app)

    assert wrong == [], "\n".join(wrong)


def test_every_bad_round_setting_in_an_import_file_is_refused_at_its_cell(app, tmp_path):
    before, wrong = footprint(app), []
    for n, (row, column, says) in enumerate(IMPORT_REFUSED):
        path = tmp_path / f"rounds{n}.csv"
        path.write_text(HEAD + row + "\n", encoding="utf-8")
        try:
            with app.uow() as uow:
                imports.import_findings(uow, [path])
                uow.commit()
        except ValidationFailed as refused:
            where = f"rounds{n}.csv：第 2 行「{column}」列"
            if not any(where in e and says in e for e in refused.errors):
                wrong.append(f"{row[:40]}: {refused.errors}")
        else:
            wrong.append(f"{row[:40]}: accepted")
        if footprint(app) != before:
            wrong.append(f"{row[:40]}: wrote something")
            before = footprint(app)

    assert wrong == [], "\n".join(wrong)


def test_the_cli_import_refuses_every_bad_round_setting_and_writes_nothing(app, settings, tmp_path):
    path = tmp_path / "rounds.csv"
    rows = [
        row.replace("2021Q3", f"2021Q{1 + n % 4}", 1)
        for n, (row, _, _) in enumerate(IMPORT_REFUSED[:3])
    ]
    path.write_text(HEAD + "\n".join(rows) + "\n", encoding="utf-8")
    env = {"RECTIFY_DATABASE_URL": settings.database_url, "RECTIFY_DATA_DIR": str(tmp_path)}
    before = footprint(app)

    result = CliRunner().invoke(cli_app, ["import", "findings", str(path)], env=env)

    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0] == "导入失败，未写入任何数据：共 3 处错误"
    assert all("「整改天数」列" in line and DAYS in line for line in lines[1:]), lines
    assert footprint(app) == before


@pytest.mark.parametrize(
    ("stored", "says"),
    [
        ({"deadline_mode": "weird"}, "期限方式（deadline_mode）应为"),
        ({"deadline_days": -5}, DAYS),
        ({"deadline_days": 10**9}, DAYS),
        ({"notice_texts": {"pass_rate": "x"}}, "合格率设置（pass_rate）应为键值表"),
        ({"notice_texts": {"pass_rate": {"decimals": 9}}}, "pass_rate.decimals"),
        ({"notice_texts": {"pass_rate": {"website": {"rule": "up"}}}}, "pass_rate.website.rule"),
        ({"notice_texts": ["not", "a", "table"]}, "通报文本设置（notice_texts）"),
        ({"notice_texts": {"followups": ["unreported"]}}, "通报段落设置（followups）"),
    ],
)
async def test_a_round_stored_with_bad_settings_gets_a_chinese_4xx_not_a_500(
    app, admin, two_units, stored, says
):
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=None, notice_date=None)
        a_case(uow, target_code=a_target(uow, unit_code="gengma").code)  # found: to publish
        round_ = uow.session.scalar(select(Round).where(Round.code == "2021Q2"))
        for name, value in stored.items():
            setattr(round_, name, value)
        uow.commit()
    csrf = csrf_of(await admin.get("/rounds"))
    before = footprint(app)

    for fmt in ("md", "html", "docx"):
        response = await admin.get(f"/rounds/2021Q2/notice.{fmt}")
        assert _refused(response, says), (fmt, response.status_code, response.text[-600:])
    published = await admin.post("/rounds/2021Q2/publish", data={"csrf_token": csrf})
    assert _refused(published, says), (published.status_code, published.text[-600:])
    assert footprint(app) == before


async def test_a_notice_day_the_working_day_calendar_lacks_is_named_not_a_500(
    app, admin, two_units
):
    """Valid settings, but a notice day past the years ``chinese_calendar`` knows."""
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=None, notice_date=date(2040, 1, 5), deadline_mode="working")
        uow.commit()

    for fmt in ("md", "html", "docx"):
        response = await admin.get(f"/rounds/2021Q2/notice.{fmt}")
        assert _refused(response, "通报日期（notice_date）2040-01-05"), (fmt, response.status_code)
        assert "整改期限（deadline）" in response.text
