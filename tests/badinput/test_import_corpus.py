"""Bad imports: each one is refused with a located Chinese message and writes nothing.

Every entry of ``CORPUS`` is one input tried; ``ACCEPTED`` lists the variants (other encodings,
date spellings) that must be read, and what they must be read as.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cli.main import app as cli_app
from services import imports
from services.core.errors import ValidationFailed
from services.db.models import Round, Unit
from services.imports import sheet_limits, xlsx_rows
from services.imports.sheet_limits import SheetLimits
from tests.badinput.corpus import (
    far_cell_xlsx,
    footprint,
    inline_row,
    multipart,
    runaway_guard,
    with_member,
    with_sheet_xml,
    xlsx,
)
from tests.web.conftest import a_user, csrf_of, login
from web.app import create_app

FIXTURES = Path(__file__).parent.parent / "fixtures" / "imports"
UNIT_HEAD = "单位代码,单位名称,上级单位代码,类型\n"
ROUND_HEAD = "轮次,开始日期,结束日期,整改期限\n"
#: A guard against a runaway import (one that would read 17 billion cells), not a speed test.
RUNAWAY_SECONDS = 120


@dataclass(frozen=True)
class Bad:
    name: str
    files: dict[str, bytes]
    says: str  # a fragment of the expected error
    kind: str = "registry"


#: A header, then one value at XFD1048576 (written without a <dimension>, see ``with_sheet_xml``).
FAR_ROWS = inline_row(1, ["单位代码"]) + (
    '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
)


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
    # sizes, under the default limits
    Bad("one cell at XFD1048576 (5 KB)", {"units.xlsx": far_cell_xlsx()}, "超过 200 列的上限"),
    Bad(
        "one cell at XFD1048576 without a dimension",
        {"units.xlsx": with_sheet_xml(far_cell_xlsx(), FAR_ROWS, dimension=None)},
        "第 1,048,576 行有 16,384 列，超过 200 列的上限",
    ),
    Bad(
        "CSV row of 201 columns",
        {"units.csv": (UNIT_HEAD + "a,某单位,lincang,city_dept" + ",x" * 197 + "\n").encode()},
        "第 2 行有 201 列，超过 200 列的上限",
    ),
    Bad(
        "CSV cell over the csv module's field limit",
        {"units.csv": UNIT_HEAD.encode() + b'a,"' + b"x" * 200_000 + b'",lincang,city_dept\n'},
        "无法按 CSV 读取",
    ),
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
            with runaway_guard(RUNAWAY_SECONDS, bad.name):
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


def test_a_cell_at_xfd1048576_is_refused_before_a_single_row_is_read(
    registry, tmp_path, monkeypatch
):
    """The 5 KB workbook whose <dimension> spans A1:XFD1048576 (17 billion cells, hours of
    work): refused from its declared size, before the reader yields a row."""
    rows_read = []
    original = xlsx_rows.Workbook.rows

    def counted(self, *args, **kwargs):
        for row in original(self, *args, **kwargs):
            rows_read.append(row)
            yield row

    monkeypatch.setattr(xlsx_rows.Workbook, "rows", counted)
    book = far_cell_xlsx()
    before = footprint(registry)

    with pytest.raises(ValidationFailed) as refused, runaway_guard(RUNAWAY_SECONDS, "XFD1048576"):
        _run(registry, "registry", _write(tmp_path, {"超大.xlsx": book}))

    assert len(book) < 5_000
    assert refused.value.errors == [
        "文件「超大.xlsx」的工作表「单位」声明了 16,384 列，超过 200 列的上限，未导入；"
        "请删除多余的行、列或工作表，或拆分成几个文件后再导入"
    ]
    assert rows_read == []
    assert footprint(registry) == before


@dataclass(frozen=True)
class Oversized:
    name: str
    files: dict[str, bytes]
    limits: SheetLimits  # smaller than the defaults, so that the files stay small
    says: str


UNITS_BOOK = [
    ["单位代码", "单位名称", "上级单位代码", "类型"],
    ["u1", "某单位", "lincang", "city_dept"],
]


def _units_rows(count: int) -> list[list[str]]:
    return [UNITS_BOOK[0]] + [[f"u{n}", f"单位{n}", "lincang", "city_dept"] for n in range(count)]


OVERSIZED = [
    Oversized(
        "zip bomb: 20 MB of spaces in a 20 KB member",
        {"units.xlsx": with_member(xlsx({"单位": UNITS_BOOK}), "xl/padding.xml", 20 << 20)},
        SheetLimits(max_unzipped=10 << 20),
        "解压后共 20 MB，超过 10 MB 的上限（可能是压缩炸弹）",
    ),
    Oversized(
        "four sheets",
        {"units.xlsx": xlsx({f"单位{n}": UNITS_BOOK for n in range(4)})},
        SheetLimits(max_sheets=3),
        "的工作表超过 3 个的上限",
    ),
    Oversized(
        "declared rows",
        {"units.xlsx": xlsx({"单位": _units_rows(1000)})},
        SheetLimits(max_rows=1000),
        "工作表「单位」声明了 1,001 行，超过 1,000 行的上限",
    ),
    Oversized(
        "declared cells over two sheets",
        {"units.xlsx": xlsx({"单位": _units_rows(299), "单位2": _units_rows(299)})},
        SheetLimits(max_cells=2000),
        "工作表「单位2」声明的范围到 300 行 × 4 列，使文件的单元格超过 2,000 个的上限",
    ),
    Oversized(
        "rows beyond a dimension that says A1:D2",
        {
            "units.xlsx": with_sheet_xml(
                xlsx({"单位": UNITS_BOOK}),
                "".join(inline_row(n, row) for n, row in enumerate(_units_rows(20), 1)),
                dimension="A1:D2",
            )
        },
        SheetLimits(max_rows=10),
        "工作表「单位」超过 10 行的上限",
    ),
    Oversized(
        "CSV rows",
        {"units.csv": "\n".join(",".join(r) for r in _units_rows(150)).encode()},
        SheetLimits(max_rows=100),
        "文件「units.csv」超过 100 行的上限",
    ),
    Oversized(
        "CSV cells",
        {"units.csv": "\n".join(",".join(r) for r in _units_rows(100)).encode()},
        SheetLimits(max_cells=200),
        "单元格已超过 200 个的上限",
    ),
]


def test_every_oversized_file_is_refused_naming_the_file_and_the_limit(
    registry, tmp_path, monkeypatch
):
    before, wrong = footprint(registry), []
    for n, bad in enumerate(OVERSIZED):
        monkeypatch.setattr(sheet_limits, "LIMITS", bad.limits)
        folder = tmp_path / str(n)
        folder.mkdir()
        try:
            with runaway_guard(RUNAWAY_SECONDS, bad.name):
                _run(registry, "registry", _write(folder, bad.files))
        except ValidationFailed as refused:
            message = "\n".join(refused.errors)
            if bad.says not in message or not any(f"「{name}」" in message for name in bad.files):
                wrong.append(f"{bad.name}: {message}")
        else:
            wrong.append(f"{bad.name}: accepted")
        if footprint(registry) != before:
            wrong.append(f"{bad.name}: wrote something")
            before = footprint(registry)

    assert wrong == [], f"{len(wrong)} of {len(OVERSIZED)} oversized files mishandled"


#: (what, the argument given to ``rectify import``, made in a folder, what the refusal says).
ODD_PATHS = [
    ("parent folder", lambda d: "..", "「..」是文件夹，不是文件"),
    ("current folder", lambda d: ".", "「.」是文件夹，不是文件"),
    ("empty argument", lambda d: "", "「.」是文件夹，不是文件"),
    (
        "folder named like a CSV",
        lambda d: _made(d / "单位.csv", Path.mkdir),
        "「单位.csv」是文件夹",
    ),
    ("missing file", lambda d: str(d / "无此文件.csv"), "「无此文件.csv」不存在"),
    ("named pipe", lambda d: _made(d / "管道.csv", os.mkfifo), "「管道.csv」不是普通文件"),
    (
        "link to nowhere",
        lambda d: _made(d / "断链.csv", lambda p: p.symlink_to(d / "nowhere")),
        "「断链.csv」不存在",
    ),
    (
        "unreadable file",  # reading /proc/self/mem at 0 fails for root too (chmod would not)
        lambda d: _made(d / "不可读.csv", lambda p: p.symlink_to("/proc/self/mem")),
        "「不可读.csv」无法读取",
    ),
]


def _made(path: Path, make) -> str:
    make(path)
    return str(path)


def test_every_odd_path_given_to_the_import_command_is_refused_with_exit_code_2(
    registry, tmp_path, settings
):
    env = {"RECTIFY_DATABASE_URL": settings.database_url, "RECTIFY_DATA_DIR": str(tmp_path)}
    before, wrong = footprint(registry), []
    for n, (what, make, says) in enumerate(ODD_PATHS):
        folder = tmp_path / str(n)
        folder.mkdir()
        argument = make(folder)
        for command in ("registry", "findings"):
            with runaway_guard(RUNAWAY_SECONDS, what):  # a pipe must not be opened and waited on
                result = CliRunner().invoke(cli_app, ["import", command, argument], env=env)
            if result.exit_code != 2 or says not in result.stderr:
                wrong.append(f"{what} ({command}): {result.exit_code} {result.output!r}")
        if footprint(registry) != before:
            wrong.append(f"{what}: wrote something")
            before = footprint(registry)

    assert wrong == [], f"{len(wrong)} of {2 * len(ODD_PATHS)} runs on odd paths mishandled"


#: (file name as the browser sends it, what the refusal says).
ODD_UPLOAD_NAMES = [
    ("..", "「..」不是文件名"),
    (".", "「.」不是文件名"),
    ("folder/..", "「folder/..」不是文件名"),
    ("a\nb.csv", "文件名「a_b.csv」第 2 个字符是不可见的控制字符（U+000A）"),
    ("a\tb.csv", "控制字符（U+0009）"),
    ("单" * 100 + ".csv", "过长（不超过 80 个汉字"),
]


async def test_every_odd_file_name_uploaded_for_import_is_refused_and_writes_nothing(
    app, web_client
):
    created = a_user(app, "li", role="admin")
    assert (await login(web_client, "li", created.password)).status_code == 303
    csrf = csrf_of(await web_client.get("/registry/import"))
    units = (UNIT_HEAD + "a,某单位,lincang,city_dept\n").encode()
    before, wrong = footprint(app), []
    for name, says in ODD_UPLOAD_NAMES:
        body, content_type = multipart({"csrf_token": csrf}, [("files", name, units)])
        response = await web_client.post(
            "/registry/import", content=body, headers={"Content-Type": content_type}
        )
        if response.status_code != 400 or says not in response.text:
            wrong.append(f"{name!r}: {response.status_code}")
        if footprint(app) != before:
            wrong.append(f"{name!r}: wrote something")
            before = footprint(app)

    assert wrong == [], f"{len(wrong)} of {len(ODD_UPLOAD_NAMES)} odd names mishandled"


@pytest.fixture
async def web_client(app):
    transport = httpx.ASGITransport(app=create_app(app), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client
