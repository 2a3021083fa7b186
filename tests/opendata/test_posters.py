"""Printable QR posters: the code opens the need form with the category (and
place) chosen, on the public address; unknown or inactive categories are 404."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
import segno

from portal.extensions import db
from portal.opendata import posters
from tests.forms import form_for

BASE = "http://127.0.0.1:5000"


@pytest.fixture
def encoded(monkeypatch):
    """What the poster asked segno to encode."""
    seen: list[str] = []
    real = segno.make

    def make(content, **kw):
        seen.append(content)
        return real(content, **kw)

    monkeypatch.setattr(posters.segno, "make", make)
    return seen


def test_the_index_lists_active_categories(client, world):
    html = client.get("/posters").get_data(as_text=True)
    assert 'href="/posters/categories/roads"' in html
    assert 'href="/posters/categories/parks"' in html
    assert "/posters/categories/old" not in html
    assert 'href="/posters"' in client.get("/data").get_data(as_text=True)


def test_a_category_poster_encodes_the_absolute_form_address(client, world, encoded):
    response = client.get("/posters/categories/roads")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert encoded == [f"{BASE}/needs/new?category=roads"]
    assert "Tell us what you need" in html
    assert "Roads" in html
    assert '<svg viewBox="' in html
    assert f"{BASE}/needs/new?category=roads" in html
    assert "css/opendata.css" in html


def test_the_poster_speaks_the_readers_language(client, world):
    client.set_cookie("locale", "zh_CN")
    html = client.get("/posters/categories/roads").get_data(as_text=True)
    assert "道路" in html


def test_the_qr_code_is_valid_svg(client, world, encoded):
    response = client.get("/posters/categories/roads/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = ET.fromstring(response.get_data())  # noqa: S314 — our own output
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.find("{http://www.w3.org/2000/svg}path") is not None
    assert encoded == [f"{BASE}/needs/new?category=roads"]
    # The same data gives the same symbol: the file is the code of that address.
    expected = segno.make(encoded[0], error="m", micro=False)
    assert expected.designator == posters.make_qr(encoded[0]).designator


@pytest.mark.parametrize(
    "url",
    [
        "/posters/categories/nope",
        "/posters/categories/old",
        "/posters/categories/old/qr.svg",
        "/posters/place?category=old&place=Gate",
        "/posters/place?category=nope&place=Gate",
    ],
)
def test_unknown_or_inactive_categories_are_not_found(client, world, url):
    assert client.get(url).status_code == 404


def test_a_place_poster_adds_the_place(client, world, encoded):
    response = client.get("/posters/place?category=parks&place=North+Gate+%E5%8C%97%E9%97%A8")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "North Gate 北门" in html
    [url] = encoded
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE
    assert parts.path == "/needs/new"
    assert parse_qs(parts.query) == {"category": ["parks"], "place": ["North Gate 北门"]}


def test_the_place_form_makes_a_poster(client, world):
    html = client.get("/posters").get_data(as_text=True)
    form = form_for(html, "/posters/place")
    data = {**form["fields"], "category": "roads", "place": "Bus stop 12"}
    response = client.get(form["action"], query_string=data)
    assert response.status_code == 200
    assert "Bus stop 12" in response.get_data(as_text=True)


def test_place_poster_edge_cases(client, world):
    response = client.get("/posters/place")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/posters")
    response = client.get("/posters/place?category=roads&place=+")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/posters/categories/roads")
    response = client.get("/posters/place", query_string={"category": "roads", "place": "x" * 81})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "at most 80 characters" in html
    assert 'value="' + "x" * 81 + '"' in html  # what was typed stays
    assert '<option value="roads" selected>' in html


def test_the_need_form_opens_with_category_and_place_chosen(client, world):
    html = client.get("/needs/new?category=roads&place=North+Gate").get_data(as_text=True)
    assert f'<option selected value="{world.category.id}">' in html or (
        f'value="{world.category.id}" selected' in html
    )
    assert 'value="North Gate"' in html
    # The id still works too, as before.
    html = client.get(f"/needs/new?category={world.other_category.id}").get_data(as_text=True)
    assert f'<option selected value="{world.other_category.id}">' in html or (
        f'value="{world.other_category.id}" selected' in html
    )


def test_posters_run_a_constant_number_of_queries(client, world, queries):
    from tests.factories import make_category

    def count(url) -> int:
        with queries() as statements:
            assert client.get(url).status_code == 200
        return len(statements)

    few = [count("/posters"), count("/posters/categories/roads"), count("/data")]
    for _ in range(10):
        make_category()
    db.session.commit()
    assert [count("/posters"), count("/posters/categories/roads"), count("/data")] == few
