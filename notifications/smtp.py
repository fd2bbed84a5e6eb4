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
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
    SMTPStatus,
    SMTPTimeoutError,
)
from aiosmtplib.email import quote_address

from notifications.delivery import PermanentFailure, TemporaryFailure, Unreachable
from notifications.message import Mail, is_valid_address


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
        self._mail_from = b"FROM:" + quote_address(config.sender).encode("ascii")

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
            if client.is_ehlo_or_helo_needed:  # now, so that the first MAIL gives its SIZE
                try:
                    await client.ehlo()
                except SMTPHeloError:
                    await client.helo()
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
            answers = "；".join(f"{r.recipient}：{r.code} {r.message}" for r in refused)
            return f"部分收件人被拒收：{answers}"
        return ""

    async def _transaction(self, client: aiosmtplib.SMTP, mail: Mail) -> list[SMTPRecipientRefused]:
        """MAIL, RCPT for each recipient, DATA: what ``client.sendmail`` does, less its waste.

        ``sendmail`` (and ``mail``/``rcpt``) parse every address with ``email.utils`` at each
        command, and ``sendmail`` runs its line-ending regex over the whole message twice (once
        only to announce its size). Here the sender is checked once per connection
        (``quote_address``), each recipient by ``is_valid_address`` before anything is sent
        (no space, bracket or line break can reach a command line), and the SIZE is the
        length of the bytes ``encode_mail`` wrote with CRLF lines. As in ``sendmail``: refused
        recipients are returned unless all are refused, and the envelope is reset (RSET) after
        a refusal so the connection can carry the next message.
        """
        rcpt_to = [_rcpt_to(address) for address in mail.recipients]
        size = [b"SIZE=%d" % len(mail.data)] if client.supports_extension("size") else []
        try:
            answer = await client.execute_command(b"MAIL", self._mail_from, *size, timeout=None)
            if answer.code != SMTPStatus.completed:
                raise SMTPSenderRefused(answer.code, answer.message, self.config.sender)
            refused: list[SMTPRecipientRefused] = []
            for address, command in zip(mail.recipients, rcpt_to, strict=True):
                answer = await client.execute_command(b"RCPT", command, timeout=None)
                if answer.code not in (SMTPStatus.completed, SMTPStatus.will_forward):
                    refused.append(SMTPRecipientRefused(answer.code, answer.message, address))
            if len(refused) == len(mail.recipients):
                raise SMTPRecipientsRefused(refused)
            await client.data(mail.data, timeout=None)
        except (SMTPResponseException, SMTPRecipientsRefused):
            try:
                await client.rset(timeout=None)
            except (ConnectionError, SMTPResponseException):
                pass  # the connection is gone or confused: the original error says more
            raise
        return refused

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


def _rcpt_to(address: str) -> bytes:
    """``TO:<address>`` for an address ``encode_mail`` accepted (no spaces, brackets, CR/LF)."""
    if not is_valid_address(address):
        raise ValueError(f"收件地址格式不正确：{address}")
    return b"TO:<" + address.encode("ascii") + b">"


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
