"""The fault suite's scenario: one round of found cases in three units, built the same each time."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from services.bootstrap import App, build_app
from services.core.settings import Settings
from services.db.models import Case
from services.rounds import publication, rechecks, sweeps
from tests.builders import a_case, a_round, a_target, a_unit
from tests.support.flowkit import at, mark

CASES = 15
BATCH = 4
PUBLISH_DAY = date(2021, 7, 19)
SWEEP_DAY = date(2021, 7, 30)
RECHECK_DAY = date(2021, 10, 1)
ACTOR = "fault-suite"


def found_cases(app: App, *, count: int = CASES) -> None:
    """``count`` found cases of 2021Q2 (deadline 2021-07-29), spread over units u1..u3."""
    with app.uow() as uow:
        a_round(uow, "2021Q2", deadline=date(2021, 7, 29))
        for unit in ("u1", "u2", "u3"):
            a_unit(uow, unit, contact_email=f"{unit}@units.test")
        for i in range(count):
            a_case(uow, target_code=a_target(uow, f"t{i}", unit_code=f"u{i % 3 + 1}").code)
        uow.commit()


def published(app: App) -> None:
    """The round published on its notice day, with recheck marks and the next round ready."""
    with at(app, PUBLISH_DAY).uow() as uow:
        publication.publish_round(uow, round_code="2021Q2", actor=ACTOR, batch_size=100)
    with app.uow() as uow:
        for case in uow.session.scalars(select(Case).order_by(Case.id)):
            if case.id % 3:
                mark(uow, case, "fixed" if case.id % 3 == 1 else "present", day=date(2021, 9, 30))
        a_round(uow, "2021Q3")
        uow.commit()


def run_step(app: App, step: str, *, after_batch=None) -> object:
    """Run one of publish / sweep / recheck in batches of ``BATCH``; returns its summary."""
    if step == "publish":
        with at(app, PUBLISH_DAY).uow() as uow:
            return publication.publish_round(
                uow, round_code="2021Q2", actor=ACTOR, batch_size=BATCH
            )
    if step == "sweep":
        with at(app, SWEEP_DAY).uow() as uow:
            return sweeps.sweep(uow, actor=ACTOR, batch_size=BATCH)
    with at(app, RECHECK_DAY).uow() as uow:
        return rechecks.recheck(
            uow,
            round_code="2021Q3",
            provider=rechecks.latest_check_result,
            actor=ACTOR,
            batch_size=BATCH,
            after_batch=after_batch,
        )


def file_app(url: str) -> App:
    """An app on an existing database (for the killed child and its checks)."""
    return build_app(Settings(database_url=url, secret_key="test-secret"), as_of=PUBLISH_DAY)
