"""What each robot service receives: payload shapes, signatures, length limits; and how a
pasted webhook URL is checked and shown back."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import pytest

from notifications.robots import CUT, Robot, RobotPost, dingtalk_sign, feishu_sign, request_for
from services.registry.channels import masked_url, url_problems

NOW = 1_700_000_000.123
LINES = "永德县人民政府：\n\n1. 门户网站首页栏目长期未更新\n2. 信息公开专栏无法访问"


def post(kind: str, secret: str | None = None, text: str = LINES) -> RobotPost:
    url = {
        "wecom": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1",
        "dingtalk": "https://oapi.dingtalk.com/robot/send?access_token=t-1",
        "feishu": "https://open.feishu.cn/open-apis/bot/v2/hook/h-1",
    }[kind]
    return RobotPost(Robot(kind, url, secret), title="【整改通知】两个问题", text=text)


def test_wecom_gets_markdown_with_the_subject_as_heading_and_no_signature():
    url, body = request_for(post("wecom"), now=NOW)
    assert url.endswith("send?key=k-1")
    assert body == {
        "msgtype": "markdown",
        "markdown": {"content": "### 【整改通知】两个问题\n" + LINES},
    }


def test_dingtalk_signs_the_millisecond_timestamp_with_its_secret_in_the_query():
    url, body = request_for(post("dingtalk", "SECabc+/="), now=NOW)
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["access_token"] == "t-1"
    assert query["timestamp"] == "1700000000123"
    expected = hmac.new(b"SECabc+/=", b"1700000000123\nSECabc+/=", hashlib.sha256).digest()
    assert (
        query["sign"]
        == base64.b64encode(expected).decode()
        == dingtalk_sign("SECabc+/=", 1700000000123)
    )
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "【整改通知】两个问题"
    assert "1. 门户网站首页栏目长期未更新  \n2. 信息公开专栏无法访问" in body["markdown"]["text"]


def test_dingtalk_without_a_secret_posts_to_the_url_as_pasted():
    url, _ = request_for(post("dingtalk"), now=NOW)
    assert url == "https://oapi.dingtalk.com/robot/send?access_token=t-1"


def test_feishu_signs_in_the_body_with_the_timestamp_and_secret_as_the_key():
    _, body = request_for(post("feishu", "s3cret"), now=NOW)
    key = b"1700000000\ns3cret"
    assert body["timestamp"] == "1700000000"
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == feishu_sign("s3cret", 1700000000)
    assert body["msg_type"] == "post"
    zh = body["content"]["post"]["zh_cn"]
    assert zh["title"] == "【整改通知】两个问题"
    assert zh["content"][2] == [{"tag": "text", "text": "1. 门户网站首页栏目长期未更新"}]


def test_feishu_without_a_secret_sends_no_signature():
    _, body = request_for(post("feishu"), now=NOW)
    assert "sign" not in body and "timestamp" not in body


def test_a_long_notice_is_cut_at_a_line_within_the_services_limit_and_says_so():
    text = "\n".join(f"{i}. 某某县人民政府门户网站首页栏目长期未更新" for i in range(1, 400))
    _, body = request_for(post("wecom", text=text), now=NOW)
    content = body["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.endswith(CUT)
    assert content.removesuffix(CUT).splitlines()[-1].endswith("长期未更新")  # a whole line


@pytest.mark.parametrize(
    ("kind", "url", "secret", "problem"),
    [
        ("wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", None, "https://"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", None, "缺少机器人的密钥"),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "s", "没有加签密钥"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?token=t", None, "缺少机器人的密钥"),
        ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/", None, "缺少机器人的密钥"),
        ("feishu", "https://open.feishu.cn/open-apis/bot/v2/hook/h x", None, "空白"),
        ("slack", "https://hooks.slack.com/x", None, "渠道类型 slack 无效"),
    ],
)
def test_a_pasted_url_that_cannot_work_is_refused_saying_why(kind, url, secret, problem):
    assert any(problem in p for p in url_problems(kind, url, secret))


def test_a_loopback_http_url_is_accepted_for_a_local_receiver():
    assert url_problems("wecom", "http://127.0.0.1:8080/cgi-bin/webhook/send?key=k", None) == []


def test_a_webhook_url_is_shown_back_without_its_key():
    shown = masked_url("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4")
    assert shown == "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a…（共 18 位，已隐藏）"
    hook = masked_url("https://open.feishu.cn/open-apis/bot/v2/hook/2f3a4b5c-6d7e-8f90")
    assert "6d7e" not in hook and hook.startswith(
        "https://open.feishu.cn/open-apis/bot/v2/hook/2f3a"
    )
