"""Regression tests for what fuzzing the API found (issue 15): each of these answered 500 once."""

from __future__ import annotations

import importlib
import json
import pkgutil
import re

import pytest
from marshmallow import Schema, fields

import monitoring
from monitoring.core.converters import MAX_INT, at_most
from monitoring.core.errors import field_errors
from monitoring.core.schemas import DECIMAL_PATTERN, DecimalString, Integer

TOO_BIG = 2**63  # 9223372036854775808, as the fuzzer sent it
JUST_PAST = MAX_INT + 1  # the first number PostgreSQL's INTEGER cannot hold
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options")
_RULE_INT = re.compile(r"<int(?:\([^)]*\))?:(\w+)>")
_RULE_OTHER = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


def _error(response):
    body = response.get_json()
    assert body is not None, response.get_data(as_text=True)
    return body["error"]


# --- numbers above 2^63 - 1 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/cases/{TOO_BIG}",
        "/api/v1/cases/99999999999999999999999",
        "/api/v1/cases/" + "9" * 5000,  # past Python's limit for int() of a string
        f"/api/v1/sites/{TOO_BIG}/concerned",
        f"/cases/{TOO_BIG}",
        f"/api/v1/cases/{JUST_PAST}",
        f"/cases/{JUST_PAST}",
    ],
)
def test_path_id_past_64_bits_is_not_found(client_for, api_client, coordinator, url):
    client = api_client(coordinator) if url.startswith("/api/") else client_for(coordinator)
    response = client.get(url)
    assert response.status_code == 404


def test_id_pattern_is_exactly_the_database_integer():
    assert MAX_INT == 2**31 - 1  # PostgreSQL's INTEGER, the type of every id column
    pattern = re.compile(at_most(MAX_INT) + r"\Z")
    for number in (0, 7, 10**9 - 1, 10**9, MAX_INT - 1, MAX_INT):
        assert pattern.match(str(number)), number
    for number in (MAX_INT + 1, 2147483650, 2200000000, 10**10, 2**63):
        assert not pattern.match(str(number)), number


def test_largest_id_is_a_plain_miss(api_client, coordinator):
    assert api_client(coordinator).get(f"/api/v1/cases/{MAX_INT}").status_code == 404


def test_no_route_with_an_id_answers_500_past_64_bits(app, api_client, admin, coordinator):
    """Every rule with an ``<int:...>`` part, every method, with 2^63 in each id: never a 500."""
    clients = [api_client(admin), api_client(coordinator)]
    tried = 0
    for rule in app.url_map.iter_rules():
        if not _RULE_INT.search(rule.rule):
            continue
        url = _RULE_OTHER.sub("x", _RULE_INT.sub(str(TOO_BIG), rule.rule))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            for client in clients:
                response = client.client.open(url, method=method, headers=client._headers({}), json={})
                # No rule matches such a path, whatever its method: 404, not 405 nor 500.
                assert response.status_code == 404, (method, url, response.status_code)
                tried += 1
    assert tried > 80


@pytest.mark.parametrize(
    ("url", "body", "fields_named"),
    [
        ("/api/v1/cases", {"site_id": TOO_BIG, "finding_ids": [1]}, {"site_id"}),
        ("/api/v1/cases", {"site_id": 1, "finding_ids": [TOO_BIG]}, {"finding_ids.0"}),
        ("/api/v1/contracts/1/products", {"product_id": 1, "quantity": TOO_BIG}, {"quantity"}),
        ("/api/v1/contracts/1/products", {"product_id": -TOO_BIG - 1}, {"product_id"}),
    ],
)
def test_body_numbers_past_64_bits_are_refused(api_client, create_user, url, body, fields_named):
    role = "affiliate" if "/contracts/" in url else "coordinator"
    response = api_client(create_user(role)).post(url, json=body)
    assert response.status_code == 422, response.get_data(as_text=True)
    errors = _error(response)["errors"]
    assert fields_named <= set(errors)
    assert all(isinstance(messages, list) for messages in errors.values())


def test_huge_json_number_is_refused(api_client, coordinator):
    response = api_client(coordinator).post(
        "/api/v1/cases", data='{"site_id": 1e400, "finding_ids": [1]}', content_type="application/json"
    )
    assert response.status_code == 422
    assert "site_id" in _error(response)["errors"]


def test_filter_number_past_64_bits_is_refused(api_client, coordinator):
    response = api_client(coordinator).get(f"/api/v1/contracts?affiliate_id={TOO_BIG}")
    assert response.status_code == 422
    assert set(_error(response)["errors"]) == {"affiliate_id"}


def _schema_classes() -> list[type[Schema]]:
    for module in pkgutil.walk_packages(monitoring.__path__, "monitoring."):
        if module.name.rsplit(".", 1)[-1].endswith("schemas"):
            importlib.import_module(module.name)
    found: list[type[Schema]] = []
    todo = list(Schema.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("monitoring."):
            found.append(cls)
    return found


def _inner_fields(field: fields.Field):
    yield field
    if isinstance(field, fields.List):
        yield from _inner_fields(field.inner)
    if isinstance(field, fields.Dict) and field.value_field is not None:
        yield from _inner_fields(field.value_field)


def test_every_schema_uses_the_bounded_integer():
    schemas = _schema_classes()
    assert len(schemas) > 50
    plain = [
        f"{cls.__module__}.{cls.__name__}.{name}"
        for cls in schemas
        for name, declared in cls._declared_fields.items()
        for field in _inner_fields(declared)
        if isinstance(field, fields.Integer) and not isinstance(field, Integer)
    ]
    assert plain == [], "use monitoring.core.schemas.Integer"


# --- text no database stores ---------------------------------------------------------------------


@pytest.mark.parametrize("text", ["\\ud800", "a\\udfffb", "nul \\u0000 here"])
def test_unstorable_text_in_json_is_refused(api_client, coordinator, text):
    body = '{"site_id": 1, "finding_ids": [1], "note": {"deep": ["' + text + '"]}}'
    response = api_client(coordinator).post("/api/v1/cases", data=body, content_type="application/json")
    assert response.status_code == 400
    error = _error(response)
    assert "cannot be stored" in error["message"]
    assert error["errors"] == {"note.deep.0": [error["message"]]}


def test_paired_surrogates_are_text(api_client, coordinator):
    body = '{"site_id": 1, "finding_ids": [1], "x": "\\ud83d\\ude00"}'
    response = api_client(coordinator).post("/api/v1/cases", data=body, content_type="application/json")
    assert response.status_code == 422  # the unknown field, not the emoji
    assert set(_error(response)["errors"]) == {"x"}


def test_nul_in_query_and_path_is_refused(api_client, coordinator):
    client = api_client(coordinator)
    assert client.get("/api/v1/contracts?after=%00").status_code == 400
    assert client.put("/api/v1/currency-rates/E%00R", json={"eur_per_unit": "1"}).status_code == 400


# --- 405, static files --------------------------------------------------------------------------


def test_method_not_allowed_says_what_is(app, api_client, coordinator):
    response = api_client(coordinator).delete("/api/v1/cases")
    assert response.status_code == 405
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert _error(response)["code"] == 405
    page = app.test_client().delete("/login")
    assert page.status_code == 405
    assert "POST" in page.headers["Allow"]
    for name in SECURITY_HEADERS:
        assert name in response.headers and name in page.headers


def test_missing_static_file_is_a_plain_404_with_security_headers(app):
    response = app.test_client().get("/static/no-such-file.css")
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    for name in SECURITY_HEADERS:
        assert name in response.headers


# --- error details, money, the OpenAPI document -------------------------------------------------


def test_field_errors_are_always_lists_of_text():
    assert field_errors({"a": ["x"], "b": {"c": ["y"], 0: {"d": "z"}}}) == {
        "a": ["x"],
        "b.c": ["y"],
        "b.0.d": ["z"],
    }
    assert field_errors("whole") == {"_schema": ["whole"]}
    assert field_errors(["one", "two"]) == {"_schema": ["one", "two"]}


def test_nested_field_errors_come_flat(api_client, coordinator):
    response = api_client(coordinator).post("/api/v1/cases", json={"site_id": 1, "finding_ids": ["x"]})
    assert response.status_code == 422
    errors = _error(response)["errors"]
    assert errors == {"finding_ids.0": [errors["finding_ids.0"][0]]}


@pytest.mark.parametrize("value", ["1e5", " 12", "12.", "NaN", "Infinity", True])
def test_decimal_strings_in_another_notation_are_refused(value):
    class Args(Schema):
        amount = DecimalString(places=2)

    with pytest.raises(Exception, match="valid"):
        Args().load({"amount": value})


def test_decimal_strings_and_numbers_are_read_exactly():
    class Args(Schema):
        amount = DecimalString(places=2)

    assert str(Args().load({"amount": "1250.5"})["amount"]) == "1250.50"
    assert str(Args().load({"amount": 3})["amount"]) == "3.00"
    assert Args().dump({"amount": Args().load({"amount": "-7"})["amount"]}) == {"amount": "-7.00"}


def _component(document, name):
    return document["components"]["schemas"][name]


def _property(document, schema_name, field):
    return _component(document, schema_name)["properties"][field]


def test_money_is_documented_as_decimal_strings(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    money = {
        ("Contract", "annual_spend"),
        ("CurrencyRate", "eur_per_unit"),
        ("Remedy", "amount"),
        ("Leverage", "spend_eur"),
    }
    schemas = document["components"]["schemas"]
    found = set()
    for schema_name, schema in schemas.items():
        if schema_name.endswith("Args"):  # input: a string or a JSON number
            continue
        for field_name, prop in schema.get("properties", {}).items():
            for wanted_schema, wanted_field in money:
                if field_name == wanted_field and schema_name.startswith(wanted_schema):
                    kinds = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
                    assert "number" not in kinds, (schema_name, field_name, prop)
                    assert "string" in kinds and prop["pattern"] == DECIMAL_PATTERN
                    found.add((wanted_schema, wanted_field))
    assert {field for _, field in found} == {field for _, field in money}
    rate = document["paths"]["/api/v1/currency-rates/{currency}"]["put"]["requestBody"]
    ref = rate["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(_property(document, ref, "eur_per_unit")["type"]) == {"string", "number"}


def test_document_describes_ids_uploads_and_error_statuses(app):
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    case = document["paths"]["/api/v1/cases/{case_id}"]
    assert case["parameters"][0]["schema"]["maximum"] == MAX_INT
    upload = document["paths"]["/api/v1/worker-reports/{report_id}/evidence"]["post"]
    assert upload["requestBody"]["content"] == {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
    }
    assert {p["name"] for p in upload["parameters"] if p["in"] == "query"} == {"filename"}
    assert {"400", "413", "422"} <= set(upload["responses"])
    assert "Retry-After" in document["components"]["responses"]["TooManyRequests"]["headers"]
    for item in document["paths"].values():
        for method, operation in item.items():
            if method != "parameters":
                assert {"400", "422"} <= set(operation["responses"])
    json.dumps(document)  # plain JSON, no lazy strings left


def test_a_coverage_change_that_waits_documents_its_202(app):
    """schemathesis (seed 1280038457): POST /monitor-coverage answered 202, documented only 200."""
    with app.test_request_context():
        spec = monitoring.core.api.build_openapi()
    waiting = (("/api/v1/monitor-coverage", "post"), ("/api/v1/monitor-coverage/{coverage_id}", "delete"))
    for path, method in waiting:
        responses = spec["paths"][path][method]["responses"]
        assert {"200", "202"} <= set(responses), (path, sorted(responses))
