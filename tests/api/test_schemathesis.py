"""Schemathesis over the whole OpenAPI spec of the real app, authenticated as a geneticist:
generated requests, valid and invalid, for every operation, never get a 5xx.

Path parameters are alternately generated and real (a case of the user's centre and one of
its observations), so the checks behind the 404 run too. The token-revoking operation is
left out (it would log the test user out). Examples are limited to keep the run near a
minute per database. (Schemathesis' pytest plugin does not run under pytest 9, so the
operations' Hypothesis strategies are driven here directly.)
"""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.api.conftest import Api

SKIPPED = {("DELETE", "/api/v1/tokens/{token_id}")}
EXAMPLES = {GenerationMode.POSITIVE: 7, GenerationMode.NEGATIVE: 4}


def test_no_server_errors(api: Api) -> None:
    headers = api.user("geneticist")
    case_ = api.new_case(headers)
    real = {"case_id": case_["id"], "observation_id": case_["observations"][0]["id"]}
    turn = itertools.count()
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        operations += 1
        for mode, examples in EXAMPLES.items():

            @settings(
                max_examples=examples,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                params = case.path_parameters
                if params and next(turn) % 2 == 0:
                    for name, value in real.items():
                        if name in params:
                            params[name] = value
                case.call_and_validate(headers=headers, checks=[not_a_server_error])

            try:
                check()
            except Unsatisfiable:
                pass  # nothing to make invalid (an operation without parameters or body)
            except Exception as exc:  # collect every operation's failure, then report
                failures.append(f"{operation.label} ({mode.value}): {exc}")
    assert operations >= 30
    assert not failures, "\n\n".join(failures)
