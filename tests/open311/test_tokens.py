"""tokens/<token>.{json,xml} and the api_key rules of POST requests."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need
from portal.open311.models import ApiKey
from portal.workflow.services import Actor, transition
from tests.factories import make_user
from tests.open311.conftest import (
    API,
    assert_errors,
    make_api_key,
    make_lights_category,
    parse_json,
    parse_xml,
)

DATA = {
    "service_code": "lights",
    "address_string": "1 People Road",
    "description": "The lamp is dark.",
    "attribute[kind]": "dark",
}


@pytest.fixture
def lights(app):
    make_lights_category()
    db.session.commit()


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Need.id)))


def _post(client, fmt="json", **kw):
    return client.post(f"{API}/requests.{fmt}", **kw)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_token_tells_the_id_only_once_published(client, lights, api_key, fmt):
    token = parse_json(_post(client, data={**DATA, "api_key": api_key}))[0]["token"]
    url = f"{API}/tokens/{token}.{fmt}"

    def read():
        response = client.get(url)
        if fmt == "json":
            (item,) = parse_json(response)
            return item
        root = parse_xml(response)
        assert root.tag == "service_requests"
        (item,) = root.findall("request")
        return {child.tag: child.text for child in item}

    assert read() == {"token": token}
    need = db.session.scalars(sa.select(Need)).one()
    transition(need, "publish", Actor.staff(make_user(Role.ADMIN)))
    db.session.commit()
    assert read() == {"token": token, "service_request_id": need.ref}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("token", ["0" * 32, "not-a-token"])
def test_an_unknown_token_is_404(client, fmt, token):
    assert_errors(client.get(f"{API}/tokens/{token}.{fmt}"), 404, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_missing_key_is_403(client, lights, fmt):
    (description,) = assert_errors(_post(client, fmt, data=DATA), 403, fmt)
    assert "api_key" in description
    assert _count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_wrong_key_is_403(client, lights, api_key, fmt):
    assert_errors(_post(client, fmt, data={**DATA, "api_key": api_key + "x"}), 403, fmt)
    assert _count() == 0


def test_a_revoked_key_is_403(client, lights):
    make_api_key("revoked-key-12345", revoked=True)
    db.session.commit()
    assert_errors(_post(client, data={**DATA, "api_key": "revoked-key-12345"}), 403)
    assert _count() == 0


def test_the_key_may_come_in_the_query_string(client, lights, api_key):
    response = client.post(f"{API}/requests.json?api_key={api_key}", data=DATA)
    assert response.status_code == 200
    assert _count() == 1


def test_the_key_and_fields_may_come_as_multipart(client, lights, api_key):
    response = _post(client, data={**DATA, "api_key": api_key}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert _count() == 1


def test_the_key_is_checked_before_the_request(client, lights):
    assert_errors(_post(client, data={"service_code": "nope"}), 403)


def test_using_a_key_notes_when(client, lights, api_key):
    _post(client, data={**DATA, "api_key": api_key})
    db.session.expire_all()
    assert db.session.scalars(sa.select(ApiKey)).one().last_used_at is not None


def test_no_csrf_token_is_needed_but_the_web_form_still_needs_one(client, lights, api_key):
    assert _post(client, data={**DATA, "api_key": api_key}).status_code == 200
    assert client.post("/needs/new", data={"title": "x"}).status_code == 400


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}]
)
def test_each_key_has_its_own_rate_limit(client, lights):
    make_api_key("slow-key-12345", rate_limit="2 per minute")
    make_api_key("other-key-12345", rate_limit="100 per minute")
    db.session.commit()
    for _ in range(2):
        assert _post(client, data={**DATA, "api_key": "slow-key-12345"}).status_code == 200
    for fmt in ("json", "xml"):
        limited = _post(client, fmt, data={**DATA, "api_key": "slow-key-12345"})
        assert_errors(limited, 429, fmt)
    assert _post(client, data={**DATA, "api_key": "other-key-12345"}).status_code == 200
    assert _count() == 3


@pytest.mark.parametrize(
    "app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"}]
)
def test_guessing_keys_is_rate_limited_per_address(client, lights):
    statuses = [
        _post(client, data={**DATA, "api_key": f"guess-{n}"}).status_code for n in range(31)
    ]
    assert statuses[:30] == [403] * 30
    assert statuses[30] == 429
