"""Staff-assisted intake: admins and partner staff enter a need for someone who
phoned or walked in; it records its channel and goes to triage."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Channel, Need, NeedStatus
from portal.notify.models import OutboxEmail
from portal.workflow.models import TimelineEvent
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_user


@pytest.fixture
def category():
    category = make_category(name_en="Parks")
    db.session.commit()
    return category


def _form(client, **overrides):
    html = client.get("/staff/needs/new").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]{32})"', html)
    data = {
        "csrf_token": csrf_token_from(html),
        "idempotency_key": key.group(1),
        "channel": "phone",
        "title": "Streetlight out on Pine Road",
        "body": "The caller says it has been dark for a week.",
        "category": "",
        "place": "Pine Road 12",
        "email": "",
        "consent": "y",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("role", "channel"), [(Role.ADMIN, "phone"), (Role.PARTNER, "walk_in")])
def test_staff_enter_a_need_that_goes_to_triage(client, login, category, role, channel):
    staff = login(make_user(role))
    db.session.commit()
    page = client.get("/staff/needs/new").get_data(as_text=True)
    assert "The person was told about the privacy notice" in page
    assert 'value="web"' not in page and 'value="api"' not in page
    data = _form(client, category=str(category.id), channel=channel, email="caller@example.org")

    response = client.post("/staff/needs/new", data=data)

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/needs/submitted")
    need = db.session.scalar(sa.select(Need))
    assert need.status == NeedStatus.SUBMITTED
    assert need.channel == Channel(channel)
    assert need.submitter_id is None and need.contact.email == "caller@example.org"
    done = client.get("/staff/needs/submitted").get_data(as_text=True)
    assert need.ref in done and 'id="tracking-link"' in done and "/track/" in done
    track_url = re.search(r'href="(/track/[^"]+)"', done).group(1)
    assert client.get(track_url).status_code == 200
    # An audit row says who entered it; the receipt goes to the person.
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "need.intake"))
    assert entry.actor_id == staff.id and entry.object_id == need.ref
    assert entry.actor_role == role.value and entry.after["channel"] == channel
    assert (
        db.session.scalar(
            sa.select(sa.func.count(OutboxEmail.id)).where(
                OutboxEmail.to_address == "caller@example.org"
            )
        )
        == 1
    )
    assert (
        db.session.scalar(
            sa.select(sa.func.count(TimelineEvent.id)).where(TimelineEvent.need_id == need.id)
        )
        == 1
    )
    # The need waits in the triage queue like any other.
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(admin)
    queue = client.get("/admin/triage", query_string={"channel": channel}).get_data(as_text=True)
    assert need.ref in queue


def test_sending_the_same_form_twice_makes_one_need(client, login, category):
    login(make_user(Role.ADMIN))
    db.session.commit()
    data = _form(client, category=str(category.id))
    client.post("/staff/needs/new", data=data)
    client.post("/staff/needs/new", data=data)
    assert db.session.scalar(sa.select(sa.func.count(Need.id))) == 1


def test_the_callers_name_and_phone_reach_admins_but_never_the_public(client, login, category):
    login(make_user(Role.ADMIN))
    db.session.commit()
    data = _form(
        client, category=str(category.id), contact_name="Wang Caller", phone="+86 138 0000 1111"
    )
    assert client.post("/staff/needs/new", data=data).status_code == 303
    need = db.session.scalar(sa.select(Need))
    assert (need.contact.name, need.contact.phone) == ("Wang Caller", "+86 138 0000 1111")

    admin_page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert "Wang Caller" in admin_page and "+86 138 0000 1111" in admin_page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"channel": "web"}, "Choose how the need reached you."),
        ({"channel": "api"}, "Choose how the need reached you."),
        ({"consent": ""}, "Please confirm that the person agreed."),
        ({"title": ""}, "Please give your need a title."),
        ({"category": "0"}, "Please choose a category."),
        ({"email": "not-an-address"}, "Please enter a valid e-mail address."),
        ({"phone": "call me maybe"}, "Use digits, spaces and + - ( ) only."),
    ],
)
def test_bad_input_is_refused(client, login, category, overrides, message):
    login(make_user(Role.PARTNER))
    db.session.commit()
    data = _form(client, **{"category": str(category.id), **overrides})
    response = client.post("/staff/needs/new", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "Pine Road 12" in html  # what was typed stays
    assert db.session.scalar(sa.select(sa.func.count(Need.id))) == 0


def test_htmx_errors_swap_the_form(client, login, category):
    login(make_user(Role.ADMIN))
    db.session.commit()
    data = _form(client, category=str(category.id), consent="")
    response = client.post("/staff/needs/new", data=data, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<form id="intake-form"')


def test_the_confirmation_needs_a_fresh_entry(client, login):
    login(make_user(Role.ADMIN))
    db.session.commit()
    response = client.get("/staff/needs/submitted")
    assert response.status_code == 302 and response.headers["Location"].endswith("/staff/needs/new")
