"""Who sees which point of a need: the public the point rounded to about 100 m
(need page, open data, feeds, Open311), admins and the partner the need is
assigned to the exact one."""

from __future__ import annotations

import csv
import io
import json

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.triage.services import transfer_need
from tests.factories import make_category, make_need, make_organisation, make_user

EXACT = (39.9042468, 116.4073872)
DIGITS = ("9042468", "4073872")  # the decimals that only the exact point has
ROUNDED = "39.904, 116.407"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def partner():
    organisation = make_organisation(name_en="Works office")
    return organisation, make_user(Role.PARTNER, organisation)


@pytest.fixture
def need(app, partner):
    roads = make_category(code="roads", name_en="Roads")
    need, _ = make_need(NeedStatus.ROUTED, category=roads, partner=partner[0], title="Dark lamp")
    need.lat, need.lon = EXACT
    db.session.commit()
    return need


def _exact_in(text: str) -> bool:
    return any(digits in text for digits in DIGITS)


def test_the_public_need_page_shows_the_point_rounded(client, need):
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert f'Position (within about 100 m): <span class="point-text">{ROUNDED}</span>' in page
    assert not _exact_in(page)


def test_with_a_map_the_public_page_draws_an_area_not_a_pin(client, app, need):
    app.config["MAP_TILE_URL"] = "https://tiles.example.org/{z}/{x}/{y}.png"
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert 'data-point="39.904,116.407"' in page and 'data-approximate="yes"' in page
    assert not _exact_in(page)


def test_a_need_without_a_point_shows_none(client, app, need):
    need.lat = need.lon = None
    db.session.commit()
    assert "Position (within about 100 m)" not in client.get(f"/needs/{need.ref}").get_data(
        as_text=True
    )


def test_open_data_carries_the_rounded_point(client, need):
    rows = list(csv.DictReader(io.StringIO(client.get("/data/needs.csv").get_data(as_text=True))))
    assert (rows[0]["lat"], rows[0]["lon"]) == ("39.904", "116.407")
    data = json.loads(client.get("/data/needs.json").get_data(as_text=True))
    item = data[0] if isinstance(data, list) else data["needs"][0]
    assert (item["lat"], item["lon"]) == (39.904, 116.407)
    for path in ("/data/needs.csv", "/data/needs.json", "/data"):
        assert not _exact_in(client.get(path).get_data(as_text=True)), path


def test_the_feeds_carry_the_rounded_point(client, need):
    for path in ("/feeds/needs.atom", "/feeds/categories/roads.atom"):
        feed = client.get(path).get_data(as_text=True)
        assert "<georss:point>39.904 116.407</georss:point>" in feed, path
        assert not _exact_in(feed), path


def test_open311_answers_the_rounded_point(client, need):
    body = client.get(f"/open311/v2/requests/{need.ref}.json").get_json()
    assert (body[0]["lat"], body[0]["long"]) == (39.904, 116.407)
    for path in (f"/open311/v2/requests/{need.ref}.xml", "/open311/v2/requests.json"):
        assert not _exact_in(client.get(path).get_data(as_text=True)), path


def test_the_admin_sees_the_exact_point(client, login, need):
    login(make_user(Role.ADMIN))
    db.session.commit()
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert 'Exact position: <span class="point-text">39.904247, 116.407387</span>' in page
    assert 'value="39.9042468"' in page  # the form to correct it starts from it


def test_the_assigned_partner_sees_the_exact_point_a_proposed_one_the_rounded(
    client, login, need, partner
):
    login(partner[1])
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert 'Exact position: <span class="point-text">39.904247, 116.407387</span>' in page

    other = make_organisation(name_en="District office")
    staff = make_user(Role.PARTNER, other)
    transfer_need(need, make_user(Role.ADMIN), other, reason="Their district.", due_at=None)
    db.session.commit()
    login(staff)
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert f'Position (within about 100 m): <span class="point-text">{ROUNDED}</span>' in page
    assert not _exact_in(page)
