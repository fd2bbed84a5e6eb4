"""Bad imports: each one is refused with a located Chinese message and writes nothing.

Every entry of ``CORPUS`` is one input tried; ``ACCEPTED`` lists the variants (other encodings,
date spellings) that must be read, and what they must be read as.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from services import imports
from services.core.errors import ValidationFailed
from services.db.models import Round, Unit
from tests.badinput.corpus import footprint, xlsx

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
UNIT_HEAD = "单位代码,单位名称,上级单位代码,类型\n"
ROUND_HEAD = "轮次,开始日期,结束日期,整改期限\n"


@dataclass(frozen=True)
class Bad:
    name: str
    files: dict[str, bytes]
    says: str  # a fragment of the expected error
    kind: str = "registry"


def unit_row(name: str, *, code: str = "newunit", kind: str = "city_dept") -> bytes:
    return (UNIT_HEAD + f"{code},{name},lincang,{kind}\n").encode()


def deadline(text: str) -> bytes:
    return (ROUND_HEAD + f"2021Q2,2021-04-01,2021-06-30,{text}\n").encode()


CORPUS = [
    # encodings
    Bad(
        "UTF-16 CSV",
        {"units.csv": (UNIT_HEAD + "a,甲,lincang,city_dept\n").encode("utf-16")},
        "无法识别文件编码",
    ),
    Bad(
        "bytes no encoding reads",
        {"units.csv": UNIT_HEAD.encode() + b"a,\xff\xfe\x80\x80,,city_dept\n"},
        "无法识别文件编码",
    ),
    Bad("empty CSV", {"units.csv": b""}, "文件为空"),
    Bad("not a CSV or XLSX", {"units.xls": b"\xd0\xcf\x11\xe0"}, "不支持的文件类型"),
    Bad("damaged XLSX", {"units.xlsx": b"PK\x03\x04 not really a workbook"}, "无法读取 Excel 文件"),
    # columns and rows
    Bad(
        "missing required column",
        {"units.csv": "单位代码,类型\na,city_dept\n".encode()},
        "缺少必需的列「单位名称」",
    ),
    Bad("unknown table", {"misc.csv": "甲,乙\n1,2\n".encode()}, "无法识别表格内容"),
    Bad("required cell blank", {"units.csv": unit_row("")}, "单位名称"),
    Bad(
        "duplicate rows",
        {
            "units.csv": (
                UNIT_HEAD + "d1,重复单位,lincang,city_dept\nd1,重复单位,lincang,city_dept\n"
            ).encode()
        },
        "与第 2 行重复",
    ),
    Bad(
        "unknown parent unit",
        {"units.csv": (UNIT_HEAD + "x,某单位,nowhere,city_dept\n").encode()},
        "上级单位「nowhere」不存在",
    ),
    Bad(
        "unknown unit kind", {"units.csv": unit_row("某单位", kind="外星机构")}, "「外星机构」无效"
    ),
    Bad(
        "target of an unknown unit",
        {
            "targets.csv": "对象代码,主办单位代码,对象类型,名称\nw1,nowhere,website,某网站\n".encode()
        },
        "nowhere",
    ),
    Bad(
        "finding of unknown round, target and category",
        {"findings.csv": "轮次,对象代码,问题类别\n2021Q9,nowhere,nocat\n".encode()},
        "检查轮次「2021Q9」不存在",
        kind="findings",
    ),
    # cell contents
    Bad("NUL byte in a name", {"units.csv": unit_row("某\x00单位")}, "控制字符"),
    Bad("bell character in a name", {"units.csv": unit_row("某\x07单位")}, "控制字符"),
    Bad(
        "right-to-left override in a name",
        {"units.csv": unit_row("某单位\u202efdp.exe")},
        "控制字符",
    ),
    Bad("overlong CSV cell", {"units.csv": unit_row("长" * 5000)}, "超过"),
    Bad(
        "huge XLSX cell",
        {
            "units.xlsx": xlsx(
                {
                    "单位": [
                        ["单位代码", "单位名称", "上级单位代码", "类型"],
                        ["big", "长" * 32000, "lincang", "city_dept"],
                    ]
                }
            )
        },
        "超过",
    ),
    Bad(
        "formula without a value in XLSX",
        {
            "units.xlsx": xlsx(
                {
                    "单位": [
                        ["单位代码", "单位名称", "上级单位代码", "类型"],
                        ["f1", '=A2&"局"', "lincang", "city_dept"],
                    ]
                }
            )
        },
        "单位名称",
    ),
    Bad(
        "formula as a unit code in XLSX",
        {
            "units.xlsx": xlsx(
                {
                    "单位": [
                        ["单位代码", "单位名称", "上级单位代码", "类型"],
                        ["=1+1", "某单位", "lincang", "city_dept"],
                    ]
                }
            )
        },
        "单位代码",
    ),
    # dates
    Bad(
        "compact date 20210729",
        {"rounds.csv": deadline("20210729")},
        "「20210729」不是有效日期",
        kind="findings",
    ),
    Bad("day-first date", {"rounds.csv": deadline("29/07/2021")}, "不是有效日期", kind="findings"),
    Bad(
        "date with a time",
        {"rounds.csv": deadline("2021-7-29 00:00:00")},
        "不是有效日期",
        kind="findings",
    ),
    Bad(
        "impossible date",
        {"rounds.csv": deadline("2021-02-30")},
        "「2021-02-30」不是有效日期",
        kind="findings",
    ),
    Bad("date in words", {"rounds.csv": deadline("七月二十九日")}, "不是有效日期", kind="findings"),
]

ACCEPTED_DATES = [
    "2021-07-29",
    "2021/7/29",
    "2021.7.29",
    "2021年7月29日",
    "2021 年 7 月 29 日",
    "２０２１年７月２９日",
]


def _write(tmp_path: Path, files: dict[str, bytes]) -> list[Path]:
    paths = []
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(path)
    return paths


def _run(app, kind: str, paths: list[Path]) -> imports.ImportReport:
    with app.uow() as uow:
        do = imports.import_registry if kind == "registry" else imports.import_findings
        report = do(uow, paths)
        uow.commit()
    return report


@pytest.fixture
def registry(app):
    _run(app, "registry", [FIXTURES / "units.csv", FIXTURES / "targets.csv"])
    return app


def test_every_bad_import_is_refused_with_a_located_chinese_message_and_writes_nothing(
    registry, tmp_path
):
    before, wrong = footprint(registry), []
    for n, bad in enumerate(CORPUS):
        folder = tmp_path / str(n)
        folder.mkdir()
        try:
            _run(registry, bad.kind, _write(folder, bad.files))
        except ValidationFailed as refused:
            message = "\n".join(refused.errors)
            if bad.says not in message or not any(name in message for name in bad.files):
                wrong.append(f"{bad.name}: {message}")
        else:
            wrong.append(f"{bad.name}: accepted")
        if footprint(registry) != before:
            wrong.append(f"{bad.name}: wrote something")
            before = footprint(registry)

    assert wrong == [], f"{len(wrong)} of {len(CORPUS)} bad imports mishandled"


def test_a_gbk_csv_is_decoded_like_the_same_file_in_utf8(registry, tmp_path):
    text = UNIT_HEAD + "gbk1,耿马傣族佤族自治县民政局,gengma,other\n"
    _run(registry, "registry", _write(tmp_path, {"units.csv": text.encode("gbk")}))

    with registry.uow() as uow:
        name = uow.session.scalar(select(Unit.name).where(Unit.code == "gbk1"))
    assert name == "耿马傣族佤族自治县民政局"


def test_every_accepted_chinese_date_spelling_reads_as_the_same_day(registry, tmp_path):
    read = {}
    for n, spelling in enumerate(ACCEPTED_DATES):
        folder = tmp_path / str(n)
        folder.mkdir()
        _run(registry, "findings", _write(folder, {"rounds.csv": deadline("2021-07-28")}))
        _run(registry, "findings", _write(folder, {"rounds.csv": deadline(spelling)}))
        with registry.uow() as uow:
            read[spelling] = uow.session.scalar(select(Round.deadline))

    assert read == dict.fromkeys(ACCEPTED_DATES, date(2021, 7, 29))


def test_a_date_typed_as_an_excel_date_cell_is_accepted(registry, tmp_path):
    book = xlsx(
        {
            "轮次": [
                ["轮次", "开始日期", "结束日期", "整改期限"],
                ["2021Q2", date(2021, 4, 1), date(2021, 6, 30), date(2021, 7, 29)],
            ]
        }
    )
    _run(registry, "findings", _write(tmp_path, {"rounds.xlsx": book}))

    with registry.uow() as uow:
        assert uow.session.scalar(select(Round.deadline)) == date(2021, 7, 29)
