"""Build an ``EmailMessage`` from a rendered template: UTF-8 headers, a Message-ID from its key."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from notifications.render import Rendered

_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SEPARATORS = re.compile(r"[\s,;，；、]+")


@dataclass(frozen=True)
class Mailbox:
    address: str
    name: str = ""

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2] or "localhost"


def is_valid_address(value: str | None) -> bool:
    """A plain ``local@domain.tld`` address (what a unit's contact field must hold)."""
    return bool(value) and _ADDRESS.match(value.strip()) is not None


def split_addresses(value: str | None) -> tuple[list[str], list[str]]:
    """A contact field (one or more addresses) → (valid addresses, rejected pieces)."""
    valid, invalid = [], []
    for piece in _SEPARATORS.split(value or ""):
        if piece:
            (valid if is_valid_address(piece) else invalid).append(piece)
    return list(dict.fromkeys(valid)), invalid


def message_id(key: str, domain: str) -> str:
    """The same idempotency key always gives the same Message-ID: a resend is recognisable."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"<rectify.{digest}@{domain}>"


def build_message(
    rendered: Rendered,
    *,
    key: str,
    sender: Mailbox,
    to: list[str],
    cc: list[str] | None = None,
    date: datetime,
) -> EmailMessage:
    """A multipart/alternative message (plain text first, then HTML), ready for SMTP."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = Address(display_name=sender.name, addr_spec=sender.address)
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id(key, sender.domain)
    msg["X-Rectify-Key"] = key
    msg.set_content(rendered.text, charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    return msg
