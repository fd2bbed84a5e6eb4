"""Fakes for unit tests: stand-ins for adapters, recording what they were asked to do."""

from __future__ import annotations

from email.message import EmailMessage

from notifications.delivery import PermanentFailure, TemporaryFailure, Unreachable


class FakeSender:
    """Records sent messages; refuses chosen addresses; can be 'down' or fail after N sends."""

    def __init__(self, *, refuse: dict[str, str] | None = None, down: bool = False):
        self.sent: list[EmailMessage] = []
        self.refuse = refuse or {}
        self.down = down
        self.fail_after: int | None = None  # raise a disconnect after this many messages
        self.opened = 0

    def open(self) -> FakeSender:
        self.opened += 1
        return self

    async def send(self, message: EmailMessage) -> str:
        if self.down:
            raise Unreachable("无法连接邮件服务器（测试替身已停机）")
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise TemporaryFailure("与邮件服务器的连接中断（测试替身）")
        for header in ("To", "Cc"):
            for address in (message.get(header) or "").split(","):
                if address.strip() in self.refuse:
                    raise PermanentFailure(f"邮件服务器拒收：{self.refuse[address.strip()]}")
        self.sent.append(message)
        return ""

    async def close(self) -> None:
        return None
