"""The organisations' hierarchy (issue 14, item 4): a city federation above its
district unions, above their street unions. The paths stay right when an
organisation is created or moved, and a cycle is refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.partners import hierarchy
from portal.partners.models import Organisation
from tests.conftest import audit_rows
from tests.factories import make_organisation
from tests.forms import form_for


def _paths() -> dict[str, str]:
    db.session.expire_all()
    return {o.name_en: o.path for o in db.session.scalars(sa.select(Organisation))}


# --- the tree and its paths -------------------------------------------------------


def test_paths_are_set_on_creation_and_rewritten_for_the_subtree_on_a_move(app):
    city = make_organisation(name_en="City")
    district = make_organisation(name_en="District", parent=city)
    street = make_organisation(name_en="Street", parent=district)
    other = make_organisation(name_en="Other city")
    assert _paths() == {
        "City": f"/{city.id}/",
        "District": f"/{city.id}/{district.id}/",
        "Street": f"/{city.id}/{district.id}/{street.id}/",
        "Other city": f"/{other.id}/",
    }

    assert hierarchy.move_organisation(district, other)
    db.session.flush()
    assert _paths() == {
        "City": f"/{city.id}/",
        "District": f"/{other.id}/{district.id}/",
        "Street": f"/{other.id}/{district.id}/{street.id}/",
        "Other city": f"/{other.id}/",
    }
    assert not hierarchy.move_organisation(district, other)  # already there

    hierarchy.move_organisation(district, None)  # to the top
    db.session.flush()
    assert _paths()["Street"] == f"/{district.id}/{street.id}/"
    assert fresh_org(district).parent_id is None


def fresh_org(org: Organisation) -> Organisation:
    db.session.expire_all()
    return db.session.get(Organisation, org.id)


def test_the_subtree_is_one_range_of_paths(app):
    city = make_organisation()
    district = make_organisation(parent=city)
    street = make_organisation(parent=district)
    make_organisation()  # elsewhere
    # Ids 1 and 10 share a first digit: the range must not mix "/1/" and "/10/".
    for _ in range(8):
        make_organisation()
    ten = make_organisation(parent=city)
    assert ten.id >= 10
    ids = set(db.session.scalars(hierarchy.subtree_ids(city.path)))
    assert ids == {city.id, district.id, street.id, ten.id}
    strict = set(db.session.scalars(hierarchy.subtree_ids(district.path, strict=True)))
    assert strict == {street.id}


def test_an_organisation_cannot_go_under_itself_or_one_below_it(app):
    city = make_organisation()
    district = make_organisation(parent=city)
    street = make_organisation(parent=district)
    for parent in (city, district, street):
        with pytest.raises(hierarchy.HierarchyError, match="cannot be placed under itself"):
            hierarchy.move_organisation(city, parent)
    assert _paths()[city.name_en] == f"/{city.id}/"


def test_the_tree_has_a_bounded_depth(app):
    chain = [make_organisation()]
    for _ in range(hierarchy.MAX_DEPTH - 2):
        chain.append(make_organisation(parent=chain[-1]))
    top, leaf = make_organisation(), make_organisation()
    assert hierarchy.move_organisation(leaf, chain[-1])  # the last level allowed
    with pytest.raises(hierarchy.HierarchyError, match="at most 6 levels"):
        hierarchy.move_organisation(chain[0], top)  # its subtree would go one deeper
    with pytest.raises(hierarchy.HierarchyError):
        hierarchy.move_organisation(top, leaf)
    assert len(leaf.lineage_ids) == hierarchy.MAX_DEPTH


# --- the admins place an organisation ------------------------------------------------


PARTNER_FORM = {"name_zh": "区总工会", "name_en": "District", "kind": "union", "is_active": "y"}


def test_an_admin_places_an_organisation_under_another_with_an_audit_row(client, admin, post):
    city = make_organisation(name_en="City federation")
    district = make_organisation(name_zh="区总工会", name_en="District", kind="union")
    street = make_organisation(name_en="Street union", parent=district)
    db.session.commit()

    page = client.get(f"/admin/partners/{district.id}").get_data(as_text=True)
    form = form_for(page, f"/admin/partners/{district.id}")
    # Not itself, nor one under it; the others by their way down.
    assert str(city.id) in form["options"]["parent"]
    assert str(district.id) not in form["options"]["parent"]
    assert str(street.id) not in form["options"]["parent"]

    response = post(f"/admin/partners/{district.id}", {**PARTNER_FORM, "parent": str(city.id)})
    assert response.status_code == 303
    assert _paths()["Street union"] == f"/{city.id}/{district.id}/{street.id}/"
    [row] = audit_rows("organisation.update")
    assert row.before == {"parent_id": None} and row.after == {"parent_id": city.id}
    page = client.get(f"/admin/partners/{street.id}").get_data(as_text=True)
    assert "City federation › District › Street union" not in page  # itself is not a choice
    assert "City federation › District" in page

    # A new organisation, created straight under the district.
    response = post("/admin/partners/new", {**PARTNER_FORM, "parent": str(district.id)})
    assert response.status_code == 303
    created = db.session.scalar(sa.select(Organisation).order_by(Organisation.id.desc()))
    assert created.path == f"/{city.id}/{district.id}/{created.id}/"
    assert audit_rows("organisation.create")[-1].after["parent_id"] == district.id


@pytest.mark.parametrize("htmx", [False, True])
def test_a_cycle_is_refused_with_a_translated_error_and_nothing_saved(client, admin, post, htmx):
    city = make_organisation(name_zh="市总工会", name_en="City")
    district = make_organisation(name_en="District", parent=city)
    db.session.commit()
    before = _paths()
    data = {
        **PARTNER_FORM,
        "name_zh": "市总工会改名",
        "name_en": "City",
        "parent": str(district.id),
    }
    response = post(f"/admin/partners/{city.id}", data, htmx=htmx)
    assert response.status_code == (200 if htmx else 422)
    html = response.get_data(as_text=True)
    assert "An organisation cannot be placed under itself or an organisation under it." in html
    assert 'value="市总工会改名"' in html  # what was typed stays
    assert _paths() == before
    assert fresh_org(city).name_zh == "市总工会"
    assert audit_rows("organisation.update") == []

    response = post(f"/admin/partners/{city.id}", {**data, "parent": str(city.id)})
    assert response.status_code == 422
    assert "cannot be placed under itself" in response.get_data(as_text=True)
    assert _paths() == before
