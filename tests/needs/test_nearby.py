"""The hint of the need form: while the citizen writes, open published needs
within about 500 m of the pin are listed ("support this instead"), beside the
needs with a similar title; decided on public points, in constant queries."""

from __future__ import annotations

import re

import pytest

from portal.extensions import db
from portal.needs.models import NeedStatus
from tests.factories import make_area, make_category, make_need

HERE = (39.9042, 116.4074)


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def _need(title, lat, lon, status=NeedStatus.OPEN, category=None):
    need, _ = make_need(status, title=title, category=category)
    need.lat, need.lon = lat, lon
    return need


@pytest.fixture
def street(app):
    roads = make_category(name_en="Roads")
    needs = {
        "near": _need("Pothole by the school gate", 39.9060, 116.4074, category=roads),  # 200 m
        "routed": _need("Bus stop without shelter", 39.9042, 116.4100, NeedStatus.ROUTED),  # 220 m
        "far": _need("Dark underpass", 39.9142, 116.4074, category=roads),  # 1.1 km
        "resolved": _need("Bench repaired", 39.9043, 116.4075, NeedStatus.RESOLVED),
        "unpublished": _need("Noise at night", 39.9043, 116.4075, NeedStatus.SUBMITTED),
        "nowhere": _need("Broken lamp somewhere", None, None, category=roads),
        # 497 m away, but its public point is 534 m away: not near.
        "edge": _need("Fallen tree", 39.908669, 116.4074, category=roads),
    }
    db.session.commit()
    return needs


def _hint(client, title="", lat=HERE[0], lon=HERE[1], htmx=True):
    query = {"title": title}
    if lat is not None:
        query.update(lat=str(lat), lon=str(lon))
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get("/needs/similar", query_string=query, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _nearby_titles(page: str) -> list[str]:
    part = page.split('id="nearby"', 1)[1] if 'id="nearby"' in page else page
    return re.findall(r'target="_blank" rel="noopener">([^<]+)</a>', part)


def test_open_needs_near_the_pin_are_listed_nearest_first(client, street):
    page = _hint(client)
    assert "Open needs near this position" in page
    assert _nearby_titles(page) == ["Pothole by the school gate", "Bus stop without shelter"]
    for title in ("Dark underpass", "Bench repaired", "Noise at night", "Fallen tree"):
        assert title not in page


def test_the_nearby_list_is_sent_out_of_band_under_the_map(client, street):
    page = _hint(client)
    assert '<div id="nearby" aria-live="polite" hx-swap-oob="true">' in page
    # On the page of its own (a pushed URL, or no JavaScript) it is in place.
    full = _hint(client, htmx=False)
    assert "hx-swap-oob" not in full and "Pothole by the school gate" in full
    assert 'value="39.9042"' in full


def test_a_need_with_a_similar_title_is_listed_once(client, street):
    page = _hint(client, title="Pothole near the school")
    assert page.count("Pothole by the school gate") == 1
    assert _nearby_titles(page) == ["Bus stop without shelter"]


def test_without_a_pin_or_with_a_wrong_one_nothing_nearby_is_listed(client, street):
    for lat, lon in [(None, None), ("95", "116.4"), ("39.9", "nan"), ("39.9", "")]:
        page = _hint(client, lat=lat, lon=lon)
        assert "Open needs near this position" not in page, (lat, lon)


def test_at_most_five_are_listed(client, app):
    for i in range(7):
        _need(f"Crack number {i}", 39.9042 + i * 0.0002, 116.4074)
    db.session.commit()
    assert len(_nearby_titles(_hint(client))) == 5


def test_the_hint_is_answered_in_the_same_number_of_queries_for_1_or_12_needs(client, app, queries):
    def count() -> int:
        with queries() as statements:
            _hint(client, title="Crack in the road")
        return len(statements)

    _need("Crack in the road", 39.9043, 116.4074)
    db.session.commit()
    one = count()
    for i in range(11):
        _need(f"Crack in the road {i}", 39.9042 + i * 0.0001, 116.4074)
    db.session.commit()
    assert count() == one


def test_the_form_asks_for_the_hint_when_the_pin_or_the_area_changes(client, app):
    page = client.get("/needs/new").get_data(as_text=True)
    assert (
        'hx-trigger="input delay:400ms from:#title, change from:#lat, change from:#lon, '
        'area-changed from:body"'
    ) in page
    assert "hx-include=\"#title, #lat, #lon, [name='area']\"" in page
    assert '<div id="nearby" aria-live="polite"></div>' in page


def test_the_hint_lists_the_chosen_areas_open_needs_and_suggests_the_pins_area(client):
    city = make_area("110000", name_en="Beijing", lat=39.9042, lon=116.4074)
    district = make_area("110101", city, name_en="Dongcheng", lat=39.9288, lon=116.4160)
    make_area("110102", city, name_en="Xicheng", lat=39.9123, lon=116.3660)
    bench, _ = make_need(NeedStatus.OPEN, title="Broken bench by the lake", area=district)
    make_need(NeedStatus.OPEN, title="Loose paving in another district")
    db.session.commit()
    # The area chosen level by level: its open needs, and no suggestion.
    html = client.get("/needs/similar?title=zzzz&area=110000&area=110101").text
    assert "Broken bench by the lake" in html and "Loose paving" not in html
    assert "This position lies in" not in html
    # A pin without an area: the area with the nearest centre is suggested.
    html = client.get("/needs/similar?title=zzzz&lat=39.9280&lon=116.4150").text
    assert "This position lies in Dongcheng." in html
    # Far from every centre: no suggestion.
    html = client.get("/needs/similar?title=zzzz&lat=31.2304&lon=121.4737").text
    assert "This position lies in" not in html
