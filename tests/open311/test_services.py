"""services.{json,xml} and services/<code>.{json,xml}."""

from __future__ import annotations

import pytest

from portal.extensions import db
from tests.factories import make_category, make_organisation
from tests.open311.conftest import API, assert_errors, make_lights_category, parse_json, parse_xml

SERVICE_FIELDS = {
    "service_code",
    "service_name",
    "description",
    "metadata",
    "type",
    "keywords",
    "group",
}


@pytest.fixture
def categories(app):
    partner = make_organisation(name_zh="市政所", name_en="Works office")
    lights = make_lights_category(default_partner_id=partner.id)
    plain = make_category(code="roads", name_zh="道路", name_en="Roads")
    make_category(code="gone", is_active=False)
    db.session.commit()
    return lights, plain


def test_services_json_lists_active_categories(client, categories):
    services = parse_json(client.get(f"{API}/services.json?locale=en"))
    assert [s["service_code"] for s in services] == ["lights", "roads"]
    lights, roads = services
    assert set(lights) == SERVICE_FIELDS
    assert lights["service_name"] == "Street lights"
    assert lights["description"] == "Broken street lights"
    assert lights["metadata"] is True and roads["metadata"] is False
    assert lights["type"] == "realtime"
    assert "路灯" in lights["keywords"] and "Street lights" in lights["keywords"]
    assert lights["group"] == "Works office"
    assert all(isinstance(s["service_code"], str) for s in services)


def test_services_xml(client, categories):
    root = parse_xml(client.get(f"{API}/services.xml?locale=en"))
    assert root.tag == "services"
    services = root.findall("service")
    assert [s.findtext("service_code") for s in services] == ["lights", "roads"]
    assert {c.tag for c in services[0]} == SERVICE_FIELDS
    assert services[0].findtext("metadata") == "true"
    assert services[1].findtext("metadata") == "false"
    assert services[0].findtext("type") == "realtime"


@pytest.mark.parametrize(
    ("query", "headers", "name"),
    [
        ("?locale=en", {}, "Street lights"),
        ("?locale=en-US", {}, "Street lights"),
        ("?locale=zh_CN", {"Accept-Language": "en"}, "路灯"),
        ("?locale=zh-CN", {}, "路灯"),
        ("", {"Accept-Language": "en-GB,en;q=0.9"}, "Street lights"),
        ("", {"Accept-Language": "zh-CN"}, "路灯"),
    ],
)
def test_the_language_follows_locale_then_accept_language(client, categories, query, headers, name):
    services = parse_json(client.get(f"{API}/services.json{query}", headers=headers))
    assert services[0]["service_name"] == name


def test_service_definition_json(client, categories):
    definition = parse_json(client.get(f"{API}/services/lights.json?locale=en"))
    assert definition["service_code"] == "lights"
    pole, kind, when = definition["attributes"]  # the inactive question is left out
    assert pole == {
        "variable": True,
        "code": "pole",
        "datatype": "text",
        "required": False,
        "datatype_description": "Written on the pole",
        "order": 1,
        "description": "Pole number",
    }
    assert kind["datatype"] == "singlevaluelist" and kind["required"] is True
    assert kind["order"] == 2
    assert kind["values"] == [
        {"key": "dark", "name": "Dark"},
        {"key": "flicker", "name": "Flickering"},
    ]
    assert when["datatype"] == "multivaluelist"
    assert [v["key"] for v in when["values"]] == ["day", "night"]


def test_service_definition_xml(client, categories):
    root = parse_xml(client.get(f"{API}/services/lights.xml?locale=zh_CN"))
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "lights"
    attributes = root.findall("attributes/attribute")
    assert [a.findtext("code") for a in attributes] == ["pole", "kind", "when"]
    kind = attributes[1]
    for tag in (
        "variable",
        "code",
        "datatype",
        "required",
        "datatype_description",
        "order",
        "description",
    ):
        assert kind.find(tag) is not None, tag
    assert kind.findtext("variable") == "true"
    assert kind.findtext("required") == "true"
    assert kind.findtext("order") == "2"
    assert kind.findtext("description") == "类型"
    assert [(v.findtext("key"), v.findtext("name")) for v in kind.findall("values/value")] == [
        ("dark", "不亮"),
        ("flicker", "闪烁"),
    ]


def test_a_category_without_questions_has_no_attributes(client, categories):
    assert parse_json(client.get(f"{API}/services/roads.json"))["attributes"] == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("code", ["nothing", "gone"])
def test_unknown_or_inactive_service_is_404(client, categories, fmt, code):
    (description,) = assert_errors(client.get(f"{API}/services/{code}.{fmt}"), 404, fmt)
    assert code in description


def test_services_take_two_queries_whatever_their_number(client, app, queries):
    make_lights_category(code="a")
    db.session.commit()
    with queries() as few:
        client.get(f"{API}/services.json")
    for n in range(5):
        make_lights_category(code=f"more{n}")
    db.session.commit()
    with queries() as many:
        services = parse_json(client.get(f"{API}/services.json"))
    assert len(services) == 6
    assert len(few) == len(many)
