"""Consent is recorded only when it was given, with the version of the notice
it was given to; every version's text stays readable."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.core.views import PRIVACY_NOTICE_VERSIONS
from portal.extensions import db
from portal.needs.models import Need
from tests.factories import make_category
from tests.forms import form_for
from tests.open311.conftest import API, api_key, make_lights_category  # noqa: F401

CURRENT = "2026-12"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def _post(client, key: str, **extra):
    make_lights_category()
    db.session.commit()
    data = {
        "api_key": key,
        "service_code": "lights",
        "address_string": "1 People Road",
        "description": "The lamp at the corner is dark.",
        "attribute[kind]": "dark",
        "email": "app.user@example.org",
        **extra,
    }
    return client.post(f"{API}/requests.json", data=data, headers={"Accept-Language": "en"})


def _contact():
    return db.session.scalars(sa.select(Need)).one().contact


def test_open311_records_no_consent_unless_the_client_says_so(client, api_key):  # noqa: F811
    assert _post(client, api_key).status_code == 200
    contact = _contact()
    assert contact.consent_at is None
    assert contact.consent_notice_version == ""
    assert contact.email == "app.user@example.org"  # the request itself is taken


@pytest.mark.parametrize("value", ["true", "True", "1"])
def test_open311_records_the_consent_given_to_the_client(client, api_key, value):  # noqa: F811
    assert _post(client, api_key, consent=value).status_code == 200
    contact = _contact()
    assert contact.consent_at is not None
    assert contact.consent_notice_version == CURRENT


@pytest.mark.parametrize("value", ["false", "0", ""])
def test_consent_false_records_none(client, api_key, value):  # noqa: F811
    assert _post(client, api_key, consent=value).status_code == 200
    assert _contact().consent_at is None


def test_a_consent_that_is_neither_true_nor_false_is_refused(client, api_key):  # noqa: F811
    response = _post(client, api_key, consent="maybe")
    assert response.status_code == 400
    assert response.get_json() == [{"code": 400, "description": "consent must be true or false."}]
    assert db.session.scalar(sa.select(sa.func.count(Need.id))) == 0


def test_the_consent_field_is_documented(client):
    document = client.get(f"{API}/openapi.json").get_json()
    field = document["components"]["schemas"]["NewRequest"]["properties"]["consent"]
    assert field["type"] == "boolean"
    assert "privacy notice" in field["description"]
    page = client.get("/developers").get_data(as_text=True)
    assert "Send consent=true with a request only when the person agreed" in page
    assert "consent=true" in page.split('id="examples"')[1]


def test_the_web_form_records_the_consent_and_its_version(client):
    category = make_category()
    db.session.commit()
    form = form_for(client.get("/needs/new").get_data(as_text=True), "/needs/new")
    fields = {
        **form["fields"],
        "title": "A bench is broken",
        "body": "The bench by the pond lost two planks.",
        "category": str(category.id),
        "consent": "y",
    }
    assert client.post(form["action"], data=fields).status_code == 303
    contact = _contact()
    assert contact.consent_notice_version == CURRENT and contact.consent_at is not None


def test_the_notice_in_force_names_every_kind_of_data_and_how_long_it_is_kept(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert f"Version {CURRENT}" in page
    for kind in (
        "e-mail address",
        "name and phone number",
        "an identifier of your device",
        "an identifier of your account in the app",
        "exact position",
        "photos",
        "IP address",
        "display name",
    ):
        assert kind in page, kind
    assert "deleted 180 days after your need is closed" in page
    assert "The logs are deleted after at most 30 days." in page


@pytest.mark.parametrize("app_config", [{"CONTACT_RETENTION_DAYS": 90}])
def test_the_notice_tells_the_configured_period(client):
    assert "deleted 90 days after your need is closed" in client.get("/privacy").get_data(
        as_text=True
    )


def test_earlier_versions_stay_readable(client):
    response = client.get("/privacy?version=2026-11")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Version 2026-11" in page
    assert "This is an earlier version of the notice" in page
    assert "Contact details are deleted when they are no longer needed" in page
    assert "/privacy?version=2026-12" not in page  # the version in force has no parameter
    assert client.get("/privacy?version=1999-01").status_code == 404
    assert client.get("/privacy?version=../base").status_code == 404


def test_every_version_is_kept_and_the_current_one_is_the_last(app, client):
    assert app.config["PRIVACY_NOTICE_VERSION"] == PRIVACY_NOTICE_VERSIONS[-1] == CURRENT
    for version in PRIVACY_NOTICE_VERSIONS:
        response = client.get(f"/privacy?version={version}")
        assert response.status_code == 200, version
        assert f"Version {version}" in response.get_data(as_text=True)
