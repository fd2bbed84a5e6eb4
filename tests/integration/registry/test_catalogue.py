"""The category catalogue in the database: checks that exist; seeding adds, never overwrites."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from cli.main import app as cli_app
from services.checks.base import names
from services.checks.model import MANUAL
from services.core.errors import ValidationFailed
from services.db.models import Category
from services.registry import catalogue
from services.registry.catalogue import CategorySpec, ensure_seeded, seed_specs, upsert_categories


def test_every_category_in_the_database_names_a_check_that_exists(app):
    with app.uow() as uow:
        stored = dict(uow.session.execute(select(Category.code, Category.check)).all())
    assert set(stored) >= {spec.code for spec in seed_specs()}
    unknown = {code: name for code, name in stored.items() if name and name != MANUAL}
    unknown = {code: name for code, name in unknown.items() if name not in names()}
    assert unknown == {}


def test_a_category_with_an_unknown_check_is_refused_and_nothing_written(app):
    good = CategorySpec(code="ok_cat", name="可用", target_kinds=("website",), severity="veto")
    bad = CategorySpec(
        code="bad_cat", name="错误", target_kinds=("website",), severity="veto", check="ghost"
    )
    with app.uow() as uow:
        with pytest.raises(ValidationFailed) as refused:
            upsert_categories(uow, [good, bad])
        assert "自动检查「ghost」不存在" in str(refused.value)
        assert uow.session.get(Category, "ok_cat") is None


def test_seeding_again_adds_missing_categories_and_keeps_the_offices_edits(app):
    with app.uow() as uow:
        edited = uow.session.get(Category, "column_blank")
        edited.name = "空白栏目（本办口径）"
        edited.deadline_days = 7
        edited.check = None
        uow.session.execute(delete(Category).where(Category.code == "site_unreachable"))
        uow.commit()
    with app.uow() as uow:
        assert ensure_seeded(uow) == 1
        uow.commit()
    with app.uow() as uow:
        kept = uow.session.get(Category, "column_blank")
        assert (kept.name, kept.deadline_days, kept.check) == ("空白栏目（本办口径）", 7, None)
        back = uow.session.get(Category, "site_unreachable")
        assert (back.name, back.check) == ("站点无法访问", "site_reachable")
        assert ensure_seeded(uow) == 0


def test_rectify_db_upgrade_adds_a_deleted_seed_category_and_keeps_an_edited_one(app, tmp_path):
    with app.uow() as uow:
        uow.session.get(Category, "homepage_stale").name = "首页长期不更新"
        uow.session.execute(delete(Category).where(Category.code == "column_blank"))
        uow.commit()
    env = {"RECTIFY_DATABASE_URL": app.settings.database_url, "RECTIFY_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(cli_app, ["db", "upgrade"], env=env)
    assert result.exit_code == 0, result.output
    assert "新增问题类别 1 个" in result.output
    with app.uow() as uow:
        assert uow.session.get(Category, "homepage_stale").name == "首页长期不更新"
        assert uow.session.get(Category, "column_blank").name == "空白栏目"
        count = uow.session.scalar(select(func.count()).select_from(Category))
        assert count == len(seed_specs())


def test_an_upgrade_keeps_an_edited_seed_category_and_adds_a_new_seed_with_its_wording(
    app, tmp_path
):
    with app.uow() as uow:
        catalogue.edit_category(
            uow,
            "首页页面错位",
            {"theme": "本办的主题", "retired": True, "wording": {"_": {"phrase": "页面乱了"}}},
        )
        # As if work_order_overdue arrived with this release: the database has not seen it.
        uow.session.execute(delete(Category).where(Category.code == "work_order_overdue"))
        uow.commit()
    env = {"RECTIFY_DATABASE_URL": app.settings.database_url, "RECTIFY_DATA_DIR": str(tmp_path)}

    result = CliRunner().invoke(cli_app, ["db", "upgrade"], env=env)

    assert result.exit_code == 0, result.output
    assert "新增问题类别 1 个" in result.output
    with app.uow() as uow:
        kept = uow.session.get(Category, "homepage_layout_broken")
        assert (kept.theme, kept.retired, kept.wording) == (
            "本办的主题",
            True,
            {"_": {"phrase": "页面乱了"}},
        )
        added = uow.session.get(Category, "work_order_overdue")
        assert added.theme == "监管工作要求落实不到位"
        assert added.target_kinds == ["website", "column", "new_media"]
        assert added.wording["new_media"]["phrase"] == "未在规定时限内处理内容监测工单"


def test_a_new_seed_whose_name_an_office_already_uses_is_added_under_another_name(app):
    with app.uow() as uow:
        uow.session.execute(delete(Category).where(Category.code == "typos"))
        catalogue.edit_category(uow, "column_name_outdated", {"name": "错别字"})
        assert ensure_seeded(uow) == 1
        assert uow.session.get(Category, "typos").name == "错别字（预置）"
        assert uow.session.get(Category, "column_name_outdated").name == "错别字"
