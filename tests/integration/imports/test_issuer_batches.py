"""Offices and rounds an import creates are written many at a time, those it changes one by
one: either way the same records, the same counts, and nothing at all on an error."""

from __future__ import annotations

from datetime import date

import pytest

from services import imports
from services.core.errors import ValidationFailed
from services.rounds import issuers, rounds
from tests.badinput.corpus import xlsx

UNITS = [["单位代码", "单位名称", "类型", "上级单位代码"], ["city", "甲市人民政府", "市政府", ""]]
UNITS += [[f"k{n}", f"乙{n}县人民政府", "县区政府", "city"] for n in range(3)]
ISSUER_HEAD = ["单位代码", "机关名称", "机关简称", "层级", "文号格式", "下一步工作要求"]
ROUND_HEAD = ["轮次", "发文机关代码", "通报日期", "发文机关简称", "通报未报送单位"]


def _import(app, tmp_path, name: str, **sheets) -> imports.ImportReport:
    path = tmp_path / name
    path.write_bytes(xlsx(sheets))
    with app.uow() as uow:
        report = imports.import_tables(uow, imports.read_tables([path]))
        uow.commit()
    return report


def _counts(report, kind: str) -> tuple[int, int, int]:
    counts = report.counts[kind]
    return counts.created, counts.updated, counts.unchanged


def test_new_and_stored_offices_and_rounds_in_one_import(app, tmp_path):
    _import(
        app,
        tmp_path,
        "first.xlsx",
        单位=UNITS,
        发文机关=[ISSUER_HEAD, ["k0", "乙0县政府办公室", "乙0办", "县级", "", ""]],
        轮次=[ROUND_HEAD, ["2021Q3-k0", "k0", "2021-10-18", "", ""]],
    )
    offices = [["k0", "乙0县人民政府办公室", "乙0县办", "县级", "乙0政办〔{year}〕{n}号", ""]]
    offices += [
        [f"k{n}", f"乙{n}县政府办公室", f"乙{n}办", "county", "", "自查。\n整改。"] for n in (1, 2)
    ]
    report = _import(
        app,
        tmp_path,
        "second.xlsx",
        发文机关=[ISSUER_HEAD, *offices],
        轮次=[
            ROUND_HEAD,
            ["2021Q3-k0", "k0", "2021-10-18", "", ""],
            ["2021Q3-k1", "k1", "2021-10-19", "乙1办", "否"],
            ["2021Q3", "", "", "", ""],
        ],
    )

    assert _counts(report, "issuers") == (2, 1, 0)
    assert _counts(report, "rounds") == (2, 0, 1)
    with app.uow() as uow:
        k0, k1 = issuers.get_issuer(uow, "k0"), issuers.get_issuer(uow, "k1")
        assert (k0.name, k0.doc_pattern) == ("乙0县人民政府办公室", "乙0政办〔{year}〕{n}号")
        assert (k1.name, k1.short_name, k1.level, k1.doc_pattern) == (
            "乙1县政府办公室",
            "乙1办",
            "county",
            None,
        )
        assert (k1.texts, k1.options) == ({"requirements": ["自查。", "整改。"]}, {})
        new = rounds.get_round(uow, "2021Q3-k1")
        assert (new.issuer_id, new.notice_date, new.period_start) == (
            k1.id,
            date(2021, 10, 19),
            date(2021, 7, 1),
        )
        assert new.notice_texts == {"followups": {"unreported": False}, "office_short": "乙1办"}
        assert rounds.get_round(uow, "2021Q3").issuer_id is None
        assert rounds.get_round(uow, "2021Q3").blocks == {}


def test_a_bad_new_round_writes_no_office_and_no_round(app, tmp_path):
    _import(app, tmp_path, "units.xlsx", 单位=UNITS)
    with pytest.raises(ValidationFailed) as refused:
        _import(
            app,
            tmp_path,
            "bad.xlsx",
            发文机关=[ISSUER_HEAD, ["k0", "乙0县政府办公室", "乙0办", "县级", "", ""]],
            轮次=[
                ROUND_HEAD,
                ["2021Q3-k0", "k0", "2021-10-18", "", ""],
                ["2021Q3-k1", "k1", "2021-10-18", "", ""],
            ],
        )

    assert any("发文机关「k1」不存在" in e for e in refused.value.errors)
    with app.uow() as uow:
        assert issuers.list_issuers(uow) == []
        assert rounds.get_round(uow, "2021Q3-k0", required=False) is None
