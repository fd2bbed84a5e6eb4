"""Group robots of 企业微信, 钉钉 and 飞书: the payloads and signatures each service documents,
and an async sender ``notifications.delivery.deliver`` drives like the SMTP one.

The office pastes the robot's webhook URL (it carries the robot's key or token) and, for
DingTalk and Feishu robots with 加签, the secret. Posts go to that URL as pasted, so a test
points a robot at a loopback server by its URL alone.

* WeCom: ``{"msgtype": "markdown", "markdown": {"content": ...}}``, content ≤ 4096 bytes.
* DingTalk: ``{"msgtype": "markdown", "markdown": {"title", "text"}}``; with a secret,
  ``&timestamp=<ms>&sign=<url-encoded base64 HMAC-SHA256(secret, "<ms>\\n<secret>")>``.
* Feishu: ``{"msg_type": "post", "content": {"post": {"zh_cn": {"title", "content"}}}}``;
  with a secret, ``"timestamp": "<s>"`` and ``"sign": base64 HMAC-SHA256(key="<s>\\n<secret>",
  msg="")`` in the body.

Answers: WeCom and DingTalk ``{"errcode": 0}``, Feishu ``{"code": 0}`` (older robots
``{"StatusCode": 0}``); a rate limit or a 5xx is worth a retry, any other refusal is not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import httpx

from notifications.delivery import PermanentFailure, TemporaryFailure

#: The robots a unit may have, by kind, as people call them.
KINDS = {"wecom": "企业微信群机器人", "dingtalk": "钉钉群机器人", "feishu": "飞书群机器人"}
#: What each service accepts at most (bytes of UTF-8) in the text of one message.
LIMITS = {"wecom": 4096, "dingtalk": 18000, "feishu": 18000}
#: Error codes that mean "too many messages, later": WeCom 45009, DingTalk 130101 and
#: 410100, Feishu 11232.
RATE_LIMITED = frozenset({45009, 130101, 410100, 11232})
CUT = "\n\n……（内容较长，完整内容请查收邮件）"


@dataclass(frozen=True)
class Robot:
    kind: str
    url: str
    secret: str | None = None


@dataclass(frozen=True)
class RobotPost:
    """One message to one robot: the email's subject as the title, its text as the body."""

    robot: Robot
    title: str
    text: str


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` (before URL encoding)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign``: the key is ``"<timestamp>\\n<secret>"``, the message empty."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def fit(text: str, limit: int) -> str:
    """``text`` cut at a line so that it fits in ``limit`` bytes, saying so."""
    if len(text.encode()) <= limit:
        return text
    room = limit - len(CUT.encode())
    kept = text.encode()[:room].decode(errors="ignore")
    head, newline, _ = kept.rpartition("\n")
    return (head if newline else kept).rstrip() + CUT


def request_for(post: RobotPost, *, now: float) -> tuple[str, dict[str, Any]]:
    """The URL and JSON body ``post`` is sent as, signed at ``now`` (seconds)."""
    robot, limit = post.robot, LIMITS[post.robot.kind]
    lines = [line.rstrip() for line in post.text.strip().splitlines()]
    if robot.kind == "wecom":
        content = fit(f"### {post.title}\n" + "\n".join(lines), limit)
        return robot.url, {"msgtype": "markdown", "markdown": {"content": content}}
    if robot.kind == "dingtalk":
        text = fit(f"### {post.title}\n\n" + "  \n".join(lines), limit)  # "  \n": a line break
        url = robot.url
        if robot.secret:
            ms = int(now * 1000)
            sign = quote_plus(dingtalk_sign(robot.secret, ms))
            url += f"{'&' if '?' in url else '?'}timestamp={ms}&sign={sign}"
        body = {"msgtype": "markdown", "markdown": {"title": post.title, "text": text}}
        return url, body
    if robot.kind == "feishu":
        kept = fit("\n".join(lines), limit).splitlines()
        paragraphs = [[{"tag": "text", "text": line}] for line in kept]
        body: dict[str, Any] = {
            "msg_type": "post",
            "content": {"post": {"zh_cn": {"title": post.title, "content": paragraphs}}},
        }
        if robot.secret:
            seconds = int(now)
            body = {"timestamp": str(seconds), "sign": feishu_sign(robot.secret, seconds)} | body
        return robot.url, body
    raise ValueError(f"不支持的机器人类型：{robot.kind}")


class RobotSender:
    """Opens transports sharing nothing: each keeps its own HTTP connection pool."""

    def __init__(self, *, timeout: float = 10.0, clock: Callable[[], float] = time.time):
        self.timeout = timeout
        self.clock = clock

    def open(self) -> RobotTransport:
        return RobotTransport(self)


class RobotTransport:
    """Posts to robots over one ``httpx.AsyncClient``, made on the first message."""

    def __init__(self, sender: RobotSender):
        self._sender = sender
        self._client: httpx.AsyncClient | None = None

    async def send(self, post: RobotPost) -> str:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._sender.timeout)
        label = KINDS.get(post.robot.kind, post.robot.kind)
        url, body = request_for(post, now=self._sender.clock())
        try:
            response = await self._client.post(url, json=body)
        except httpx.TimeoutException:  # the URL carries the robot's key: never in a message
            raise TemporaryFailure(f"{label}在 {self._sender.timeout:g} 秒内未应答") from None
        except httpx.HTTPError as exc:
            raise TemporaryFailure(f"无法连接{label}：{type(exc).__name__}") from None
        return _answer(label, response)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _answer(label: str, response: httpx.Response) -> str:
    """ "" when the robot took the message; raises with the service's own words otherwise."""
    status = response.status_code
    if status == 429 or status >= 500:
        raise TemporaryFailure(f"{label}暂时不可用（HTTP {status}）")
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if status >= 400 or not isinstance(answer, dict):
        raise PermanentFailure(f"{label}拒绝了消息（HTTP {status}）：{response.text[:200]}")
    code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
    if code in (0, None):
        return ""
    words = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
    if code in RATE_LIMITED:
        raise TemporaryFailure(f"{label}限流（错误码 {code}）：{words}")
    raise PermanentFailure(f"{label}拒绝了消息（错误码 {code}）：{words}")
