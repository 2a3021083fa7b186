"""The admin pages of the tree: who may open them, listing one parent's areas
a page at a time, adding and editing (with audit rows)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.areas.models import Area
from portal.auth.models import Role
from portal.extensions import db
from tests.areas.conftest import audit_rows
from tests.conftest import csrf_token_from
from tests.factories import make_area, make_user
from tests.forms import form_for

PAGES = ["/admin/areas", "/admin/areas?parent=310000", "/admin/areas/new", "/admin/areas/import"]


@pytest.mark.parametrize("role", [None, Role.MEMBER, Role.PARTNER, Role.ADMIN])
def test_only_admins_open_the_area_pages(client, login, city, role):
    if role is not None:
        login(make_user(role))
        db.session.commit()
    urls = [*PAGES, f"/admin/areas/{city.huangpu.id}"]
    for url in urls:
        response = client.get(url)
        if role is None:
            assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
        elif role == Role.ADMIN:
            assert response.status_code == 200, url
        else:
            assert response.status_code == 403, url
    if role not in (None, Role.ADMIN):
        token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
        for url in ["/admin/areas/new", f"/admin/areas/{city.huangpu.id}", "/admin/areas/import"]:
            assert client.post(url, data={"csrf_token": token}).status_code == 403


def test_the_list_shows_one_level_with_its_trail_and_counts(client, admin, city):
    from tests.factories import make_need

    make_need(area=city.nanjing_road)
    db.session.commit()
    top = client.get("/admin/areas").get_data(as_text=True)
    assert "Shanghai" in top and "Huangpu" not in top
    assert "3 sub-areas" in top

    html = client.get("/admin/areas?parent=310101").get_data(as_text=True)
    assert "East Nanjing Road" in html and "The Bund" in html and "Xuhui" not in html
    assert 'href="/admin/areas?parent=310000"' in html  # the trail back up
    assert "1 need" in html
    assert client.get("/admin/areas?parent=nowhere").status_code == 404


def test_the_admin_navigation_links_the_areas(client, admin):
    html = client.get("/admin/categories").get_data(as_text=True)
    assert 'href="/admin/areas"' in html


def test_the_list_is_paged_with_a_constant_number_of_queries(client, admin, queries):
    city = make_area("C")
    for n in range(5):
        make_area(f"D{n}", city)
    db.session.commit()
    with queries() as small:
        assert client.get("/admin/areas?parent=C").status_code == 200
    for n in range(5, 60):
        make_area(f"D{n:02d}", city)
    db.session.commit()
    with queries() as large:
        page = client.get("/admin/areas?parent=C").get_data(as_text=True)
    assert len(small) == len(large)
    assert page.count('class="card admin-row area-row"') == 50
    second = client.get("/admin/areas?parent=C&page=2").get_data(as_text=True)
    assert second.count('class="card admin-row area-row"') == 10
    assert client.get("/admin/areas?parent=C&page=99999999999").status_code == 200


def test_an_admin_adds_an_area_under_a_parent(client, admin, city):
    html = client.get("/admin/areas/new?parent=310101").get_data(as_text=True)
    form = form_for(html, "/admin/areas/new")
    assert form["fields"]["parent_code"] == "310101"
    data = form["fields"] | {
        "code": "310101015",
        "name_zh": "豫园街道",
        "name_en": "Yuyuan",
        "lat": "31.2272",
        "lon": "121.4920",
    }
    response = client.post("/admin/areas/new", data=data)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/areas?parent=310101")
    area = db.session.scalar(sa.select(Area).where(Area.code == "310101015"))
    assert area.parent_id == city.huangpu.id and area.depth == 2 and area.lat == 31.2272
    (row,) = [r for r in audit_rows("area.create") if r.actor_id == admin.id]
    assert row.after["parent"] == "310101"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": ""}, "Please give a code."),
        ({"code": "a b"}, "Only letters, digits, . - and _ please."),
        ({"code": "310101"}, "Another area already uses this code."),
        ({"name_zh": ""}, "Please give the Chinese name."),
        ({"parent_code": "nowhere"}, "No area has this code."),
        ({"lat": "31.2"}, "Give both the latitude and the longitude, or neither."),
        ({"lat": "NaN", "lon": "1"}, "Please give a number, e.g. 31.2304."),
        ({"lat": "95", "lon": "1"}, "Between -90 and 90."),
        ({"position": "-1"}, "A whole number between 0 and 10000, please."),
    ],
)
def test_bad_input_keeps_the_form_and_saves_nothing(client, admin, city, changes, message):
    html = client.get("/admin/areas/new").get_data(as_text=True)
    data = form_for(html, "/admin/areas/new")["fields"] | {
        "code": "NEW",
        "name_zh": "新区",
        "parent_code": "310000",
        **changes,
    }
    response = client.post("/admin/areas/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'value="新区"' in page or changes.get("name_zh") == ""
    assert db.session.scalar(sa.select(Area).where(Area.code == "NEW")) is None


def test_an_admin_edits_and_moves_an_area(client, admin, city):
    url = f"/admin/areas/{city.pudong.id}"
    form = form_for(client.get(url).get_data(as_text=True), url)
    assert form["fields"]["code"] == "310115" and form["fields"]["parent_code"] == "310000"
    response = client.post(url, data=form["fields"] | {"name_en": "Pudong New Area"})
    assert response.status_code == 303
    (row,) = audit_rows("area.update")
    assert row.before == {"name_en": "Pudong"} and row.after == {"name_en": "Pudong New Area"}

    url = f"/admin/areas/{city.huangpu.id}"
    form = form_for(client.get(url).get_data(as_text=True), url)
    refused = client.post(url, data=form["fields"] | {"parent_code": "310101013"})
    assert refused.status_code == 422
    assert "An area cannot be placed under itself" in refused.get_data(as_text=True)
    moved = client.post(url, data=form["fields"] | {"parent_code": "310104"})
    assert moved.status_code == 303
    db.session.expire_all()
    assert db.session.get(Area, city.bund.id).depth == 3


def test_an_unknown_area_is_404(client, admin):
    assert client.get("/admin/areas/999").status_code == 404
