"""The access-control world: two counties, one user of each kind, resources per actor.

Every actor gets cases and an attachment of its own in county A (耿马), so one actor's
successful action never changes what the next actor is answered. The county supervisor is
scoped to county B (沧源): everything it is tried on belongs to another county, the round
2021Q2 too (county A's office runs it).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date

import httpx
from sqlalchemy import select

from services.access import api_tokens, unit_links, users
from services.bootstrap import App
from services.cases import submissions
from services.cases.submissions import IncomingFile
from services.db.models import Attachment, Submission
from services.rounds import issuers
from tests.builders import a_case, a_round, a_target, a_unit

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ACTORS = ("anon", "link", "other_link", "viewer", "county", "supervisor", "admin")
#: (username, role, scope unit) of the actors that sign in.
ACCOUNTS = {
    "viewer": ("wang", "viewer", None),
    "county": ("zhao", "supervisor", "cangyuan"),
    "supervisor": ("zhang", "supervisor", None),
    "admin": ("li", "admin", None),
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Owned:
    """What one actor is tried on: a case for pages, a case for the API, an attachment, a
    target and a portal link of county A (by id, for the unit page's revoke button)."""

    case: int
    api_case: int
    attachment: int
    target: str
    link: int = 0


@dataclass
class World:
    link_a: str
    link_b: str
    owned: dict[str, Owned] = field(default_factory=dict)
    passwords: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)


def build(app: App) -> World:
    with app.uow() as uow:
        a_unit(uow, "lincang", name="临沧市人民政府", kind="city_gov")
        a = a_unit(uow, "gengma", parent_code="lincang", name="耿马县人民政府", kind="county_gov")
        b = a_unit(uow, "cangyuan", parent_code="lincang", name="沧源县人民政府", kind="county_gov")
        county_a = issuers.upsert_issuer(
            uow, issuers.IssuerSpec("gengma", "耿马县人民政府办公室", "县政府办公室", "county")
        )
        a_round(uow, "2021Q2", deadline=date(2021, 7, 29)).issuer = county_a
        # Found: what 发布并通知 notifies (a round whose every case was notified counts as
        # published already, and is refused a publication).
        a_case(uow, target_code=a_target(uow, unit_code="gengma").code)
        world = World(
            unit_links.issue_link(uow, unit_id=a.id).token,
            unit_links.issue_link(uow, unit_id=b.id).token,
        )
        for actor in ACTORS:
            page_case, api_case, with_file = (_county_a_case(uow) for _ in range(3))
            target = a_target(uow, unit_code="gengma").code
            link = unit_links.issue_link(uow, unit_id=a.id).link_id
            world.owned[actor] = Owned(page_case, api_case, with_file, target, link)
        for actor, (username, role, scope) in ACCOUNTS.items():
            created = users.create_user(uow, username=username, role=role, unit_code=scope)
            world.passwords[actor] = created.password
            world.tokens[actor] = api_tokens.issue_token(uow, username=username, name="test").token
        uow.commit()
    for owned in world.owned.values():
        with app.uow() as uow:
            receipt = submissions.submit_rectification(
                uow,
                unit_id=a.id,
                case_id=owned.attachment,
                text="已整改",
                responsible_person="李明",
                phone="0883-1234567",
                files=[IncomingFile("整改报告.pdf", io.BytesIO(PDF))],
            )
        with app.uow() as uow:
            owned.attachment = uow.session.scalar(
                select(Attachment.id).join(Submission).where(Submission.id == receipt.submission_id)
            )
    return world


def _county_a_case(uow) -> int:
    return a_case(uow, state="notified", target_code=a_target(uow, unit_code="gengma").code).id


async def sign_in(client: httpx.AsyncClient, username: str | None, password: str | None) -> str:
    """The session's CSRF token; signs in when a username is given (signing in gives the
    session a new token: the one of the login form no longer works)."""
    page = await client.get("/login")
    csrf = CSRF.search(page.text).group(1)
    if username:
        answer = await client.post(
            "/login", data={"username": username, "password": password, "csrf_token": csrf}
        )
        assert answer.status_code == 303, answer.text
        csrf = CSRF.search((await client.get("/")).text).group(1)
    return csrf
