"""The aiosmtplib sender: one connection per transport, failures classified for retry."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectError,
    SMTPHeloError,
    SMTPNotSupported,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponse,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from notifications.delivery import PermanentFailure, TemporaryFailure, Unreachable
from notifications.message import Mail


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    sender: str  # envelope sender (MAIL FROM)
    username: str = ""
    password: str = ""
    starttls: bool = False
    tls: bool = False  # implicit TLS (port 465)
    timeout: float = 30.0
    validate_certs: bool = True


class SmtpSender:
    """Opens SMTP connections for ``notifications.delivery.deliver``."""

    def __init__(self, config: SmtpConfig):
        self.config = config

    def open(self) -> SmtpTransport:
        return SmtpTransport(self.config)


class SmtpTransport:
    """One lazily opened, reused SMTP connection; reopened after it is lost."""

    def __init__(self, config: SmtpConfig):
        self.config = config
        self._client: aiosmtplib.SMTP | None = None

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and self._client.is_connected:
            return self._client
        config = self.config
        client = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username or None,
            password=config.password or None,
            use_tls=config.tls,
            start_tls=config.starttls if not config.tls else False,
            timeout=config.timeout,
            validate_certs=config.validate_certs,
        )
        try:
            await client.connect()
        except SMTPAuthenticationError as exc:
            raise Unreachable(
                f"SMTP 登录失败（{exc.code} {exc.message}），请检查用户名和密码"
            ) from exc
        except (SMTPConnectError, SMTPTimeoutError, SMTPResponseException, OSError) as exc:
            raise Unreachable(
                f"无法连接邮件服务器 {config.host}:{config.port}：{_describe(exc)}"
            ) from exc
        self._client = client
        return client

    async def send(self, mail: Mail) -> str:
        client = await self._connected()
        try:
            # One deadline for the whole transaction rather than a timer per SMTP command
            # (``wait_for`` per command is a measurable share of the CPU per message).
            async with asyncio.timeout(self.config.timeout):
                refused = await self._transaction(client, mail)
        except SMTPRecipientsRefused as exc:
            answers = "；".join(f"{r.recipient}：{r.code} {r.message}" for r in exc.recipients)
            if all(400 <= r.code < 500 for r in exc.recipients):
                raise TemporaryFailure(f"收件人暂时无法接收：{answers}") from exc
            raise PermanentFailure(f"邮件服务器拒收：{answers}") from exc
        except (SMTPAuthenticationError, SMTPHeloError) as exc:
            await self._drop()
            raise TemporaryFailure(f"邮件服务器拒绝会话：{exc.code} {exc.message}") from exc
        except SMTPResponseException as exc:
            if exc.code >= 500:
                raise PermanentFailure(f"邮件服务器拒收：{exc.code} {exc.message}") from exc
            if exc.code == 421:
                await self._drop()
            raise TemporaryFailure(f"邮件服务器暂时拒收：{exc.code} {exc.message}") from exc
        except (TimeoutError, SMTPTimeoutError) as exc:
            await self._drop()  # the transaction's state is unknown: start afresh next time
            raise TemporaryFailure(
                f"邮件服务器在 {self.config.timeout:g} 秒内未完成投递（超时），稍后重试"
            ) from exc
        except (SMTPServerDisconnected, OSError) as exc:
            await self._drop()
            raise TemporaryFailure(f"与邮件服务器的连接中断：{_describe(exc)}") from exc
        except (ValueError, SMTPNotSupported) as exc:
            raise PermanentFailure(f"收件地址无法投递：{exc}") from exc
        if refused:
            answers = "；".join(f"{addr}：{r.code} {r.message}" for addr, r in refused.items())
            return f"部分收件人被拒收：{answers}"
        return ""

    async def _transaction(self, client: aiosmtplib.SMTP, mail: Mail) -> dict[str, SMTPResponse]:
        """MAIL, RCPT for each recipient, DATA: what ``client.sendmail`` does, less its waste.

        ``sendmail`` parses every address twice and runs its line-ending regex over the whole
        message twice (once only to announce its size); ``encode_mail`` has already checked
        the addresses and written CRLF lines, so the SIZE is the length of the bytes, and
        ``mail``/``rcpt``/``data`` still check each address and normalise the data once.
        As in ``sendmail``: refused recipients are returned unless all are refused, and the
        envelope is reset (RSET) after a refusal so the connection can carry the next message.
        """
        size = [f"SIZE={len(mail.data)}"] if client.supports_extension("size") else []
        try:
            await client.mail(self.config.sender, options=size, timeout=None)
            refused: list[SMTPRecipientRefused] = []
            for recipient in mail.recipients:
                try:
                    await client.rcpt(recipient, timeout=None)
                except SMTPRecipientRefused as exc:
                    refused.append(exc)
            if len(refused) == len(mail.recipients):
                raise SMTPRecipientsRefused(refused)
            await client.data(mail.data, timeout=None)
        except (SMTPResponseException, SMTPRecipientsRefused):
            try:
                await client.rset(timeout=None)
            except (ConnectionError, SMTPResponseException):
                pass  # the connection is gone or confused: the original error says more
            raise
        return {r.recipient: SMTPResponse(r.code, r.message) for r in refused}

    async def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is None or not client.is_connected:
            return
        try:
            await client.quit()
        except (SMTPResponseException, SMTPServerDisconnected, SMTPTimeoutError, OSError):
            client.close()  # the server went first; the connection is gone either way


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
