"""The demo scenarios' notices, word for word: Lincang 2021 (the seed), a county and a city.

Each golden file (tests/fixtures/notices/<scenario>.md) was checked line by line against its
scenario's data (demo/<scenario>.yaml); the figures it prints are worked out
in the comments of that file. A change that alters a notice shows here as a text difference.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.core.errors import ValidationFailed
from services.db.models import Case, Target, Unit
from services.ops import demo
from services.reports.docx import render_docx
from services.reports.notice import build_notice
from services.reports.render import render_markdown

GOLDEN = Path(__file__).parents[2] / "fixtures" / "notices"
#: Each scenario and the round whose notice it is about.
SCENARIOS = {"lincang-2021": "2021Q2", "county": "2023Q3", "city": "2024Q2"}


def loaded(app, scenario: str):
    with app.uow() as uow:
        demo.load_demo(uow, name=scenario)
        uow.commit()


def notice_of(app, scenario: str):
    """The scenario's notice, as `rectify notice` prints it after `rectify demo`."""
    with app.uow() as uow:
        return build_notice(uow, SCENARIOS[scenario])


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_scenarios_notice_is_its_golden_text_in_markdown_and_in_docx(app, tmp_path, scenario):
    loaded(app, scenario)
    notice = notice_of(app, scenario)

    markdown = render_markdown(notice)
    assert markdown == (GOLDEN / f"{scenario}.md").read_text("utf-8")

    path = tmp_path / f"{scenario}.docx"
    path.write_bytes(render_docx(notice))
    paragraphs = [p.text for p in Document(str(path)).paragraphs if p.text]
    assert paragraphs == [block.full_text for block in notice.blocks]
    assert all(paragraph in markdown for paragraph in paragraphs)


def test_the_lincang_golden_holds_the_seed_notices_figures():
    golden = (GOLDEN / "lincang-2021.md").read_text("utf-8")
    for figure in (
        "临政办字〔2021〕72号",
        "登记在运行政府网站9个、市级部门信息公开专栏38个",
        "发现问题网站1个，网站合格率88.88%；问题专栏1个，合格率97.37%",
        "二季度发现问题政府系统政务新媒体3个，合格率：98.45%",
        "共接到网民留言151条",
        "耿马自治县超期3条未回复",
        "并于2021年7月29日前将整改情况",
    ):
        assert figure in golden


def test_scenarios_loaded_side_by_side_keep_their_own_notices(app):
    """Each office counts only its own subtree: a kind row of 检查范围 (every operating
    website, ...) covers the targets under the round's issuer, not another demo's."""
    for scenario in ("county", "city", "lincang-2021"):
        loaded(app, scenario)
    for scenario in SCENARIOS:
        notice = notice_of(app, scenario)
        assert render_markdown(notice) == (GOLDEN / f"{scenario}.md").read_text("utf-8")


@pytest.mark.parametrize("scenario", ["county", "city"])
def test_invented_scenarios_are_marked_synthetic_and_use_example_domains(app, scenario):
    loaded(app, scenario)
    with app.uow() as uow:
        flags = [
            (model.__name__, flag)
            for model in (Unit, Target, Case)
            for flag in uow.session.scalars(select(model.synthetic))
        ]
        emails = [
            e
            for row in uow.session.execute(select(Unit.contact_email, Unit.leader_email))
            for e in row
            if e
        ]
        urls = list(uow.session.scalars(select(Target.url).where(Target.url.is_not(None))))
    assert {name for name, _ in flags} == {"Unit", "Target", "Case"}
    assert all(flag for _, flag in flags)
    assert emails and all(e.endswith(".example") for e in emails)
    assert urls and all(".example/" in url for url in urls)
    text = demo.demo_text(f"{scenario}.yaml")
    assert text.startswith("# 场景：") and "SYNTHETIC" in text


@pytest.mark.parametrize("scenario", ["county", "city"])
def test_loading_a_scenario_again_changes_nothing(app, scenario):
    loaded(app, scenario)
    with app.uow() as uow:
        again = demo.load_demo(uow, name=scenario)
    assert not again.changed


def test_a_scenario_with_an_unknown_section_is_refused_naming_it(app, monkeypatch):
    monkeypatch.setattr(demo, "scenario_names", lambda: ["broken"])
    monkeypatch.setattr(demo, "demo_text", lambda name: "unit:\n- {code: x}\n")
    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        demo.load_demo(uow, name="broken")
    assert refused.value.errors[0].startswith("broken.yaml：未知的部分「unit」（可用：units、")


def test_rectify_demo_loads_a_named_scenario_and_refuses_an_unknown_one(settings, tmp_path):
    env = {"RECTIFY_DATABASE_URL": settings.database_url, "RECTIFY_DATA_DIR": str(tmp_path)}

    def run(*args):
        return CliRunner().invoke(cli_app, [*args], env=env)

    helped = run("demo", "--help")
    assert helped.exit_code == 0
    for name in SCENARIOS:  # each with its description, the first line of its file
        title = demo.demo_text(f"{name}.yaml").split("\n", 1)[0].removeprefix("# 场景：")
        assert f"{name}：{title[:12]}" in helped.stdout

    refused = run("demo", "--scenario", "prefecture")
    assert refused.exit_code == 2
    assert "没有名为「prefecture」的演示场景" in refused.stderr
    assert "lincang-2021、city、county" in refused.stderr

    assert run("db", "upgrade").exit_code == 0
    loaded_county = run("demo", "--scenario", "county")
    assert loaded_county.exit_code == 0, loaded_county.stderr
    assert "county.yaml" in loaded_county.stdout
    notice = run("notice", SCENARIOS["county"], "--format", "md")
    assert notice.exit_code == 0, notice.stderr
    assert notice.stdout == (GOLDEN / "county.md").read_text("utf-8")
