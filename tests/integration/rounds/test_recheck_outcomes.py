"""Where outcomes come from: a category without an automated check uses the supervisor's mark."""

from __future__ import annotations

import pytest

from services.core.errors import ValidationFailed
from services.rounds.outcomes import AutomatedChecks, provider_named
from tests.builders import a_case
from tests.support.flowkit import mark


def test_cases_without_an_automated_check_take_the_latest_mark_and_no_network(app):
    with app.uow() as uow:
        marked = a_case(uow, state="notified", category="serious_wording")
        unmarked = a_case(uow, state="notified", category="nm_zombie")
        mark(uow, marked, "present")
        mark(uow, marked, "fixed")
        outcomes = AutomatedChecks(run_ref="测试")(uow, [marked.id, unmarked.id])
    assert outcomes == {marked.id: "fixed"}


def test_an_unknown_outcome_source_is_refused_in_chinese():
    with pytest.raises(ValidationFailed, match="复查结果来源 guess 无效"):
        provider_named("guess", run_ref="测试")
