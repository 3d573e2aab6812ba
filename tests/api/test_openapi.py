"""The OpenAPI document describes every API route and is valid."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from monitoring.core.api import openapi_path, routes


def _document(app):
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_public_and_valid(app):
    validate(_document(app))


def test_document_lists_every_api_route(app):
    document = _document(app)
    in_map = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                in_map.add((openapi_path(rule.rule)[0], method.lower()))
    in_document = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert in_map == in_document
    assert len(routes) == len(in_map)


def test_operations_describe_security_and_errors(app):
    document = _document(app)
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token.",
    }
    assert "Error" in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for name in re.findall(r"{(\w+)}", path):
            assert any(p["name"] == name and p["in"] == "path" for p in item["parameters"]), path
        for method, operation in item.items():
            if method == "parameters":
                continue
            responses = operation["responses"]
            assert "422" in responses, (path, method)
            if path == "/api/v1/openapi.json":
                assert operation["security"] == []
                continue
            assert operation["security"] == [{"bearerAuth": []}]
            assert "401" in responses, (path, method)
            if "{" in path or ("admin" in operation["x-roles"] and len(operation["x-roles"]) == 1):
                assert "404" in responses, (path, method)


def test_inputs_and_outputs_are_described(app):
    document = _document(app)
    paths = document["paths"]
    create_user = paths["/api/v1/users"]["post"]
    body = create_user["requestBody"]["content"]["application/json"]["schema"]
    assert create_user["requestBody"]["required"] is True
    schema = document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(schema["required"]) == {"email", "name", "role", "organisation_id"}
    assert schema["additionalProperties"] is False

    list_users = paths["/api/v1/users"]["get"]
    query = {p["name"] for p in list_users["parameters"] if p["in"] == "query"}
    assert {"limit", "after", "role", "organisation_id", "is_active"} <= query
    page = list_users["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(page["properties"]) == {"items", "next"}

    user_schema = document["components"]["schemas"]["User"]
    assert "password_hash" not in user_schema["properties"]
    assert "password" not in user_schema["properties"]
    token_schema = document["components"]["schemas"]["ApiToken"]
    assert "token_hash" not in token_schema["properties"]


def test_unknown_api_paths_answer_json(app, api_client, monitor):
    client = api_client(monitor)
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == 404
    response = client.put("/api/v1/me")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == 405


def test_declaring_a_route_twice_is_an_error():
    import pytest

    from monitoring.core.api import route
    from monitoring.core.auth import public

    with pytest.raises(RuntimeError, match="declared twice"):

        @route("/me", summary="again")
        @public
        def me_again():
            return None


def test_route_without_access_declaration_is_an_error():
    import pytest

    from monitoring.core.api import route

    with pytest.raises(RuntimeError, match="declare access"):

        @route("/undeclared-api", summary="nope")
        def undeclared():
            return None


def test_a_route_that_reads_its_body_itself_needs_a_body_and_access():
    import pytest

    from monitoring.core.api import route
    from monitoring.core.auth import public

    with pytest.raises(ValueError, match="no body"):
        route("/raw-get", summary="nope", raw_body=True)
    with pytest.raises(RuntimeError, match="declare access"):

        @route("/raw-undeclared", method="POST", summary="nope", raw_body=True)
        def undeclared():
            return None

    with pytest.raises(RuntimeError, match="declared twice"):

        @route("/worker-reports/<int:report_id>/evidence", method="POST", summary="again", raw_body=True)
        @public
        def evidence_again(report_id):
            return None


def test_raw_body_routes_document_their_body_from_args(app):
    paths = _document(app)["paths"]
    survey = paths["/api/v1/testimony/survey-imports"]["post"]
    assert list(survey["requestBody"]["content"]) == ["multipart/form-data"]
    assert "202" in survey["responses"]  # queued: a job imports it
    evidence = paths["/api/v1/worker-reports/{report_id}/evidence"]["post"]
    # The file is the body itself; its name is a query parameter.
    assert list(evidence["requestBody"]["content"]) == ["application/octet-stream"]
    assert [p["name"] for p in evidence["parameters"] if p["in"] == "query"] == ["filename"]
    assert "201" in evidence["responses"]
