"""/api/v1/openapi.json matches the app: every documented operation exists, every API route is
documented, and schemathesis calls every operation and validates the answers against it.

The fuzzing is deterministic (derandomized, no example database, a fixed number of examples):
the same examples on every run and database, so a failure reproduces and never comes and goes."""

from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.clinics.test_clinic_scoping import clinic_routes


def openapi_paths(client) -> set[tuple[str, str]]:
    spec = client.get("/api/v1/openapi.json").get_json()
    return {(path, method.upper()) for path, item in spec["paths"].items() for method in item}


def flask_to_openapi(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule)


def test_document_and_routes_match_both_ways(app, client):
    documented = openapi_paths(client)
    routed = {(flask_to_openapi(rule), method) for rule, method in clinic_routes(app) if rule.startswith("/api/v1")}
    assert documented == routed


def test_document_is_valid_openapi_3(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    enums = spec["components"]["schemas"]["NewEnrollment"]["properties"]
    assert "es" in enums["locale"]["enum"] and "hormone" in enums["categories"]["items"]["enum"]


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


# What every answer must satisfy: never a 5xx, and status, content type, headers and body as
# documented; invalid input is refused.
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_headers_conformance,
          schemathesis.checks.response_schema_conformance, schemathesis.checks.negative_data_rejection]


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None, print_blob=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_document(case, make_clinic, request):
    # One clinic per test function: hypothesis runs many examples against the same database.
    if not hasattr(request.node, "_access"):
        request.node._access = make_clinic("Conformance")
    token = request.node._access.token
    # positive_data_acceptance is off: a schema-valid string is still not always a phone number,
    # and the API rightly answers 422 for it.
    # A case generated without the Authorization header (a negative case: "the header is
    # required") is sent without it and must be refused; every other case gets the real token.
    has_auth = "Authorization" in (case.headers or {})
    headers = {"Authorization": f"Bearer {token}"} if has_auth else {}
    response = case.call_and_validate(headers=headers, checks=CHECKS)
    assert response.status_code < 500
