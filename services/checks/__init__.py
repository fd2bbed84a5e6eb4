"""Automated checks: tell without a person whether a case's problem is fixed."""

from services.checks.model import CheckOutcome, CheckRequest
from services.checks.runner import run_checks
from services.checks.store import request_for_target, requests_for_cases, save_outcomes

__all__ = [
    "CheckOutcome",
    "CheckRequest",
    "request_for_target",
    "requests_for_cases",
    "run_checks",
    "save_outcomes",
]
