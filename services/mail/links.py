"""Portal links for many emails in one INSERT, kept in the outbox by reference, never as URLs.

Each email carries a link of its own, as ``unit_links.issue_link`` would issue it (a row of
``unit_links`` holding the token's hash only, expiring after ``DEFAULT_TTL``). The token is
``unit_links.derived_token`` of a random nonce under the installation key
(``RECTIFY_SECRET_KEY``): the outbox row's context keeps ``portal_link`` (the link's id and
the nonce), no table and no backup the token or the URL. The dispatcher makes the URL when
it sends the message (``portal_url_into``), the same URL at every attempt, so a resend after
a crash carries the link of the first attempt; once the message is sent, the nonce leaves
the context (``services.mail.outbox.record``) and the id stays, naming the link it carried.

Changing ``RECTIFY_SECRET_KEY`` while mail is pending (or restoring an archive under another
key) makes those messages' links open nothing: issue new ones (``rectify link issue``).
Without a key (a development set-up) a pending row's token can be made from the database.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert

from services.access.unit_links import DEFAULT_TTL, derived_token, portal_url, token_hash
from services.core.uow import UnitOfWork
from services.db.access_models import UnitLink

LINKS = UnitLink.__table__
#: Where an email's context keeps its link: ``{"id": unit_links.id, "nonce": ...}``.
LINK_KEY = "portal_link"
#: Where the template reads the URL: made at send time, never stored (rows queued before
#: links were kept by reference hold it until they are sent).
URL_KEY = "portal_url"


def portal_contexts(
    uow: UnitOfWork, wanted: Sequence[tuple[int, int | None]]
) -> list[dict[str, Any]]:
    """A new link for each (unit id, round id), in order, as an email's context keys."""
    if not wanted:
        return []
    now = uow.clock.now()
    expires_at = now + DEFAULT_TTL
    nonces = [secrets.token_urlsafe(16) for _ in wanted]
    hashes = [token_hash(derived_token(uow.settings.secret_key, n)) for n in nonces]
    rows = [
        {
            "unit_id": unit_id,
            "round_id": round_id,
            "token_hash": digest,
            "created_at": now,
            "expires_at": expires_at,
        }
        for (unit_id, round_id), digest in zip(wanted, hashes, strict=True)
    ]
    # One statement for the lot (several VALUES rows), the ids read back by hash.
    returning = insert(LINKS).returning(LINKS.c.token_hash, LINKS.c.id)
    ids = dict(uow.session.execute(returning, rows).all())
    expires = expires_at.date().isoformat()
    return [
        {LINK_KEY: {"id": ids[digest], "nonce": nonce}, "link_expires": expires}
        for nonce, digest in zip(nonces, hashes, strict=True)
    ]


def portal_url_into(context: dict[str, Any], *, base_url: str, secret_key: str) -> bool:
    """Put the URL of the context's link into it (``URL_KEY``), made again from the nonce;
    whether the context carries a portal link at all."""
    link = context.get(LINK_KEY)
    if link is None:
        return URL_KEY in context
    if not link.get("nonce"):
        raise ValueError("门户链接已随先前的邮件发出，无法再次生成；请为该单位生成新链接")
    context[URL_KEY] = portal_url(base_url, derived_token(secret_key, link["nonce"]))
    return True
