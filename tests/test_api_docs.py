"""The OpenAPI document a journalist reads at /docs: every route, parameter and field described."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from tests.live import settings_for


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("docs")
    app = create_app(settings_for(f"sqlite:///{folder / 'cib.db'}", folder))
    document: dict[str, Any] = app.openapi()
    return document


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, item in schema["paths"].items()
            for method, op in item.items()]


def test_every_route_is_documented(schema: dict[str, Any]) -> None:
    routes = {f"{m} {p}" for m, p, _ in operations(schema)}
    assert routes == {
        "GET /v1/campaigns", "GET /v1/campaigns/{campaign_id}", "GET /v1/campaigns/{campaign_id}/graph",
        "GET /v1/accounts", "GET /v1/accounts/{platform}/{account_id}", "POST /v1/lookup",
        "POST /v1/datasets", "GET /v1/datasets", "GET /v1/datasets/{dataset_id}",
        "DELETE /v1/datasets/{dataset_id}", "GET /v1/jobs", "GET /v1/jobs/{job_id}", "GET /healthz"}
    for method, path, op in operations(schema):
        assert op.get("summary") and len(op.get("description", "")) > 40, f"{method} {path}"


def test_every_parameter_is_described(schema: dict[str, Any]) -> None:
    missing = [f"{m} {p}: {param['name']}" for m, p, op in operations(schema)
               for param in op.get("parameters", []) if not param.get("description")]
    assert missing == []


def test_every_field_is_described_with_examples_somewhere(schema: dict[str, Any]) -> None:
    missing = [f"{name}.{field}" for name, model in schema["components"]["schemas"].items()
               if not name.startswith(("HTTPValidationError", "ValidationError"))
               for field, spec in model.get("properties", {}).items() if not spec.get("description")]
    assert missing == []
    examples = [name for name, model in schema["components"]["schemas"].items()
                if any("examples" in spec for spec in model.get("properties", {}).values())]
    assert {"Campaign", "Account", "Job", "LookupRequest"} <= set(examples)


def test_errors_are_documented_with_their_shape(schema: dict[str, Any]) -> None:
    for method, path, op in operations(schema):
        if path != "/healthz":
            assert {"401", "403", "422", "429"} <= set(op["responses"]), f"{method} {path}"
    assert "ErrorResponse" in schema["components"]["schemas"]


def test_docs_page_is_served(tmp_path: Path) -> None:
    from tests.live import service

    with service(settings_for(f"sqlite:///{tmp_path / 'cib.db'}", tmp_path), worker=False) as api:
        page = api.client.get("/docs")
        assert page.status_code == 200 and "swagger" in page.text.lower()
        assert api.client.get("/openapi.json").json()["info"]["title"] == "cib-detector"
