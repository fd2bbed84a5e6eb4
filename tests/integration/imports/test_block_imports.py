"""Import sheets of a round's data blocks (复查, 通报表扬, 模拟咨询, 重要信息转载, 清理整合): each
into its round, idempotent, and a bad file refused naming file, row and column, writing nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from services import imports
from services.core.errors import ValidationFailed
from services.db.models import Unit
from services.reports.notice import build_notice
from services.rounds import rounds
from tests.integration.reports.notice_scenario import Q2, a_quarter_with_problems

SHEETS = {
    "复查": [["轮次", "初查日期", "复查日期"], [Q2, "2021-05-10", "2021-06-25"]],
    "通报表扬": [
        ["轮次", "对象代码", "表扬理由", "单位代码", "报送事项"],
        [Q2, "w_city", "信息发布及时，政策解读规范", None, None],
        [Q2, None, None, "yd", "2021年政府网站工作年度报表"],
    ],
    "模拟咨询": [
        ["轮次", "对象代码", "提问日期", "答复日期", "咨询问题"],
        [Q2, "w_city", "2021-05-10", "2021-05-11", "如何申请政府信息公开？"],
        [Q2, "w_gm", "2021-05-10", None, "社保卡补办需要哪些材料？"],
    ],
    "重要信息转载": [
        ["轮次", "部署条数", "抽查条数", "检查对象数", "对象代码", "转载情况"],
        [Q2, 12, 5, 4, "w_city", "及时"],
        [Q2, None, None, None, "w_yd", "不及时"],
    ],
    "清理整合": [
        ["轮次", "清理任务", "账号名称", "单位代码", "是否已注销"],
        [Q2, "按照省政府办公厅下发的待核查账号清单", "永德教育", "yd", "是"],
        [Q2, None, "耿马旅游", "gm", "否"],
    ],
}
STORED = {
    "recheck": {"initial": "2021-05-10", "recheck": "2021-06-25"},
    "commendations": {
        "targets": [{"target": "w_city", "reason": "信息发布及时，政策解读规范"}],
        "reported": [{"unit": "yd", "task": "2021年政府网站工作年度报表"}],
    },
    "consultation": {
        "questions": [
            {
                "target": "w_city",
                "asked": "2021-05-10",
                "answered": "2021-05-11",
                "question": "如何申请政府信息公开？",
            },
            {"target": "w_gm", "asked": "2021-05-10", "question": "社保卡补办需要哪些材料？"},
        ]
    },
    "reprint": {
        "deployed": 12,
        "sampled": 5,
        "checked": 4,
        "results": [{"target": "w_city", "result": "good"}, {"target": "w_yd", "result": "late"}],
    },
    "cleanup": {
        "task": "按照省政府办公厅下发的待核查账号清单",
        "accounts": [
            {"name": "永德教育", "unit": "yd", "deregistered": True},
            {"name": "耿马旅游", "unit": "gm", "deregistered": False},
        ],
    },
}


def workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def import_file(app, path: Path) -> imports.ImportReport:
    with app.uow() as uow:
        report = imports.import_findings(uow, [path])
        uow.commit()
    return report


def test_each_block_sheet_fills_its_rounds_block_and_importing_it_again_changes_nothing(
    app, tmp_path
):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        uow.commit()
    path = workbook(tmp_path / "blocks.xlsx", SHEETS)

    first = import_file(app, path)
    again = import_file(app, path)

    assert first.counts["blocks"].created == 5
    assert (again.counts["blocks"].unchanged, again.changed) == (5, False)
    with app.uow() as uow:
        assert rounds.get_round(uow, Q2).blocks == STORED
        notice = build_notice(uow, Q2)
    titles = [b.text for b in notice.blocks if b.kind == "h1"]
    assert titles[2:7] == [
        "复查情况",
        "通报表扬",
        "模拟咨询情况",
        "重要信息转载情况",
        "清理整合情况",
    ]


def test_a_changed_sheet_replaces_its_block_and_leaves_the_others(app, tmp_path):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        uow.commit()
    import_file(app, workbook(tmp_path / "blocks.xlsx", SHEETS))
    fewer = {"清理整合": [SHEETS["清理整合"][0], SHEETS["清理整合"][2]]}

    report = import_file(app, workbook(tmp_path / "cleanup.xlsx", fewer))

    assert report.counts["blocks"].updated == 1
    with app.uow() as uow:
        stored = rounds.get_round(uow, Q2).blocks
    assert stored["cleanup"] == {
        "accounts": [{"name": "耿马旅游", "unit": "gm", "deregistered": False}]
    }
    assert stored["reprint"] == STORED["reprint"]


def test_a_block_csv_is_recognised_by_its_headers(app, tmp_path):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        uow.commit()
    path = tmp_path / "consultation.csv"
    path.write_text(
        "轮次,对象代码,提问日期,答复日期\n2021Q2,w_city,2021-05-10,2021-05-11\n", encoding="utf-8"
    )

    import_file(app, path)

    with app.uow() as uow:
        assert rounds.get_round(uow, Q2).blocks == {
            "consultation": {
                "questions": [{"target": "w_city", "asked": "2021-05-10", "answered": "2021-05-11"}]
            }
        }


def test_a_bad_block_file_is_refused_naming_file_row_and_column_and_writes_nothing(app, tmp_path):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        uow.commit()
    bad = {
        "单位": [
            ["单位代码", "单位名称", "类型", "上级单位代码"],
            ["new", "新单位", "city_dept", "city"],
        ],
        "复查": [["轮次", "初查日期", "复查日期"], [Q2, "2021-05-10", "2021-07-05"]],
        "通报表扬": [["轮次", "对象代码", "表扬理由"], [Q2, "w_city", None]],
        "模拟咨询": [
            ["轮次", "对象代码", "提问日期", "答复日期"],
            [Q2, "w_city", "2021-05-10", "2021-05-07"],
            [Q2, "no_such_site", "2021-05-10", None],
        ],
        "重要信息转载": [
            ["轮次", "部署条数", "抽查条数", "对象代码", "转载情况"],
            [Q2, "-3", 1, "w_city", "及时"],
            [Q2, None, None, "w_yd", "晚了"],
        ],
        "清理整合": [
            ["轮次", "账号名称", "单位代码", "是否已注销"],
            [Q2, "耿马旅游", "nowhere", "否"],
        ],
    }
    path = workbook(tmp_path / "bad.xlsx", bad)

    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_tables(uow, imports.read_tables([path]))

    assert refused.value.errors == [
        "bad.xlsx［复查］：第 2 行「复查日期」列：应在本轮次期间（2021-04-01–2021-06-30）",
        "bad.xlsx［模拟咨询］：第 2 行「答复日期」列：早于提问日期",
        "bad.xlsx［模拟咨询］：第 3 行「对象代码」列：监测对象「no_such_site」不存在",
        "bad.xlsx［清理整合］：第 2 行「单位代码」列：单位「nowhere」不存在",
        "bad.xlsx［通报表扬］：第 2 行「表扬理由」列：填写了对象代码，须同时填写表扬理由",
        "bad.xlsx［重要信息转载］：第 2 行「部署条数」列：「-3」不是非负整数",
        "bad.xlsx［重要信息转载］：第 3 行「转载情况」列："
        "「晚了」无效，可选：及时（good）、不及时（late）、未转载（missing）",
    ]
    with app.uow() as uow:
        assert rounds.get_round(uow, Q2).blocks == {}
        assert (
            uow.session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "new"))
            == 0
        )


def test_reprint_figures_given_twice_must_agree_and_sampled_may_not_exceed_deployed(app, tmp_path):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        uow.commit()
    path = tmp_path / "reprint.csv"
    path.write_text(
        "轮次,部署条数,抽查条数,对象代码,转载情况\n2021Q2,3,5,w_city,及时\n2021Q2,4,,w_yd,未转载\n",
        encoding="utf-8",
    )

    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_findings(uow, [path])

    assert refused.value.errors == [
        "reprint.csv：第 2 行「抽查条数」列：5 大于部署条数 3",
        "reprint.csv：第 3 行「部署条数」列：4 与第 2 行的 3 不一致（每轮只有一个部署条数，填写一行即可）",
    ]


def test_a_reprint_figure_one_row_gets_wrong_is_one_error_at_that_row(app, tmp_path):
    with app.uow() as uow:
        a_quarter_with_problems(uow)
        uow.commit()
    path = tmp_path / "reprint.csv"
    path.write_text(
        "轮次,部署条数,抽查条数,对象代码,转载情况\n"
        "2021Q2,10,20,w_city,及时\n2021Q2,10,5,w_yd,未转载\n2021Q2,10,5,w_gm,不及时\n",
        encoding="utf-8",
    )

    with app.uow() as uow, pytest.raises(ValidationFailed) as refused:
        imports.import_findings(uow, [path])

    # Not also "20 大于部署条数 10", nor rows 3 and 4 refused for disagreeing with row 2.
    assert refused.value.errors == [
        "reprint.csv：第 2 行「抽查条数」列：20 与第 3、4 行的 5 不一致（每轮只有一个抽查条数，填写一行即可）",
    ]
