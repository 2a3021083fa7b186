"""A project's area: chosen on the admin's form (with or without JavaScript),
shown on the project's page, and the public list filtered by the area and
everything under it."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.projects.models import Project
from tests.factories import make_area
from tests.forms import page_forms


def _new_project_form(client, world):
    html = client.get(f"/admin/projects/new?need={world.needs[0].ref}").text
    form = next(f for f in page_forms(html) if "title" in f["fields"])
    return form, form["fields"] | {
        "goal": "Benches for the river walk",
        "target": "12 benches",
        "lead": str(world.lead.id),
    }


def test_a_project_in_an_area_is_listed_under_it_and_nowhere_else(client, login, world):
    city = make_area("C1", name_en="The City")
    district = make_area("D1", city, name_en="River District")
    make_area("D2", city, name_en="Hill District")
    db.session.commit()
    login(world.admin)
    form, data = _new_project_form(client, world)
    # Without JavaScript, "Choose" shows the next level and saves nothing.
    chosen = client.post(form["action"], data=data | {"area": "C1", "area_choose": "1"})
    assert chosen.status_code == 200 and "River District" in chosen.text
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 0
    created = client.post(form["action"], data=data | {"area": ["C1", "D1"]})
    assert created.status_code == 303
    project = db.session.scalar(sa.select(Project))
    assert project.area_id == district.id
    page = client.get(f"/projects/{project.id}").text
    assert "River District" in page and "/projects?area=D1" in page
    for code, listed in (("D1", True), ("C1", True), ("D2", False)):
        listing = client.get(f"/projects?area={code}").text
        assert ("Benches for the river walk" in listing or project.title in listing) is listed, code
    assert project.title in client.get("/projects").text


def test_an_unknown_area_is_refused_and_nothing_is_saved(client, login, world):
    make_area("C1")
    db.session.commit()
    login(world.admin)
    form, data = _new_project_form(client, world)
    refused = client.post(form["action"], data=data | {"area": "NOPE"})
    assert refused.status_code == 422 and "Please choose an area from the list." in refused.text
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 0
