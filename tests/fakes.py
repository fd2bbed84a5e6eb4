"""Fakes for unit tests: stand-ins for adapters, recording what they were asked to do."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage

from notifications.delivery import PermanentFailure, TemporaryFailure, Unreachable
from notifications.message import Mail


class FakeSender:
    """Records sent mail; refuses chosen addresses; can be 'down' or fail after N sends."""

    def __init__(self, *, refuse: dict[str, str] | None = None, down: bool = False):
        self.sent: list[Mail] = []
        self.refuse = refuse or {}
        self.down = down
        self.fail_after: int | None = None  # a lost connection after this many messages
        self.opened = 0

    def open(self) -> FakeSender:
        self.opened += 1
        return self

    async def send(self, mail: Mail) -> str:
        if self.down:
            raise Unreachable("无法连接邮件服务器（测试替身已停机）")
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise TemporaryFailure("与邮件服务器的连接中断（测试替身）")
        for address in mail.recipients:
            if address in self.refuse:
                raise PermanentFailure(f"邮件服务器拒收：{self.refuse[address]}")
        self.sent.append(mail)
        return ""

    async def close(self) -> None:
        return None

    @property
    def messages(self) -> list[EmailMessage]:
        return [email.message_from_bytes(m.data, policy=policy.default) for m in self.sent]
