"""Schemathesis against our own OpenAPI schema, over real HTTP on loopback, on a database that holds
a detection: no answer is a 5xx, and every answer (status, content type, headers, body) is one the
schema documents. Deterministic (derandomized) and bounded (a few dozen examples per operation).

Hypothesis is driven here per operation (``operation.as_strategy``) rather than through
schemathesis' pytest plugin: its fixture-loaded schema (``schemathesis.pytest.from_fixture``)
renames the running test through ``request.node._nodeid``, which pytest 9 no longer has."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from schemathesis.schemas import APIOperation
from sqlalchemy import create_engine, text

from tests.conftest import POSTGRES_VARIABLE
from tests.factories import render
from tests.live import Service, service, settings_for
from tests.test_detect import hand_made

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
BOUNDED = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                   phases=[Phase.explicit, Phase.generate],  # no shrinking: bounded time
                   suppress_health_check=list(HealthCheck))
EXAMPLES = {  # (positive, negative) examples per operation
    "reads": (25, 10), "known": (10, 0), "upload": (8, 4), "delete": (3, 3)}


@contextmanager
def postgres_schema() -> Iterator[str]:
    """A URL to a fresh schema of the configured PostgreSQL (conftest's fixture is per test)."""
    base = os.environ.get(POSTGRES_VARIABLE) or pytest.skip(f"needs {POSTGRES_VARIABLE}")
    schema = f"cib_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One service per database for the module, holding a detection (the hand-made relay and
    network): the examples only read, or are refused, until the deletions at the end."""
    folder = tmp_path_factory.mktemp("schema")
    with ExitStack() as stack:
        url = (f"sqlite:///{folder / 'cib.db'}" if request.param == "sqlite"
               else stack.enter_context(postgres_schema()))
        running = stack.enter_context(service(settings_for(url, folder)))
        answer = running.client.post("/v1/datasets", headers=running.as_("upload"), files={
            "file": ("hand.jsonl", render("twarc2", hand_made()).encode())})
        assert answer.status_code == 202, answer.text
        assert running.wait(answer.json())["state"] == "done"
        yield running


@pytest.fixture(scope="module")
def operations(live: Service) -> list[APIOperation]:
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def _known_ids(live: Service) -> dict[str, str]:
    """Path parameters that exist, so that full answers (not only 404s) are checked too."""
    headers = live.as_("read")
    campaign = live.client.get("/v1/campaigns", headers=headers).json()["items"][0]
    account = live.client.get("/v1/accounts", headers=headers).json()["items"][0]
    dataset = live.client.get("/v1/datasets", headers=headers).json()["items"][0]
    return {"campaign_id": campaign["campaign_id"], "platform": account["platform"],
            "account_id": account["account_id"], "dataset_id": str(dataset["id"]), "job_id": "1"}


def _fuzz(live: Service, operation: APIOperation, positive: int, negative: int,
          path_parameters: dict[str, str] | None = None) -> list[str]:
    """Run the generated cases of one operation; the failures, one message each."""
    failures = []
    for mode, examples in ((GenerationMode.POSITIVE, positive), (GenerationMode.NEGATIVE, negative)):
        if not examples:
            continue

        @settings(BOUNDED, max_examples=examples)
        @given(case=operation.as_strategy(mode, path_parameters=path_parameters))
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(base_url=live.url, headers=live.as_("admin"), checks=CHECKS)

        try:
            run()
        except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
            continue
        except Exception as exc:  # one operation's failure must not hide the others'
            failures.append(f"{operation.label} ({mode.value}): {exc}")
    return failures


def _select(operations: list[APIOperation], method: str, path: str | None = None) -> list[APIOperation]:
    return [o for o in operations if o.method.upper() == method and path in (None, o.path)]


def test_reads_and_lookups_conform(live: Service, operations: list[APIOperation]) -> None:
    reads = [*_select(operations, "GET"), *_select(operations, "POST", "/v1/lookup")]
    assert len(reads) >= 10
    known = _known_ids(live)
    failures = []
    for operation in reads:
        failures += _fuzz(live, operation, *EXAMPLES["reads"])
        names = [p.name for p in operation.path_parameters]
        if names:
            failures += _fuzz(live, operation, *EXAMPLES["known"], {n: known[n] for n in names})
    assert not failures, "\n\n".join(failures)


def test_uploads_conform(live: Service, operations: list[APIOperation]) -> None:
    """Generated bodies are not dumps: each must be refused with a documented error, never a 5xx."""
    failures = [f for o in _select(operations, "POST", "/v1/datasets")
                for f in _fuzz(live, o, *EXAMPLES["upload"])]
    assert not failures, "\n\n".join(failures)


def test_without_a_key_every_route_is_a_documented_401(live: Service,
                                                        operations: list[APIOperation]) -> None:
    for operation in operations:
        if operation.path == "/healthz":
            continue
        names = [p.name for p in operation.path_parameters]
        case = operation.Case(path_parameters=dict.fromkeys(names, "1"))
        response = case.call(base_url=live.url)
        assert response.status_code == 401, (operation.label, response.text)
        case.validate_response(response, checks=CHECKS)


def test_deletions_conform(live: Service, operations: list[APIOperation]) -> None:
    """After the checks above on the same database: deleting its one dataset (id 1) empties it."""
    failures = [f for o in _select(operations, "DELETE") for f in _fuzz(live, o, *EXAMPLES["delete"])]
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("path", ["/v1/accounts/twitter/a%00b", "/v1/accounts/tw%00/1",
                                  "/v1/accounts?campaign=C%001"])
def test_a_nul_in_an_id_is_an_invalid_parameter(live: Service, path: str) -> None:
    """PostgreSQL cannot compare a text holding NUL: a 422 naming the field, never a 500."""
    answer = live.client.get(path, headers=live.as_("read"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "invalid_parameter"


def test_rate_limited_answer_is_documented(tmp_path: Path) -> None:
    """429 carries the documented error body and Retry-After header (no example reaches it above)."""
    settings = settings_for(f"sqlite:///{tmp_path / 'cib.db'}", tmp_path, rate_limit="1/minute")
    with service(settings, worker=False) as limited:
        operation = schemathesis.openapi.from_url(f"{limited.url}/openapi.json")["/v1/jobs"]["GET"]
        case = operation.Case()
        responses = [case.call(base_url=limited.url, headers=limited.as_("read")) for _ in range(2)]
        assert [r.status_code for r in responses] == [200, 429]
        case.validate_response(responses[1], checks=CHECKS)
