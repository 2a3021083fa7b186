"""The areas a partner serves: kept on its admin page (audited, other roles
refused), shown on its public page, and the directory filtered by an area
lists those serving it from above or within, and those naming no area."""

from __future__ import annotations

import sqlalchemy as sa

from portal.areas.models import organisation_areas
from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.extensions import db
from tests.conftest import csrf_token_from
from tests.factories import make_organisation, make_user


def _served(org) -> set[int]:
    return set(
        db.session.scalars(
            sa.select(organisation_areas.c.area_id).where(
                organisation_areas.c.organisation_id == org.id
            )
        )
    )


def test_admins_add_and_remove_served_areas(client, login, city):
    org = make_organisation(name_en="District Union")
    admin = make_user(Role.ADMIN)
    db.session.commit()
    client.set_cookie("locale", "en")
    login(admin)
    page = client.get(f"/admin/partners/{org.id}").text
    assert "Areas served" in page
    token = csrf_token_from(page)
    # Without JavaScript: "Choose" shows the next level, nothing is saved.
    chosen = client.post(
        f"/admin/partners/{org.id}/areas",
        data={"csrf_token": token, "area": "310000", "area_choose": "1"},
    )
    assert chosen.status_code == 200 and "Huangpu" in chosen.text and _served(org) == set()
    empty = client.post(f"/admin/partners/{org.id}/areas", data={"csrf_token": token})
    assert empty.status_code == 422 and "Choose an area." in empty.text
    added = client.post(
        f"/admin/partners/{org.id}/areas",
        data={"csrf_token": token, "area": ["310000", "310101"]},
    )
    assert added.status_code == 303 and _served(org) == {city.huangpu.id}
    twice = client.post(
        f"/admin/partners/{org.id}/areas",
        data={"csrf_token": token, "area": ["310000", "310101"]},
    )
    assert twice.status_code == 422 and "serves that area already" in twice.text
    public = client.get(f"/partners/{org.id}").text
    assert "Areas it serves" in public and "Huangpu" in public
    removed = client.post(
        f"/admin/partners/{org.id}/areas/{city.huangpu.id}/remove", data={"csrf_token": token}
    )
    assert removed.status_code == 303 and _served(org) == set()
    actions = list(
        db.session.scalars(
            sa.select(AuditEntry.action)
            .where(AuditEntry.action.like("partner.area%"))
            .order_by(AuditEntry.id)
        )
    )
    assert actions == ["partner.area_add", "partner.area_remove"]
    assert (
        client.post(
            f"/admin/partners/{org.id}/areas/{city.huangpu.id}/remove", data={"csrf_token": token}
        ).status_code
        == 404
    )


def test_partner_staff_cannot_change_served_areas(client, login, city):
    org = make_organisation()
    staff = make_user(Role.PARTNER, org)
    db.session.commit()
    login(staff)
    token = csrf_token_from(client.get("/needs/new").text)
    response = client.post(
        f"/admin/partners/{org.id}/areas", data={"csrf_token": token, "area": "310101"}
    )
    assert response.status_code == 403 and _served(org) == set()


def test_the_directory_lists_who_serves_an_area(client, city):
    whole_city = make_organisation(name_en="City Federation")
    district = make_organisation(name_en="Huangpu Union")
    street = make_organisation(name_en="Street Union")
    elsewhere = make_organisation(name_en="Elsewhere Union")
    make_organisation(name_en="Everywhere NGO")  # names no area
    db.session.flush()
    for org, area in (
        (whole_city, city.city),
        (district, city.huangpu),
        (street, city.nanjing_road),
        (elsewhere, city.xuhui),
    ):
        db.session.execute(
            organisation_areas.insert().values(organisation_id=org.id, area_id=area.id)
        )
    db.session.commit()
    client.set_cookie("locale", "en")
    listing = client.get("/partners?area=310101").text
    for name in ("City Federation", "Huangpu Union", "Street Union", "Everywhere NGO"):
        assert name in listing, name
    assert "Elsewhere Union" not in listing
    assert "Elsewhere Union" in client.get("/partners").text
