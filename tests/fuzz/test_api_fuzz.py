"""The JSON API fuzzed from its own OpenAPI schema: no server error, every answer as documented."""

from __future__ import annotations

from itertools import product

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from services.access import api_tokens, users
from tests.builders import a_case, a_target, a_unit
from web.app import create_app

EXAMPLES = 20  # per operation, generation mode and backend
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]  # valid requests, then invalid ones
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _token(app) -> str:
    with app.uow() as uow:
        unit = a_unit(uow, "lincang", kind="city_gov")
        for _ in range(3):
            a_case(uow, state="notified", target_code=a_target(uow, unit_code=unit.code).code)
        users.create_user(uow, username="api", role="admin", unit_code=None, display_name="接口")
        token = api_tokens.issue_token(uow, username="api", name="fuzz").token
        uow.commit()
    return token


def _has_inputs(operation) -> bool:
    names = {p.name.lower() for p in operation.iter_parameters()}
    return bool(names - {"authorization"}) or bool(operation.body)


def test_fuzzing_every_api_operation_finds_no_server_error_and_no_undocumented_answer(app):
    auth = {"Authorization": f"Bearer {_token(app)}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(app))
    operations = [result.ok() for result in schema.get_all_operations()]
    tried: dict[str, int] = {}
    failed: dict[str, str] = {}

    for operation, mode in product(operations, MODES):
        if mode == GenerationMode.NEGATIVE and not _has_inputs(operation):
            continue  # only the (optional, free-text) Authorization header: nothing invalid to send

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def fuzz(case):
            label = f"{case.operation.method.upper()} {case.operation.path}"
            tried[label] = tried.get(label, 0) + 1
            response = case.call(headers=auth)
            case.validate_response(response, checks=CHECKS)

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # every operation's failure is listed below
            failed[f"{operation.method.upper()} {operation.path} ({mode.value})"] = str(exc)[:1500]

    print(f"fuzz examples run: {sum(tried.values())} over {len(tried)} operations")
    assert failed == {}
    assert len(tried) == len(operations) >= 9
