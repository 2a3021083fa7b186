"""The cascading choice of an area: a select per level that works without
JavaScript (the "Choose" button shows the next level, saving nothing) and with
htmx (/areas/choices answers the levels' fragment); on the citizen's form,
staff intake and a need's admin page (where an admin sets or changes it)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from tests.areas.conftest import audit_rows
from tests.conftest import csrf_token_from
from tests.factories import make_category, make_need, make_user
from tests.forms import form_for


@pytest.fixture
def category(app):
    category = make_category(name_en="Housing")
    db.session.commit()
    return category


def _options(html: str, select_id: str) -> list[str]:
    match = re.search(rf'<select id="{select_id}" name="area".*?</select>', html, re.S)
    assert match, f"no select #{select_id}"
    return re.findall(r'<option value="([^"]*)"', match.group(0))


def _selected(html: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)" selected>', html)


def _need_form(client, category, **overrides) -> dict:
    form = form_for(client.get("/needs/new").get_data(as_text=True), "/needs/new")
    data = form["fields"] | {
        "title": "Broken lift in building 7",
        "body": "The lift has been out of service for three weeks.",
        "category": str(category.id),
        "consent": "y",
    }
    data.update(overrides)
    return data


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count(Need.id)))


def test_without_areas_the_forms_have_no_area_choice(client, category, login):
    assert 'name="area"' not in client.get("/needs/new").get_data(as_text=True)
    assert 'name="area"' not in client.get("/needs").get_data(as_text=True)
    login(make_user(Role.ADMIN))
    db.session.commit()
    assert 'name="area"' not in client.get("/staff/needs/new").get_data(as_text=True)


def test_the_citizen_form_starts_with_the_top_level(client, city, category):
    html = client.get("/needs/new").get_data(as_text=True)
    assert '<label for="area">Area (optional)</label>' in html
    assert _options(html, "area") == ["", "310000"]
    assert 'name="area_choose"' in html  # the "Choose" button, for browsers without JavaScript
    assert 'hx-get="/areas/choices?mode=form"' in html


def test_without_javascript_choose_shows_the_next_level_and_saves_nothing(client, city, category):
    chosen = client.post(
        "/needs/new", data=_need_form(client, category, area="310000", area_choose="1")
    )
    assert chosen.status_code == 200
    html = chosen.get_data(as_text=True)
    assert _options(html, "area-1") == ["310000", "310101", "310104", "310115"]
    assert 'value="Broken lift in building 7"' in html  # what was typed stays
    assert "Please correct the marked fields." not in html
    assert _count() == 0

    # The next level: the district's streets, and "anywhere in" the district.
    data = form_for(html, "/needs/new")["fields"] | {"area": "310101", "area_choose": "1"}
    html = client.post("/needs/new", data=data).get_data(as_text=True)
    assert _options(html, "area-2") == ["310101", "310101002", "310101013"]
    assert _selected(html) == ["310000", "310101"]

    # Sent with every level, as a browser sends the selects: the deepest counts.
    data = _need_form(client, category, area=["310000", "310101", "310101013"])
    response = client.post("/needs/new", data=data)
    assert response.status_code == 303
    need = db.session.scalar(sa.select(Need))
    assert need.area_id == city.bund.id
    assert need.place == ""  # the free-text place is its own field


def test_a_district_as_a_whole_and_a_left_over_street_are_read_right(client, city, category):
    # "Anywhere in Huangpu" on the street level sends Huangpu's own code.
    data = _need_form(client, category, area=["310000", "310101", "310101"])
    assert client.post("/needs/new", data=data).status_code == 303
    # The district changed to Xuhui without JavaScript: the Huangpu street is ignored.
    data = _need_form(client, category, area=["310000", "310104", "310101013"])
    assert client.post("/needs/new", data=data).status_code == 303
    areas = list(db.session.scalars(sa.select(Need.area_id).order_by(Need.id)))
    assert areas == [city.huangpu.id, city.xuhui.id]


def test_the_area_is_optional_and_an_unknown_one_is_refused(client, city, category):
    assert client.post("/needs/new", data=_need_form(client, category)).status_code == 303
    assert db.session.scalar(sa.select(Need.area_id)) is None

    response = client.post("/needs/new", data=_need_form(client, category, area="nowhere"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Please choose an area from the list." in html
    assert 'value="Broken lift in building 7"' in html
    assert _count() == 1


def test_with_htmx_choosing_a_level_loads_the_next(client, city):
    response = client.get("/areas/choices?mode=form&area=310101", headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="area-levels" id="area-levels">')
    assert _options(html, "area") == ["", "310000"]
    assert _options(html, "area-2") == ["310101", "310101002", "310101013"]
    assert "Anywhere in Huangpu" in html and 'name="area_choose"' in html
    assert "HX-Request" in response.headers["Vary"]
    # ?parent=CODE names the same thing; a filter says "all of" instead.
    same = client.get(
        "/areas/choices?mode=filter&parent=310101", headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "All of Huangpu" in same and 'name="area_choose"' not in same


def test_the_choices_url_is_a_page_without_htmx(client, city):
    html = client.get("/areas/choices?area=310104").get_data(as_text=True)
    assert "<html" in html and "<h1>Areas</h1>" in html
    assert 'href="/needs?area=310104"' in html
    assert 'href="/transparency?area=310104"' in html
    unknown = client.get("/areas/choices?area=nowhere").get_data(as_text=True)
    assert "No area has this code." in unknown


def test_staff_intake_takes_an_area(client, login, city, category):
    login(make_user(Role.PARTNER))
    db.session.commit()
    html = client.get("/staff/needs/new").get_data(as_text=True)
    data = form_for(html, "/staff/needs/new")["fields"] | {
        "channel": "phone",
        "title": "Streetlight out",
        "body": "The caller says it has been dark for a week.",
        "category": str(category.id),
        "consent": "y",
    }
    chosen = client.post("/staff/needs/new", data=data | {"area": "310104", "area_choose": "1"})
    assert chosen.status_code == 200
    page = chosen.get_data(as_text=True)
    assert _options(page, "area-2") == ["310104", "310104003"]
    assert "Please correct the marked fields." not in page
    assert _count() == 0
    response = client.post("/staff/needs/new", data=data | {"area": "310104003"})
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Need.area_id)) == city.tianping.id


# --- on the admin page of a need ---------------------------------------------------


@pytest.fixture
def need(city, category):
    need, _ = make_need(NeedStatus.OPEN, category=category)
    db.session.commit()
    return need


def test_the_admin_page_of_a_need_shows_its_area_form(client, admin, need):
    html = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert '<div class="triage-action need-area" id="need-area">' in html
    assert "No area yet." in html
    assert f'action="/admin/needs/{need.ref}/area"' in html
    assert _options(html, "area") == ["", "310000"]


def test_an_admin_sets_the_area_with_an_audit_row(client, admin, post, need, city):
    response = post(f"/admin/needs/{need.ref}/area", {"area": ["310000", "310101", "310101013"]})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/needs/{need.ref}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The area is saved." in page
    assert "Shanghai › Huangpu › The Bund" in page
    db.session.expire_all()
    assert db.session.get(Need, need.id).area_id == city.bund.id
    (row,) = audit_rows("need.area")
    assert row.actor_id == admin.id and row.object_id == need.ref
    assert (row.before, row.after) == ({"area": None}, {"area": "310101013"})

    again = post(f"/admin/needs/{need.ref}/area", {"area": "310101013"})
    assert again.status_code == 422
    assert "The need is already in this area." in again.get_data(as_text=True)
    assert len(audit_rows("need.area")) == 1


def test_with_htmx_the_area_form_answers_its_fragment(client, admin, post, need, city):
    response = post(f"/admin/needs/{need.ref}/area", {"area": "310104"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="triage-action need-area"')
    assert "The area is saved." in html and "Shanghai › Xuhui" in html
    refused = post(f"/admin/needs/{need.ref}/area", {"area": "nowhere"}, htmx=True)
    assert refused.status_code == 200
    assert "Please choose an area from the list." in refused.get_data(as_text=True)


def test_without_javascript_the_admin_chooses_level_by_level(client, admin, post, need):
    response = post(f"/admin/needs/{need.ref}/area", {"area": "310115", "area_choose": "1"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<html" in html and need.title in html
    assert _selected(html) == ["310000", "310115"]
    db.session.expire_all()
    assert db.session.get(Need, need.id).area_id is None
    assert audit_rows("need.area") == []
    assert client.get(f"/admin/needs/{need.ref}/area").status_code == 200


def test_a_need_with_a_partner_keeps_an_area(client, admin, post, city, category):
    need, _ = make_need(NeedStatus.ROUTED, category=category, area=city.pudong)
    db.session.commit()
    response = post(f"/admin/needs/{need.ref}/area", {"area": ""})
    assert response.status_code == 422
    assert "A need with a partner keeps an area" in response.get_data(as_text=True)
    assert post(f"/admin/needs/{need.ref}/area", {"area": "310104003"}).status_code == 303


@pytest.mark.parametrize("role", [Role.MEMBER, Role.PARTNER])
def test_only_admins_set_a_need_area(client, login, need, role):
    login(make_user(role))
    db.session.commit()
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    assert client.get(f"/admin/needs/{need.ref}/area").status_code == 403
    response = client.post(
        f"/admin/needs/{need.ref}/area", data={"csrf_token": token, "area": "310000"}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Need, need.id).area_id is None


def test_an_unknown_need_is_404(client, admin, city):
    assert client.get("/admin/needs/N-2026-999999/area").status_code == 404


def test_a_closed_need_keeps_its_area(client, admin, post, city, category):
    need, _ = make_need(NeedStatus.CLOSED, category=category, area=city.pudong)
    db.session.commit()
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert "Shanghai › Pudong" in page
    assert f'action="/admin/needs/{need.ref}/area"' not in page  # nothing to change
    response = post(f"/admin/needs/{need.ref}/area", {"area": "310104"})
    assert response.status_code == 422
    assert "This need can no longer be edited." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Need, need.id).area_id == city.pudong.id


def test_a_changed_choice_tells_the_page(client, city):
    """The need form's hint listens for it to ask again with the new area."""
    fragment = client.get("/areas/choices?area=310101", headers={"HX-Request": "true"})
    assert fragment.headers["HX-Trigger"] == "area-changed"
    assert "HX-Trigger" not in client.get("/areas/choices?area=310101").headers
