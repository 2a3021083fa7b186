"""Finding 3: a form's one-time key cannot be used to take over someone else's
confirmation and tracking link (web form, staff intake, Open311)."""

from __future__ import annotations

import hashlib
import re

import sqlalchemy as sa

from portal.auth.models import Role
from portal.auth.sessions import stamp
from portal.extensions import db
from portal.needs.models import Need
from tests.factories import make_category, make_user
from tests.forms import page_forms as forms_of
from tests.open311.conftest import make_api_key, make_lights_category

TRACK_LINK = re.compile(r"/track/([A-Za-z0-9_-]{20,})")


def _new_need_form(client, title: str) -> dict:
    page = client.get("/needs/new", headers={"Accept-Language": "en"}).get_data(as_text=True)
    form = next(f for f in forms_of(page) if "idempotency_key" in f["fields"])
    fields = dict(form["fields"])
    fields.update(
        title=title, body="The street lamp at the east gate has been dark for a week.", consent="y"
    )
    return fields


def _confirmation(client) -> str:
    return client.get("/needs/submitted").get_data(as_text=True)


def _needs() -> list[Need]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Need).order_by(Need.id)))


def test_another_session_replaying_a_form_key_gets_its_own_need(app):
    category = make_category()
    db.session.commit()
    citizen, attacker = app.test_client(), app.test_client()

    form = _new_need_form(citizen, "Lamp at the east gate")
    form["category"] = str(category.id)
    assert citizen.post("/needs/new", data=form).status_code == 303
    mine = _confirmation(citizen)
    (citizen_token,) = set(TRACK_LINK.findall(mine))

    # The attacker learns the form's key (it is in the page) and sends it from its
    # own session, with its own valid CSRF token.
    stolen = _new_need_form(attacker, "Something else")
    stolen.update(idempotency_key=form["idempotency_key"], category=str(category.id))
    assert attacker.post("/needs/new", data=stolen).status_code == 303
    theirs = _confirmation(attacker)

    needs = _needs()
    assert [n.title for n in needs] == ["Lamp at the east gate", "Something else"]
    assert citizen_token not in theirs and needs[0].ref not in theirs
    assert needs[1].ref in theirs
    # The citizen's double submit still finds the citizen's need, nobody else's.
    assert citizen.post("/needs/new", data=form).status_code == 303
    assert citizen_token in _confirmation(citizen) and len(_needs()) == 2


def test_the_stored_key_of_an_api_request_cannot_be_computed(client):
    make_lights_category()
    make_api_key("good-key-0123456789")
    db.session.commit()
    from tests.open311.test_requests_post import API, _valid

    response = client.post(
        f"{API}/requests.json", data=_valid("good-key-0123456789", idempotency_key="client-42")
    )
    assert response.status_code == 200
    (need,) = _needs()
    # The old derivation, computable by anyone who knows the key id and the client key:
    guess = hashlib.sha256(f"open311:{need.id}:client-42".encode()).hexdigest()
    for key_id in range(1, 5):
        plain = hashlib.sha256(f"open311:{key_id}:client-42".encode()).hexdigest()
        assert need.idempotency_key not in {plain, plain[:32], guess}
    assert len(need.idempotency_key) == 64


def test_posting_an_api_request_key_to_the_web_form_shows_no_tracking_link(client, csrf_token):
    make_lights_category()
    make_api_key("good-key-0123456789")
    db.session.commit()
    from tests.open311.test_requests_post import API, _valid

    plain = make_category()
    db.session.commit()
    client.post(f"{API}/requests.json", data=_valid("good-key-0123456789"))
    (api_need,) = _needs()
    form = _new_need_form(client, "Trying to read the API request")
    form.update(idempotency_key=api_need.idempotency_key[:32], category=str(plain.id))
    assert client.post("/needs/new", data=form).status_code == 303
    page = _confirmation(client)
    assert api_need.ref not in page
    assert len(_needs()) == 2


def test_staff_intake_keys_are_bound_to_the_staff_session(app, login):
    category = make_category()
    first, second = make_user(Role.ADMIN), make_user(Role.ADMIN)
    db.session.commit()
    clerk, other = app.test_client(), app.test_client()
    for client, user in ((clerk, first), (other, second)):
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
            stamp(session)

    def intake_form(client, title):
        page = client.get("/staff/needs/new").get_data(as_text=True)
        fields = dict(next(f for f in forms_of(page) if "idempotency_key" in f["fields"])["fields"])
        fields.update(
            title=title,
            body="Called about the broken lamp at the east gate.",
            category=str(category.id),
            consent="y",
        )
        return fields

    form = intake_form(clerk, "Phone call about a lamp")
    assert clerk.post("/staff/needs/new", data=form).status_code == 303
    replay = intake_form(other, "Another call")
    replay["idempotency_key"] = form["idempotency_key"]
    assert other.post("/staff/needs/new", data=replay).status_code == 303
    needs = _needs()
    assert len(needs) == 2
    shown = other.get("/staff/needs/submitted").get_data(as_text=True)
    assert needs[1].ref in shown and needs[0].ref not in shown
