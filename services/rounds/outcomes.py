"""Where a recheck's outcomes come from: the automated checks, a person's mark, or a drill."""

from __future__ import annotations

import asyncio

from services import checks
from services.checks.model import MANUAL
from services.core.errors import ValidationFailed
from services.core.uow import UnitOfWork
from services.rounds.rechecks import OutcomeProvider, all_fixed, latest_check_result

PROVIDERS = ("checks", "marks", "all-fixed")


class AutomatedChecks:
    """Run each case's automated check and store it; a category with none uses the latest mark."""

    def __init__(self, *, run_ref: str):
        self.run_ref = run_ref

    def __call__(self, uow: UnitOfWork, case_ids: list[int]) -> dict[int, str]:
        requests = [
            r for r in checks.requests_for_cases(uow, case_ids) if r.check and r.check != MANUAL
        ]
        outcomes = []
        if requests:
            outcomes = asyncio.run(
                checks.run_checks(requests, settings=uow.settings, clock=uow.clock)
            )
            checks.save_outcomes(uow, outcomes, run_ref=self.run_ref)
        checked = {o.case_id: o.outcome for o in outcomes}
        manual = [case_id for case_id in case_ids if case_id not in checked]
        return checked | latest_check_result(uow, manual)


def provider_named(name: str, *, run_ref: str) -> OutcomeProvider:
    """The provider a flow parameter or command option names."""
    if name == "checks":
        return AutomatedChecks(run_ref=run_ref)
    if name == "marks":
        return latest_check_result
    if name == "all-fixed":
        return all_fixed
    raise ValidationFailed([f"复查结果来源 {name} 无效（应为 {'、'.join(PROVIDERS)}）"])
