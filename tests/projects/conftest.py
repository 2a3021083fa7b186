"""A small world for the project tests: three partners with staff (lead,
supporting, and one outside the project), an admin, members and public needs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pytest

from portal.auth.models import Role, User
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.partners.models import Organisation
from portal.projects import services
from portal.projects.models import Project
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_organisation, make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


@dataclass
class World:
    lead: Organisation
    support: Organisation
    other: Organisation
    lead_staff: User
    support_staff: User
    other_staff: User
    admin: User
    member: User
    needs: list[Need]


@pytest.fixture
def world(app) -> World:
    lead, support, other = (make_organisation() for _ in range(3))
    w = World(
        lead=lead,
        support=support,
        other=other,
        lead_staff=make_user(Role.PARTNER, lead),
        support_staff=make_user(Role.PARTNER, support),
        other_staff=make_user(Role.PARTNER, other),
        admin=make_user(Role.ADMIN),
        member=make_user(),
        needs=[make_need(NeedStatus.OPEN)[0] for _ in range(3)],
    )
    db.session.commit()
    return w


@pytest.fixture
def make_project(world):
    def make(needs=None, **kw) -> Project:
        project = services.create_project(
            services.ProjectData(
                title=kw.pop("title", "Skills training for delivery riders"),
                background="Riders asked for it.",
                goal="Train riders in road safety.",
                expected_result="Fewer accidents.",
                target="200 riders trained",
                target_value=200,
                budget=None,
                lead_id=world.lead.id,
                supporter_ids=[world.support.id],
                needs=world.needs[:1] if needs is None else needs,
            ),
            world.admin,
        )
        db.session.commit()
        return project

    return make


#: The partner forms whose hidden client token is made when the page is shown.
TOKEN_FORMS = ("update", "milestone", "commitment")


@pytest.fixture
def post(client):
    """POST a form as the browser would: with the CSRF token of the session,
    and a fresh client token as if the form had just been shown (unless the
    test gives one, to send the same form twice)."""

    def send(url: str, data: dict | None = None, htmx: bool = False):
        token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
        headers = {"HX-Request": "true"} if htmx else {}
        data = dict(data or {})
        for prefix in TOKEN_FORMS:
            if any(k.startswith(f"{prefix}-") for k in data):
                data.setdefault(f"{prefix}-client_token", secrets.token_hex(16))
        return client.post(url, data={"csrf_token": token, **data}, headers=headers)

    return send
