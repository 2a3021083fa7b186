"""The optional pin of a need on the web form and at staff intake: stored when
given, refused with a clear error (and nothing saved) when wrong; the map only
with a tile URL, its tile host then the one image host the CSP adds."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.auth.models import Role
from portal.config import TestConfig
from portal.core.maps import MapSettingsError, tile_origin
from portal.extensions import db
from portal.needs.models import Channel, Need, NeedContact
from portal.workflow.models import TimelineEvent
from tests.factories import make_category, make_user
from tests.forms import form_for

TILES = "https://tiles.example.org/{z}/{x}/{y}.png"


@pytest.fixture
def category(app):
    category = make_category(name_zh="道路交通", name_en="Roads")
    db.session.commit()
    return category


@pytest.fixture
def english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def tiles(app):
    """A tile URL for this test (put back after it)."""
    app.config.update(MAP_TILE_URL=TILES, MAP_TILE_ATTRIBUTION="© Tile Co. <b>", MAP_ZOOM=13)


def _form(category, csrf, /, **overrides) -> dict:
    data = {
        "csrf_token": csrf,
        "idempotency_key": secrets.token_hex(16),
        "title": "Broken street light",
        "body": "The light at the corner is dark every night.",
        "category": str(category.id),
        "place": "",
        "lat": "39.904211",
        "lon": "116.407395",
        "email": "",
        "consent": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_pin_of_the_web_form_is_stored_exactly(client, category, csrf_token):
    response = client.post("/needs/new", data=_form(category, csrf_token()))
    assert response.status_code == 303
    need = db.session.scalar(sa.select(Need))
    assert (need.lat, need.lon) == (39.904211, 116.407395)


def test_the_position_is_optional(client, category, csrf_token):
    response = client.post("/needs/new", data=_form(category, csrf_token(), lat="", lon=""))
    assert response.status_code == 303
    need = db.session.scalar(sa.select(Need))
    assert (need.lat, need.lon) == (None, None)


BAD_POSITIONS = [
    ({"lat": "91"}, "The latitude must be a number from -90 to 90."),
    ({"lat": "nan"}, "The latitude must be a number from -90 to 90."),
    ({"lat": "north"}, "The latitude must be a number from -90 to 90."),
    ({"lon": "-180.01"}, "The longitude must be a number from -180 to 180."),
    ({"lon": "1e3"}, "The longitude must be a number from -180 to 180."),
    ({"lon": ""}, "Please give both the latitude and the longitude, or neither."),
    ({"lat": ""}, "Please give both the latitude and the longitude, or neither."),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_POSITIONS)
def test_a_wrong_position_is_refused_and_nothing_saved(
    client, category, csrf_token, english, overrides, message
):
    response = client.post("/needs/new", data=_form(category, csrf_token(), **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert _count(Need) == 0 and _count(TimelineEvent) == 0 and _count(NeedContact) == 0
    # The form comes back with what was typed, the coordinates open to correct.
    assert 'value="Broken street light"' in page
    typed = overrides.get("lat", overrides.get("lon"))
    if typed:
        assert f'value="{typed}"' in page
    assert '<details class="coordinates" open>' in page


def test_an_htmx_post_with_a_wrong_position_is_swapped_with_200(
    client, category, csrf_token, english
):
    response = client.post(
        "/needs/new", data=_form(category, csrf_token(), lat="95"), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "The latitude must be a number from -90 to 90." in response.get_data(as_text=True)
    assert _count(Need) == 0


def test_without_a_tile_url_the_form_has_coordinates_but_no_map(client, category, english):
    page = client.get("/needs/new").get_data(as_text=True)
    assert "data-map-picker" not in page and "map.js" not in page and "leaflet" not in page
    # The coordinates are two plain inputs, in the form the page posts.
    form = form_for(page, "/needs/new")
    assert {"lat", "lon"} <= set(form["fields"])
    assert "Enter coordinates" in page
    csp = client.get("/needs/new").headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:;" in csp


def test_with_a_tile_url_the_form_offers_the_map(client, category, english, tiles):
    response = client.get("/needs/new")
    page = response.get_data(as_text=True)
    assert "data-map-picker hidden" in page  # shown by map.js, never without it
    assert 'data-tile-url="https://tiles.example.org/{z}/{x}/{y}.png"' in page
    assert 'data-attribution="© Tile Co. &lt;b&gt;"' in page
    assert 'data-zoom="13"' in page and 'data-max-zoom="18"' in page
    assert 'data-center="39.9042,116.4074"' in page
    assert 'data-leaflet-js="/static/vendor/leaflet/leaflet.js"' in page
    assert '<script src="/static/js/map.js" defer></script>' in page
    assert "Use my location" in page
    csp = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://tiles.example.org;" in csp
    assert "script-src 'self';" in csp and "connect-src 'self';" in csp
    # The map's own files are the portal's.
    for path in ("/static/js/map.js", "/static/vendor/leaflet/leaflet.js"):
        static = client.get(path)
        assert static.status_code == 200
        static.close()


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("", ""),
        ("/tiles/{z}/{x}/{y}.png", ""),
        ("https://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org"),
        ("http://127.0.0.1:8081/{z}/{x}/{y}.png", "http://127.0.0.1:8081"),
        ("https://{s}.tiles.example.org/{z}/{x}/{y}.png?key=k", "https://*.tiles.example.org"),
    ],
)
def test_the_csp_names_the_tile_host(url, origin):
    assert tile_origin(url) == origin


@pytest.mark.parametrize(
    "settings",
    [
        {"MAP_TILE_URL": "javascript:alert(1)"},
        {"MAP_TILE_URL": "https://tile{s}.example.org/{z}/{x}/{y}.png"},
        {"MAP_TILE_URL": "//tiles.example.org/{z}/{x}/{y}.png"},
        {"MAP_TILE_URL": TILES, "MAP_CENTER": "Beijing"},
        {"MAP_TILE_URL": TILES, "MAP_CENTER": "91,116"},
        {"MAP_TILE_URL": TILES, "MAP_MAX_ZOOM": 30},
        {"MAP_TILE_URL": TILES, "MAP_ZOOM": 19},
    ],
)
def test_a_wrong_map_setting_stops_the_app(migrated, settings):
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    with pytest.raises(MapSettingsError):
        create_app({**config, "SQLALCHEMY_DATABASE_URI": migrated, **settings})


# --- staff intake ----------------------------------------------------------------


def test_staff_enter_the_position_of_a_phoned_in_need(client, category, login, english):
    login(make_user(Role.ADMIN))
    db.session.commit()
    page = client.get("/staff/needs/new").get_data(as_text=True)
    form = form_for(page, "/staff/needs/new")
    assert {"lat", "lon"} <= set(form["fields"])
    data = {
        **form["fields"],
        "title": "No light at the bus stop",
        "body": "The caller says the stop is dark since Monday.",
        "category": str(category.id),
        "channel": Channel.PHONE.value,
        "lat": "39.9",
        "lon": "116.4",
        "consent": "y",
    }
    assert client.post("/staff/needs/new", data=data).status_code == 303
    need = db.session.scalar(sa.select(Need))
    assert (need.lat, need.lon, need.channel) == (39.9, 116.4, Channel.PHONE)


def test_intake_refuses_half_a_position(client, category, login, english):
    login(make_user(Role.ADMIN))
    db.session.commit()
    form = form_for(client.get("/staff/needs/new").get_data(as_text=True), "/staff/needs/new")
    data = {
        **form["fields"],
        "title": "No light at the bus stop",
        "body": "The caller says the stop is dark since Monday.",
        "category": str(category.id),
        "lat": "39.9",
        "lon": "",
        "consent": "y",
    }
    response = client.post("/staff/needs/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please give both the latitude and the longitude, or neither." in page
    assert 'value="39.9"' in page
    assert _count(Need) == 0
