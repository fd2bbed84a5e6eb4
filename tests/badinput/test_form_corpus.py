"""Bad form input on the unit portal and the supervisor's case page, one table row per input.

``PORTAL_REFUSED`` and ``SUPERVISOR_REFUSED`` must each answer with a Chinese message and leave
every table and the attachment folder as they were; ``PORTAL_STORED`` are hostile-looking but
legitimate inputs that must be kept verbatim and shown escaped.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select

from services.db.models import Attachment, Case, Submission
from tests.badinput.corpus import footprint
from tests.builders import a_case, a_target
from tests.web.conftest import a_user, csrf_of, login
from web.app import create_app

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
MAX_MB = 1
TEN_MB = "整" * (10 * 1024 * 1024 // 3)
GOOD = {"text": "已删除错误表述", "responsible_person": "李明", "phone": "0883-1234567"}


@dataclass(frozen=True)
class Bad:
    name: str
    says: str
    fields: dict[str, str] = field(default_factory=dict)
    files: list[tuple[str, bytes]] = field(default_factory=list)


PORTAL_REFUSED = [
    Bad("no text", "请填写整改情况", {"text": ""}),
    Bad("blank text", "请填写整改情况", {"text": " \t\n "}),
    Bad("no responsible person", "请填写责任人", {"responsible_person": ""}),
    Bad("no phone", "请填写有效的联系电话", {"phone": ""}),
    Bad(
        "every field missing", "请填写整改情况", {"text": "", "responsible_person": "", "phone": ""}
    ),
    Bad("SQL in the phone", "请填写有效的联系电话", {"phone": "1'; DROP TABLE cases; --"}),
    Bad("10 MB of text", "内容过长", {"text": TEN_MB}),
    Bad("text over the length limit", "内容过长", {"text": "整" * 10_001}),
    Bad("overlong responsible person", "责任人", {"responsible_person": "李" * 101}),
    Bad("NUL in the text", "控制字符", {"text": "已整改\x00完毕"}),
    Bad("escape sequence in the text", "控制字符", {"text": "已整改\x1b[31m完毕"}),
    Bad("bell in the responsible person", "控制字符", {"responsible_person": "李\x07明"}),
    Bad("executable named .pdf", "内容与扩展名不符", files=[("整改报告.pdf", EXE)]),
    Bad("PNG named .pdf", "内容与扩展名不符", files=[("截图.pdf", PNG)]),
    Bad("HTML named .jpg", "内容与扩展名不符", files=[("照片.jpg", b"<html><script>x</script>")]),
    Bad("HTML upload", "类型不允许", files=[("page.html", b"<script>alert(1)</script>")]),
    Bad("executable upload", "类型不允许", files=[("setup.exe", EXE)]),
    Bad("right-to-left override hiding .exe", "控制字符", files=[("报告\u202efdp.exe", EXE)]),
    Bad("right-to-left override in a PDF name", "控制字符", files=[("报告\u202egnp.pdf", PDF)]),
    Bad(
        "traversal without an allowed type",
        "类型不允许",
        files=[("../../etc/passwd", b"root:x:0:0")],
    ),
    Bad("zero-byte file", "是空文件", files=[("空.pdf", b"")]),
    Bad(
        "oversize file",
        f"超过大小上限 {MAX_MB} MB",
        files=[("大.pdf", PDF + b"0" * (MAX_MB << 20))],
    ),
    Bad("one good file and one bad", "内容与扩展名不符", files=[("a.pdf", PDF), ("b.pdf", EXE)]),
    Bad("eleven files", "附件最多 10 个", files=[(f"{n}.pdf", PDF) for n in range(11)]),
]

PORTAL_STORED = [
    ("script tag in the text", {"text": "<script>alert('x')</script>已整改"}, []),
    ("SQL fragment in the text", {"text": "'); DROP TABLE cases; --"}, []),
    (
        "script tag in the responsible person",
        {"responsible_person": "<img src=x onerror=alert(1)>"},
        [],
    ),
    ("path traversal in a file name", {}, [("../../etc/passwd.pdf", PDF)]),
    ("Windows path in a file name", {}, [("..\\..\\Windows\\win.ini.pdf", PDF)]),
    ("script tag in a file name", {}, [("<script>x</script>.pdf", PDF)]),
]

SUPERVISOR_REFUSED = [
    Bad("no trigger", "请求参数无效", {"trigger": ""}),
    Bad("no version", "请求参数无效", {"version": ""}),
    Bad("version not a number", "请求参数无效", {"version": "1 OR 1=1"}),
    Bad("unknown trigger", "不支持的操作", {"trigger": "drop table cases"}),
    Bad("reject without a reason", "理由", {"trigger": "reject", "note": "  "}),
    Bad("stale version", "另一位人员已先处理", {"trigger": "start", "version": "0"}),
    Bad("NUL in a note", "控制字符", {"trigger": "escalate", "note": "督办\x00"}),
]

#: (where, form, expected fragment): an administrator's registry and round forms.
ADMIN_REFUSED = [
    ("/registry/units", {"code": "", "name": "甲", "kind": "city_dept"}, "请求参数无效"),
    ("/registry/units", {"code": "x1", "name": "甲", "kind": "nonsense"}, "类型「nonsense」无效"),
    ("/registry/units", {"code": "x2", "name": "甲\x00乙", "kind": "city_dept"}, "控制字符"),
    ("/registry/units", {"code": "x3", "name": "长" * 300, "kind": "city_dept"}, "过长"),
    ("/registry/units", {"code": "../../x", "name": "甲", "kind": "city_dept"}, "斜杠"),
    ("/registry/units", {"code": "x 4", "name": "甲", "kind": "city_dept"}, "空白"),
    (
        "/registry/units",
        {"code": "x5", "name": "耿马县人民政府", "kind": "city_dept"},
        "已被单位 gengma 使用",
    ),
    (
        "/registry/units",
        {"code": "x6", "name": "甲", "kind": "city_dept", "parent_code": "nowhere"},
        "上级单位 nowhere 不存在",
    ),
    (
        "/registry/targets",
        {"code": "t1", "unit_code": "nowhere", "kind": "website", "name": "网"},
        "主办单位 nowhere 不存在",
    ),
    (
        "/registry/targets",
        {
            "code": "t2",
            "unit_code": "gengma",
            "kind": "website",
            "name": "网",
            "url": "javascript:alert(1)",
        },
        "只能是 http:// 或 https://",
    ),
    (
        "/registry/targets",
        {"code": "t3/..", "unit_code": "gengma", "kind": "website", "name": "网"},
        "斜杠",
    ),
    (
        "/registry/targets",
        {"code": "t4", "unit_code": "gengma", "kind": "website", "name": "网\u202e站"},
        "控制字符",
    ),
    (
        "/rounds",
        {"code": "2021Q9", "period_start": "2021-13-01", "period_end": "2021-12-31"},
        "日期格式",
    ),
    (
        "/rounds",
        {"code": "", "period_start": "2021-10-01", "period_end": "2021-12-31"},
        "请求参数无效",
    ),
    (
        "/rounds",
        {"code": "2021Q4", "period_start": "2021-12-31", "period_end": "2021-10-01"},
        "结束日期早于开始日期",
    ),
    ("/rounds/nonexistent/publish", {}, "检查轮次 nonexistent 不存在"),
]


@pytest.fixture
def web_app(app):
    """The web app with a 1 MB upload limit (the oversize case stays small)."""
    small = dataclasses.replace(
        app, settings=app.settings.model_copy(update={"upload_max_mb": MAX_MB})
    )
    return create_app(small)


@pytest.fixture
async def client(web_app):
    transport = httpx.ASGITransport(app=web_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


async def _submit(client, token: str, case_id: int, fields: dict, files: list) -> httpx.Response:
    url = f"/portal/{token}/cases/{case_id}"
    form = await client.get(url)
    data = GOOD | fields | {"csrf_token": csrf_of(form)}
    return await client.post(url, data=data, files=[("attachments", f) for f in files])


BACK = re.compile(r'<a href="([^"]+)">返回</a>')


async def _refused_cleanly(client: httpx.AsyncClient, response: httpx.Response, says: str) -> bool:
    """A 4xx Chinese page saying ``says`` whose 返回 link leads to a page that exists."""
    back = BACK.search(response.text)
    return (
        400 <= response.status_code < 500
        and "text/html" in response.headers["content-type"]
        and says in response.text
        and back is not None
        and (await client.get(back.group(1))).status_code == 200
    )


async def test_every_bad_portal_submission_gets_a_chinese_message_and_writes_nothing(
    app, client, two_units
):
    before, wrong = footprint(app), []
    for bad in PORTAL_REFUSED:
        response = await _submit(client, two_units.token_a, two_units.case_a, bad.fields, bad.files)
        if not await _refused_cleanly(client, response, bad.says):
            wrong.append(f"{bad.name}: {response.status_code}")
        if footprint(app) != before:
            wrong.append(f"{bad.name}: wrote something")
            before = footprint(app)

    assert wrong == [], f"{len(wrong)} of {len(PORTAL_REFUSED)} bad submissions mishandled"


async def test_hostile_looking_text_and_file_names_are_stored_verbatim_and_shown_escaped(
    app, client, two_units
):
    folder = app.settings.data_dir / "attachments"
    for name, fields, files in PORTAL_STORED:
        with app.uow() as uow:
            case_id = a_case(
                uow, state="notified", target_code=a_target(uow, unit_code="gengma").code
            ).id
            uow.commit()
        response = await _submit(client, two_units.token_a, case_id, fields, files)
        assert response.status_code == 303, name

        with app.uow() as uow:
            submission = uow.session.scalars(
                select(Submission).where(Submission.case_id == case_id)
            ).one()
            kept = {key: getattr(submission, key) for key in fields}
            stored = [(a.filename, a.stored_name) for a in submission.attachments]
            assert uow.session.get(Case, case_id).state == "submitted", name
        assert kept == fields, name
        assert all((folder / s).is_file() for _, s in stored), name
        for (filename, _), (sent, _) in zip(stored, files, strict=True):
            assert "/" not in filename and "\\" not in filename and ".." not in filename, name
            assert sent.replace("\\", "/").endswith(filename), name
        page = await client.get(f"/portal/{two_units.token_a}/cases/{case_id}")
        for value in [*fields.values(), *(f for f, _ in stored)]:
            assert value not in page.text or "<" not in value, name
            assert str(escape(value)) in page.text, name
    with app.uow() as uow:
        names = {a.stored_name for a in uow.session.scalars(select(Attachment))}
    on_disk = {p.name for p in app.settings.data_dir.rglob("*") if p.is_file()}
    assert on_disk == names  # nothing written outside the attachment folder or left over


async def test_every_bad_supervisor_action_gets_a_chinese_message_and_writes_nothing(
    app, client, two_units
):
    created = a_user(app, "zhang")
    assert (await login(client, "zhang", created.password)).status_code == 303
    page = await client.get(f"/cases/{two_units.case_a}")
    with app.uow() as uow:
        version = uow.session.get(Case, two_units.case_a).version
    before, wrong = footprint(app), []
    for bad in SUPERVISOR_REFUSED:
        data = {
            "trigger": "start",
            "version": str(version),
            "note": "",
            "csrf_token": csrf_of(page),
        }
        response = await client.post(
            f"/cases/{two_units.case_a}/transition", data=data | bad.fields
        )
        if not await _refused_cleanly(client, response, bad.says):
            wrong.append(f"{bad.name}: {response.status_code}")
        if footprint(app) != before:
            wrong.append(f"{bad.name}: wrote something")
            before = footprint(app)

    assert wrong == [], f"{len(wrong)} of {len(SUPERVISOR_REFUSED)} bad actions mishandled"


async def test_every_bad_registry_or_round_form_gets_a_chinese_message_and_writes_nothing(
    app, client, two_units
):
    created = a_user(app, "li", role="admin")
    assert (await login(client, "li", created.password)).status_code == 303
    csrf = csrf_of(await client.get("/registry/units"))
    before, wrong = footprint(app), []
    for url, form, says in ADMIN_REFUSED:
        response = await client.post(url, data=form | {"csrf_token": csrf})
        if not await _refused_cleanly(client, response, says):
            wrong.append(f"{url} {form}: {response.status_code}")
        if footprint(app) != before:
            wrong.append(f"{url} {form}: wrote something")
            before = footprint(app)

    assert wrong == [], f"{len(wrong)} of {len(ADMIN_REFUSED)} bad forms mishandled"
