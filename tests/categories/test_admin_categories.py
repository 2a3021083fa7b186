"""Categories: codes, names, time limits and the default partner."""

from __future__ import annotations

import sqlalchemy as sa

from portal.categories.models import Category
from portal.extensions import db
from tests.conftest import audit_rows
from tests.factories import make_category, make_organisation

NEW = {
    "code": "street-lights",
    "name_zh": "路灯",
    "name_en": "Street lights",
    "description_zh": "",
    "description_en": "Broken or missing lights.",
    "response_sla_days": "2",
    "resolution_sla_days": "10",
    "default_partner": "0",
    "position": "5",
    "is_active": "y",
}


def _categories() -> list[Category]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Category).order_by(Category.id)))


def test_an_admin_creates_a_category(client, admin, post):
    partner = make_organisation(name_en="City works")
    db.session.commit()
    assert "City works" in client.get("/admin/categories/new").get_data(as_text=True)
    response = post("/admin/categories/new", {**NEW, "default_partner": str(partner.id)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/categories")
    [category] = _categories()
    assert category.code == "street-lights"
    assert (category.response_sla_days, category.resolution_sla_days) == (2, 10)
    assert category.default_partner_id == partner.id
    page = client.get("/admin/categories").get_data(as_text=True)
    assert "Street lights" in page and "City works" in page
    [row] = audit_rows("category.create")
    assert row.object_id == str(category.id)
    assert row.after["code"] == "street-lights"
    assert row.after["default_partner_id"] == partner.id


def test_a_duplicate_code_is_refused(client, admin, post):
    make_category(code="street-lights")
    db.session.commit()
    response = post("/admin/categories/new", NEW)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Another category already uses this code." in page
    assert 'value="Street lights"' in page
    assert len(_categories()) == 1
    assert audit_rows() == []


def test_resolution_cannot_come_before_the_first_response(client, admin, post):
    response = post(
        "/admin/categories/new", {**NEW, "response_sla_days": "5", "resolution_sla_days": "3"}
    )
    assert response.status_code == 422
    assert (
        "The time to resolution cannot be shorter than the time to first response."
        in response.get_data(as_text=True)
    )
    assert _categories() == []


def test_bad_codes_and_numbers_are_refused(client, admin, post):
    for data, message in [
        ({"code": "Street lights!"}, "Only lower-case letters, digits, - and _ please."),
        ({"code": ""}, "Please give a code."),
        ({"response_sla_days": "0"}, "Between 1 and 365 days."),
        ({"resolution_sla_days": "many"}, "Please give a whole number."),
        ({"position": ""}, "Please give a number."),
        ({"name_zh": ""}, "Please give the Chinese name."),
    ]:
        response = post("/admin/categories/new", {**NEW, **data})
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    assert _categories() == []


def test_editing_a_category_audits_the_change(client, admin, post):
    partner = make_organisation()
    category = make_category(code="parks", response_sla_days=3, resolution_sla_days=15)
    db.session.commit()
    page = client.get(f"/admin/categories/{category.id}").get_data(as_text=True)
    assert 'value="parks"' in page
    data = {
        "code": "parks",
        "name_zh": category.name_zh,
        "name_en": category.name_en,
        "response_sla_days": "1",
        "resolution_sla_days": "15",
        "default_partner": str(partner.id),
        "position": "0",
        "is_active": "y",
    }
    assert post(f"/admin/categories/{category.id}", data).status_code == 303
    [category] = _categories()
    assert category.response_sla_days == 1
    assert category.default_partner_id == partner.id
    [row] = audit_rows("category.update")
    assert row.before == {"response_sla_days": 3, "default_partner_id": None}
    assert row.after == {"response_sla_days": 1, "default_partner_id": partner.id}

    # Unticking "active" is a change too; the own code is not a duplicate.
    data.pop("is_active")
    assert post(f"/admin/categories/{category.id}", data).status_code == 303
    assert _categories()[0].is_active is False
    assert audit_rows("category.update")[-1].after == {"is_active": False}


def test_htmx_gets_the_category_form_back_with_200(client, admin, post):
    category = make_category(code="a")
    make_category(code="b")
    db.session.commit()
    response = post(f"/admin/categories/{category.id}", {**NEW, "code": "b"}, htmx=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<form id="category-form"')
    assert "Another category already uses this code." in page
    assert _categories()[0].code == "a"


def test_an_unknown_category_is_404(client, admin):
    assert client.get("/admin/categories/999").status_code == 404
