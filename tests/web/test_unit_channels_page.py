"""A unit's group robots on its registry page: added, tried, switched off and removed by
those who edit the unit, against a loopback receiver that checks each service's payload."""

from __future__ import annotations

import re

import pytest

from services.registry import channels
from tests.support.robot_receiver import (
    DINGTALK_SECRET,
    DINGTALK_TOKEN,
    FEISHU_SECRET,
    WECOM_KEY,
    RobotReceiver,
)
from tests.web.conftest import a_user, client_for, csrf_of, login

TEST_FORM = re.compile(r'action="/registry/units/gengma/channels/(\d+)/test"')


@pytest.fixture
def robots():
    receiver = RobotReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
async def admin(app, web_app):
    created = a_user(app, "li", role="admin")
    async with client_for(web_app) as client:
        assert (await login(client, "li", created.password)).status_code == 303
        yield client


async def _add(client, **form) -> tuple:
    page = await client.get("/registry/units?code=gengma")
    answer = await client.post(
        "/registry/units/gengma/channels", data={"csrf_token": csrf_of(page), **form}
    )
    return answer, await client.get("/registry/units?code=gengma")


def _ids(page) -> list[int]:
    return [int(i) for i in TEST_FORM.findall(page.text)]


async def test_an_admin_adds_a_dingtalk_robot_and_its_test_message_arrives_signed(
    app, admin, two_units, robots
):
    answer, page = await _add(
        admin,
        kind="dingtalk",
        webhook_url=robots.urls()["dingtalk"],
        secret=DINGTALK_SECRET,
        name="整改工作群",
    )

    assert answer.status_code == 303 and answer.headers["location"].endswith("#channels")
    assert "已添加钉钉群机器人「整改工作群」，已设置加签密钥" in page.text
    assert "群机器人：耿马县人民政府" in page.text and "钉钉群机器人" in page.text
    # Credentials stay hidden: neither the secret nor the whole token is in the page.
    assert DINGTALK_SECRET not in page.text and DINGTALK_SECRET[:8] not in page.text
    assert DINGTALK_TOKEN not in page.text and "已隐藏" in page.text
    [channel_id] = _ids(page)

    tried = await admin.post(
        f"/registry/units/gengma/channels/{channel_id}/test", data={"csrf_token": csrf_of(page)}
    )
    after = await admin.get(tried.headers["location"])

    assert tried.status_code == 303
    assert "测试消息已发送，请在群里查看是否收到" in after.text
    assert robots.refused == []  # the receiver checked the signature against the secret
    [delivered] = robots.of("dingtalk")
    assert delivered.title == "【测试】整改通知机器人渠道"
    assert "耿马县人民政府的整改通知" in delivered.text
    assert DINGTALK_SECRET not in after.text


async def test_a_test_message_the_robot_refuses_is_said_on_the_page(app, admin, two_units, robots):
    _, page = await _add(
        admin, kind="feishu", webhook_url=robots.urls()["feishu"], secret="wrong-secret-000"
    )
    [channel_id] = _ids(page)

    tried = await admin.post(
        f"/registry/units/gengma/channels/{channel_id}/test", data={"csrf_token": csrf_of(page)}
    )
    after = await admin.get(tried.headers["location"])

    assert "测试消息未送达：飞书群机器人拒绝了消息（错误码 19021）" in after.text
    assert robots.received == [] and "wrong-secret-000" not in after.text
    assert FEISHU_SECRET not in after.text


async def test_a_wrong_url_is_refused_in_chinese_and_nothing_is_added(app, admin, two_units):
    answer, page = await _add(
        admin,
        kind="wecom",
        webhook_url="http://qyapi.weixin.qq.com/cgi-bin/webhook/send",
        secret="x",
    )

    assert answer.status_code == 400
    assert "企业微信群机器人的 Webhook 地址应以 https:// 开头" in answer.text
    assert "企业微信群机器人的 Webhook 地址缺少机器人的密钥部分" in answer.text
    assert "企业微信群机器人没有加签密钥，请不要填写密钥" in answer.text
    assert "该单位还没有群机器人" in page.text
    with app.uow() as uow:
        assert channels.list_channels(uow) == []


async def test_a_robot_is_disabled_enabled_and_removed_from_the_page(app, admin, two_units, robots):
    _, page = await _add(admin, kind="wecom", webhook_url=robots.urls()["wecom"])
    [channel_id] = _ids(page)
    base = f"/registry/units/gengma/channels/{channel_id}"
    csrf = csrf_of(page)

    off = await admin.get(
        (await admin.post(f"{base}/enabled", data={"csrf_token": csrf, "enabled": "0"})).headers[
            "location"
        ]
    )
    with app.uow() as uow:
        [stopped] = channels.list_channels(uow, unit_code="gengma")
    on = await admin.post(f"{base}/enabled", data={"csrf_token": csrf, "enabled": "1"})
    with app.uow() as uow:
        [started] = channels.list_channels(uow, unit_code="gengma")
    gone = await admin.get(
        (await admin.post(f"{base}/remove", data={"csrf_token": csrf})).headers["location"]
    )

    assert "企业微信群机器人「企业微信群机器人」已停用" in off.text and "已停用</td>" in off.text
    assert not stopped.enabled and on.status_code == 303 and started.enabled
    assert "已删除企业微信群机器人「企业微信群机器人」" in gone.text
    assert _ids(gone) == [] and "该单位还没有群机器人" in gone.text
    assert WECOM_KEY not in off.text


async def test_only_those_who_edit_the_unit_see_or_change_its_robots(
    app, admin, supervisor, two_units, robots
):
    _, page = await _add(admin, kind="wecom", webhook_url=robots.urls()["wecom"])
    [channel_id] = _ids(page)
    theirs = await supervisor.get("/registry/units?code=gengma")

    add = await supervisor.post(
        "/registry/units/gengma/channels",
        data={
            "csrf_token": csrf_of(theirs),
            "kind": "wecom",
            "webhook_url": robots.urls()["wecom"],
        },
    )
    remove = await supervisor.post(
        f"/registry/units/gengma/channels/{channel_id}/remove",
        data={"csrf_token": csrf_of(theirs)},
    )
    elsewhere = await admin.post(  # a channel of gengma, under another unit's address
        f"/registry/units/cangyuan/channels/{channel_id}/remove",
        data={"csrf_token": csrf_of(page)},
    )
    no_csrf = await admin.post(f"/registry/units/gengma/channels/{channel_id}/remove")

    assert "群机器人：" not in theirs.text
    assert add.status_code == 403 and "只有管理员可以执行此操作" in add.text
    assert remove.status_code == 403 and elsewhere.status_code == 404
    assert no_csrf.status_code == 403
    with app.uow() as uow:
        assert len(channels.list_channels(uow, unit_code="gengma")) == 1
