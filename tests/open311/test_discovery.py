"""discovery.{json,xml}: where the API lives, in both formats."""

from __future__ import annotations

import pytest

from tests.open311.conftest import API, assert_errors, parse_json, parse_xml


def test_discovery_json_lists_the_endpoint(client):
    doc = parse_json(client.get(f"{API}/discovery.json"))
    assert set(doc) == {"changeset", "contact", "key_service", "endpoints"}
    assert doc["changeset"].endswith("Z")
    assert "/developers" in doc["key_service"]
    (endpoint,) = doc["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2")
    assert endpoint["type"] == "production"
    assert sorted(endpoint["formats"]) == ["application/json", "text/xml"]


def test_discovery_xml_has_the_spec_elements(client):
    root = parse_xml(client.get(f"{API}/discovery.xml"))
    assert root.tag == "discovery"
    assert [c.tag for c in root] == ["changeset", "contact", "key_service", "endpoints"]
    endpoint = root.find("endpoints/endpoint")
    assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint.findtext("type") == "production"
    assert sorted(f.text for f in endpoint.findall("formats/format")) == [
        "application/json",
        "text/xml",
    ]


@pytest.mark.parametrize("value", ["", "huiju.example"])
def test_an_empty_or_the_configured_jurisdiction_is_accepted(client, value):
    assert client.get(f"{API}/discovery.json?jurisdiction_id={value}").status_code == 200


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_jurisdiction_is_404(client, fmt):
    response = client.get(f"{API}/discovery.{fmt}?jurisdiction_id=elsewhere.example")
    (description,) = assert_errors(response, 404, fmt)
    assert "jurisdiction_id" in description


def test_an_unknown_format_is_404_not_html(client):
    assert_errors(client.get(f"{API}/discovery.html"), 404)
