"""requests.{json,xml} POST: a request becomes a need (channel API) held for
moderation, then follows the same loop as a web submission."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.categories.models import NeedAnswer
from portal.extensions import db
from portal.needs.models import Channel, Need, NeedStatus
from portal.open311.models import RequestToken
from portal.workflow.services import Actor, transition
from tests.factories import make_category, make_organisation, make_user
from tests.open311.conftest import (
    API,
    assert_errors,
    make_lights_category,
    parse_json,
    parse_xml,
)


@pytest.fixture
def lights(app):
    category = make_lights_category()
    make_category(code="roads", name_zh="道路", name_en="Roads")
    db.session.commit()
    return category


def _valid(api_key, **extra) -> dict:
    data = {
        "api_key": api_key,
        "service_code": "lights",
        "lat": "31.2304",
        "long": "121.4737",
        "description": "The lamp at the corner is dark.\nSince Monday.",
        "attribute[kind]": "dark",
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


def _needs() -> list[Need]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Need).order_by(Need.id)))


def test_a_post_creates_a_need_held_for_moderation(client, lights, api_key):
    response = client.post(
        f"{API}/requests.json",
        data=_valid(
            api_key,
            **{"attribute[when][]": ["day", "night"], "attribute[pole]": "P-17"},
            email="Caller@Example.org",
            first_name="Li",
            last_name="Lei",
            phone="+86 10 1234 5678",
            device_id="device-1",
            account_id="acct-9",
            media_url="https://example.org/photo.jpg",
        ),
    )
    (reply,) = parse_json(response)
    assert set(reply) == {"token", "service_notice", "account_id"}
    assert len(reply["token"]) == 32 and reply["account_id"] == "acct-9"
    (need,) = _needs()
    assert need.status == NeedStatus.SUBMITTED and need.channel == Channel.API
    assert need.title == "The lamp at the corner is dark."
    assert need.body.startswith("The lamp") and need.category_id == lights.id
    assert (need.lat, need.lon) == (31.2304, 121.4737)
    contact = need.contact
    assert contact.email == "caller@example.org"
    assert contact.name == "Li Lei" and contact.phone == "+86 10 1234 5678"
    assert (contact.device_id, contact.account_id) == ("device-1", "acct-9")
    assert contact.media_url == "https://example.org/photo.jpg"
    answers = db.session.scalars(sa.select(NeedAnswer.value).order_by(NeedAnswer.id)).all()
    assert sorted(answers) == ["P-17", "dark", "day", "night"]
    token = db.session.scalar(sa.select(RequestToken))
    assert token.token == reply["token"] and token.need_id == need.id


def test_the_xml_reply(client, lights, api_key):
    root = parse_xml(client.post(f"{API}/requests.xml", data=_valid(api_key)))
    assert root.tag == "service_requests"
    (request,) = root.findall("request")
    assert len(request.findtext("token")) == 32
    assert request.findtext("service_notice")


def test_address_string_alone_is_a_location_and_title_falls_back(client, lights, api_key):
    data = _valid(api_key, lat=None, long=None, address_string="1 People Road", description="Hi")
    assert client.post(f"{API}/requests.json", data=data).status_code == 200
    (need,) = _needs()
    assert need.place == "1 People Road" and need.lat is None
    assert need.title == "路灯"  # the service name (no Accept-Language: Chinese)


def test_address_id_alone_is_a_location(client, lights, api_key):
    data = _valid(api_key, lat=None, long=None, address_id="A-1234")
    assert client.post(f"{API}/requests.json", data=data).status_code == 200
    assert _needs()[0].place == "A-1234"


def test_a_long_first_line_is_shortened_for_the_title(client, lights, api_key):
    client.post(f"{API}/requests.json", data=_valid(api_key, description="x" * 300))
    (need,) = _needs()
    assert len(need.title) == 120 and need.title.endswith("…")
    assert need.body == "x" * 300


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"lat": None, "long": None}, "location"),
        ({"long": None}, "lat and long"),
        ({"lat": "91"}, "lat"),
        ({"long": "-180.5"}, "long"),
        ({"lat": "nan"}, "lat"),
        ({"description": ""}, "description"),
        ({"description": "x" * 4001}, "description"),
        ({"attribute[kind]": None}, "attribute[kind]"),
        ({"attribute[kind]": "purple"}, "attribute[kind]"),
        ({"email": "not-an-address"}, "email"),
        ({"media_url": "javascript:alert(1)"}, "media_url"),
        ({"media_url": "ftp://example.org/a.jpg"}, "media_url"),
        ({"phone": "1" * 41}, "phone"),
        ({"service_code": ""}, "service_code"),
    ],
)
def test_invalid_requests_are_400_and_nothing_is_saved(client, lights, api_key, fmt, change, words):
    response = client.post(
        f"{API}/requests.{fmt}", data=_valid(api_key, **change), headers={"Accept-Language": "en"}
    )
    descriptions = assert_errors(response, 400, fmt)
    assert any(words in d for d in descriptions), descriptions
    assert _needs() == []


def test_several_problems_are_listed_together(client, lights, api_key):
    data = _valid(api_key, lat="200", email="x", **{"attribute[kind]": None})
    descriptions = assert_errors(client.post(f"{API}/requests.json", data=data), 400)
    assert len(descriptions) == 3


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_service_is_404(client, lights, api_key, fmt):
    response = client.post(f"{API}/requests.{fmt}", data=_valid(api_key, service_code="nope"))
    assert_errors(response, 404, fmt)


def test_a_category_without_questions_needs_no_attributes(client, lights, api_key):
    data = _valid(api_key, service_code="roads", **{"attribute[kind]": None})
    assert client.post(f"{API}/requests.json", data=data).status_code == 200


def test_a_retry_with_the_same_idempotency_key_does_not_duplicate(client, lights, api_key):
    data = _valid(api_key, idempotency_key="client-42")
    first = parse_json(client.post(f"{API}/requests.json", data=data))
    again = parse_json(client.post(f"{API}/requests.json", data=data))
    assert first[0]["token"] == again[0]["token"]
    assert len(_needs()) == 1
    other = parse_json(client.post(f"{API}/requests.json", data=_valid(api_key)))
    assert other[0]["token"] != first[0]["token"]
    assert len(_needs()) == 2


def test_the_post_follows_the_whole_loop(app, client, login, lights, api_key):
    reply = parse_json(client.post(f"{API}/requests.json", data=_valid(api_key)))[0]
    (need,) = _needs()

    admin = make_user(Role.ADMIN)
    partner = make_organisation(name_en="Lighting office")
    staff = make_user(Role.PARTNER, partner)
    db.session.commit()
    login(admin)
    client.set_cookie("locale", "en")
    assert need.ref in client.get("/admin/triage").get_data(as_text=True)
    assert need.ref in client.get("/admin/triage?channel=api").get_data(as_text=True)
    assert need.ref not in client.get("/admin/triage?channel=web").get_data(as_text=True)

    token_url = f"{API}/tokens/{reply['token']}.json"
    assert "service_request_id" not in parse_json(client.get(token_url))[0]
    assert_errors(client.get(f"{API}/requests/{need.ref}.json"), 404)

    need = db.session.get(Need, need.id)
    transition(need, "publish", Actor.staff(admin))
    transition(need, "route", Actor.staff(admin), organisation=partner)
    db.session.commit()
    assert parse_json(client.get(token_url))[0]["service_request_id"] == need.ref
    (request,) = parse_json(client.get(f"{API}/requests/{need.ref}.json?locale=en"))
    assert request["status"] == "open"
    assert request["agency_responsible"] == "Lighting office"
    assert request["expected_datetime"] is not None

    for move in ("accept", "start", "resolve"):
        text = "The lamp was replaced." if move == "resolve" else ""
        transition(need, move, Actor.staff(staff), text=text)
    db.session.commit()
    (request,) = parse_json(client.get(f"{API}/requests.json?service_request_id={need.ref}"))
    assert request["status"] == "closed"
    assert request["status_notes"] == "The lamp was replaced."
    assert request["expected_datetime"] is None
