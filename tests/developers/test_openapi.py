"""The OpenAPI document: valid, complete, and true to the application's routes."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest
import schemathesis

from portal.open311.openapi import API_PREFIX
from tests.open311.conftest import FIELDS

METHODS = ("get", "post")
SAMPLE = {"service_code": "roads", "service_request_id": "N-2026-000001", "token": "abc"}


@pytest.fixture
def app_config() -> dict:
    return {"PUBLIC_BASE_URL": "https://civic.example.org/", "OPEN311_JURISDICTION": "civic.test"}


@pytest.fixture
def document(client) -> dict:
    response = client.get("/open311/v2/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _rule_for(app, path: str, method: str):
    """The url_map rule a documented path with sample values reaches."""
    concrete = API_PREFIX + re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)
    adapter = app.url_map.bind("localhost")
    rule, _ = adapter.match(concrete, method=method.upper(), return_rule=True)
    return rule


def test_schemathesis_loads_the_document_from_the_running_app(app):
    schema = schemathesis.openapi.from_wsgi("/open311/v2/openapi.json", app)
    labels = {result.ok().label for result in schema.get_all_operations()}
    assert len(labels) == 14
    for fmt in ("json", "xml"):
        assert f"GET /discovery.{fmt}" in labels
        assert f"GET /services.{fmt}" in labels
        assert f"GET /services/{{service_code}}.{fmt}" in labels
        assert f"GET /requests.{fmt}" in labels
        assert f"POST /requests.{fmt}" in labels
        assert f"GET /requests/{{service_request_id}}.{fmt}" in labels
        assert f"GET /tokens/{{token}}.{fmt}" in labels


def test_server_and_jurisdiction_come_from_the_configuration(document):
    assert document["openapi"].startswith("3.")
    assert document["servers"] == [{"url": "https://civic.example.org/open311/v2"}]
    jurisdiction = next(
        p
        for p in document["paths"]["/services.json"]["get"]["parameters"]
        if p["name"] == "jurisdiction_id"
    )
    assert "civic.test" in jurisdiction["schema"]["enum"]


def test_every_documented_path_is_a_real_open311_route(app, document):
    for path, method, _ in _operations(document):
        rule = _rule_for(app, path, method)
        assert rule.endpoint.startswith("open311."), (path, method, rule.endpoint)


def test_every_open311_route_is_documented(app, document):
    documented = {
        (_rule_for(app, path, method).rule, method.upper())
        for path, method, _ in _operations(document)
    }
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("open311."):
            continue
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            assert (rule.rule, method) in documented, (rule.rule, method)


def test_each_operation_documents_its_format_and_errors(document):
    for path, method, operation in _operations(document):
        media = "application/json" if path.endswith(".json") else "text/xml"
        responses = operation["responses"]
        assert "200" in responses
        for code in ("400", "404", "429"):
            assert list(responses[code]["content"]) == [media], (path, code)
        assert list(responses["200"]["content"]) == [media], (path, method)
        if path.endswith(".json"):
            assert responses["400"]["content"][media]["schema"] == {
                "$ref": "#/components/schemas/Errors"
            }
    post = document["paths"]["/requests.json"]["post"]
    assert set(post["responses"]) >= {"200", "400", "403", "404", "429"}
    assert post["security"] == [{"api_key": []}]
    assert document["components"]["securitySchemes"]["api_key"] == {
        "type": "apiKey",
        "in": "query",
        "name": "api_key",
        "description": "May also be sent as a form field api_key in the body.",
    }


def test_the_filters_and_the_submission_fields_are_all_described(document):
    get = document["paths"]["/requests.json"]["get"]
    names = {p["name"] for p in get["parameters"]}
    assert names >= {
        "service_request_id",
        "service_code",
        "start_date",
        "end_date",
        "status",
        "page",
        "page_size",
        "jurisdiction_id",
        "locale",
    }
    body = get_body = document["paths"]["/requests.json"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/x-www-form-urlencoded", "multipart/form-data"}
    new_request = document["components"]["schemas"]["NewRequest"]
    assert get_body["multipart/form-data"]["schema"]["$ref"].endswith("/NewRequest")
    assert set(new_request["properties"]) >= {
        "api_key",
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "email",
        "first_name",
        "last_name",
        "phone",
        "description",
        "media_url",
        "device_id",
        "account_id",
    }
    assert new_request["properties"]["description"]["maxLength"] == 4000
    assert new_request["required"] == ["service_code"]
    assert "attribute[CODE]" in new_request["additionalProperties"]["description"]


def test_the_request_fields_have_the_georeport_names_and_types(document):
    fields = document["components"]["schemas"]["ServiceRequest"]["properties"]
    assert set(fields) == FIELDS
    assert fields["service_request_id"]["type"] == "string"
    assert fields["service_code"]["type"] == "string"
    assert fields["status"]["enum"] == ["open", "closed"]
    for name in ("lat", "long"):
        assert fields[name]["type"] == "number"
        assert fields[name]["nullable"] is True
    for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert fields[name]["format"] == "date-time"
    # No field for the submitter's contact data in any answer.
    text = str(document["components"]["schemas"]["ServiceRequests"]) + str(fields)
    for private in ("email", "phone", "first_name", "device_id"):
        assert private not in text


def test_the_examples_on_the_developers_page_use_real_paths(app, client):
    page = html.unescape(client.get("/developers").get_data(as_text=True))
    urls = re.findall(r"'(https://civic\.example\.org/open311/v2/[^']+)'", page)
    assert len(urls) >= 9
    adapter = app.url_map.bind("localhost")
    reached = set()
    for url in urls:
        parts = urlsplit(url)
        method = "POST" if f"-X POST '{url}'" in page else "GET"
        rule, _ = adapter.match(parts.path, method=method, return_rule=True)
        assert rule.endpoint.startswith("open311."), url
        reached.add(rule.endpoint)
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("open311.")}
    assert reached == endpoints
