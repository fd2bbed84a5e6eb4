"""A loopback HTTP server that answers as the WeCom, DingTalk and Feishu robot webhooks do.

It checks what each service documents — the robot's key or token, the JSON shape, the
signature of a robot with 加签 (recomputed here from the secret, independently of the code
under test), a timestamp within an hour — and answers with the service's own success or
error codes. ``answer_next`` scripts the next answers (a rate limit, a 500).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

WECOM_KEY = "wecom-key-693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "dingtalk-token-1234567890abcdef"
DINGTALK_SECRET = "SECd1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3"
FEISHU_TOKEN = "feishu-hook-2f3a4b5c-6d7e-8f90-a1b2-c3d4e5f6a7b8"
FEISHU_SECRET = "feishuSecretQ2x5Yz7Wv9"


@dataclass(frozen=True)
class Delivered:
    kind: str  # wecom | dingtalk | feishu
    body: dict[str, Any]
    query: dict[str, str]

    @property
    def title(self) -> str:
        if self.kind == "wecom":
            return self.body["markdown"]["content"].splitlines()[0].removeprefix("### ")
        if self.kind == "dingtalk":
            return self.body["markdown"]["title"]
        return self.body["content"]["post"]["zh_cn"]["title"]

    @property
    def text(self) -> str:
        if self.kind == "wecom":
            return self.body["markdown"]["content"]
        if self.kind == "dingtalk":
            return self.body["markdown"]["text"]
        post = self.body["content"]["post"]["zh_cn"]["content"]
        return "\n".join("".join(e["text"] for e in paragraph) for paragraph in post)


@dataclass
class RobotReceiver:
    received: list[Delivered] = field(default_factory=list)
    refused: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    scripted: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def start(self) -> RobotReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                size = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                status, answer = receiver.answer(self.path, body, self.headers)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def urls(self) -> dict[str, str]:
        """Each robot's webhook URL as its service shows it, on this server."""
        return {
            "wecom": f"{self.base}/cgi-bin/webhook/send?key={WECOM_KEY}",
            "dingtalk": f"{self.base}/robot/send?access_token={DINGTALK_TOKEN}",
            "feishu": f"{self.base}/open-apis/bot/v2/hook/{FEISHU_TOKEN}",
        }

    def answer_next(self, status: int, answer: dict[str, Any]) -> None:
        self.scripted.append((status, answer))

    def of(self, kind: str) -> list[Delivered]:
        return [d for d in self.received if d.kind == kind]

    def answer(self, path: str, body: dict[str, Any], headers: Any) -> tuple[int, dict]:
        if self.scripted:
            return self.scripted.pop(0)
        url = urlsplit(path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if "json" not in (headers.get("Content-Type") or ""):
            return 400, {"errcode": 40000, "errmsg": "content type not json"}
        if url.path == "/cgi-bin/webhook/send":
            return self._wecom(body, query)
        if url.path == "/robot/send":
            return self._dingtalk(body, query)
        if url.path.startswith("/open-apis/bot/v2/hook/"):
            return self._feishu(body, url.path.rsplit("/", 1)[-1])
        return 404, {}

    def _took(self, kind: str, body: dict, query: dict, ok: dict) -> tuple[int, dict]:
        self.received.append(Delivered(kind, body, query))
        return 200, ok

    def _refuse(self, kind: str, body: dict, answer: dict) -> tuple[int, dict]:
        self.refused.append((kind, body))
        return 200, answer

    def _wecom(self, body: dict, query: dict) -> tuple[int, dict]:
        if query.get("key") != WECOM_KEY:
            return self._refuse("wecom", body, {"errcode": 93000, "errmsg": "invalid webhook url"})
        content = (body.get("markdown") or {}).get("content") or ""
        if body.get("msgtype") != "markdown" or not content or len(content.encode()) > 4096:
            return self._refuse("wecom", body, {"errcode": 40058, "errmsg": "invalid content"})
        return self._took("wecom", body, query, {"errcode": 0, "errmsg": "ok"})

    def _dingtalk(self, body: dict, query: dict) -> tuple[int, dict]:
        if query.get("access_token") != DINGTALK_TOKEN:
            return self._refuse(
                "dingtalk", body, {"errcode": 300001, "errmsg": "token is not exist"}
            )
        stamp, sign = query.get("timestamp", ""), query.get("sign", "")
        expected = hmac.new(
            DINGTALK_SECRET.encode(), f"{stamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
        ).digest()
        fresh = stamp.isdigit() and abs(time.time() * 1000 - int(stamp)) < 3600_000
        if not fresh or sign != base64.b64encode(expected).decode():
            return self._refuse("dingtalk", body, {"errcode": 310000, "errmsg": "sign not match"})
        markdown = body.get("markdown") or {}
        if (
            body.get("msgtype") != "markdown"
            or not markdown.get("title")
            or not markdown.get("text")
        ):
            return self._refuse("dingtalk", body, {"errcode": 40035, "errmsg": "缺少参数 markdown"})
        return self._took("dingtalk", body, query, {"errcode": 0, "errmsg": "ok"})

    def _feishu(self, body: dict, token: str) -> tuple[int, dict]:
        if token != FEISHU_TOKEN:
            return self._refuse("feishu", body, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})  # fmt: skip
        stamp = str(body.get("timestamp", ""))
        key = f"{stamp}\n{FEISHU_SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 3600
        if not fresh or body.get("sign") != expected:
            return self._refuse("feishu", body, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})  # fmt: skip
        post = (body.get("content") or {}).get("post", {}).get("zh_cn", {})
        if body.get("msg_type") != "post" or not post.get("title") or not post.get("content"):
            return self._refuse("feishu", body, {"code": 9499, "msg": "Bad Request"})
        return self._took("feishu", body, {}, {"code": 0, "msg": "success", "data": {}})
