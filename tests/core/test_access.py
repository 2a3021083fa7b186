"""Who may open what: a role × URL matrix built from the app's own routes, so a
new page without a permission decision fails here."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.voting.services import create_round
from tests.conftest import csrf_token_from
from tests.factories import make_area, make_category, make_need, make_user

PUBLIC = {
    "core.home",
    "core.privacy",
    "core.healthz",
    "core.set_locale",
    "needs.index",
    "needs.new",
    "needs.submitted",
    "needs.similar",
    "needs.show",
    "needs.track",
    "needs.withdraw",
    "voting.priorities",
    "voting.round_page",
    "auth.register",
    "auth.check_email",
    "auth.verify",
    "auth.resend_verification",
    "auth.login",
    "auth.reset_request",
    "auth.reset",
    "static",
}
LOGGED_IN = {
    "me.index",
    "me.notifications",
    "me.change_password",
    "auth.logout",
    "notify.follow",
    "voting.support",
    "voting.vote",
}
ADMIN = {"voting.admin_rounds"}
PARTNER: set[str] = set()


def _area_rules() -> None:
    """Each area may add its endpoints in tests/<area>/access_rules.py as
    ACCESS = {"endpoint": "public" | "login" | "admin" | "partner" | "staff"}."""
    import importlib
    import pathlib

    for path in sorted(pathlib.Path(__file__).resolve().parents[1].glob("*/access_rules.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.access_rules")
        for endpoint, rule in module.ACCESS.items():
            {
                "public": PUBLIC,
                "login": LOGGED_IN,
                "admin": ADMIN,
                "partner": PARTNER,
                "staff": STAFF,
            }[rule].add(endpoint)


#: Admins and partner staff (e.g. staff-assisted intake).
STAFF: set[str] = set()
_area_rules()


def test_every_route_has_a_permission_decision(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - PUBLIC - LOGGED_IN - ADMIN - PARTNER - STAFF == set()


@pytest.fixture
def world(app):
    need, token = make_need(NeedStatus.OPEN)
    others = [make_need(NeedStatus.OPEN)[0] for _ in range(2)]
    admin = make_user(Role.ADMIN)
    round_ = create_round(
        title="R",
        description="",
        needs=[need, *others],
        votes_per_member=1,
        starts_at=utcnow() - timedelta(days=1),
        ends_at=utcnow() + timedelta(days=1),
        show_live_counts=False,
        actor=admin,
    )
    users = {
        "member": make_user(),
        "partner": make_user(Role.PARTNER),
        "admin": admin,
    }
    _add_project_and_comment(need, users)
    make_category(code="x")  # for the feed and poster URLs that take a category code
    make_area()  # for the URLs that take an area id
    photo_key = _add_photo(need)
    db.session.commit()
    from portal.open311.models import RequestToken

    open311_token = "0" * 32
    db.session.add(RequestToken(token=open311_token, need_id=need.id))
    db.session.commit()
    return {
        "ref": need.ref,
        "token": token,
        "open311_token": open311_token,
        "round_id": round_.id,
        "photo_key": photo_key,
        "users": users,
    }


def _add_photo(need) -> str:
    """A photo of the published need, for the URLs that take a photo key."""
    from portal.photos import storage
    from portal.photos.models import Photo

    key = "ab" * 16
    sizes = ("width", "height", "thumb_width", "thumb_height", "display_bytes", "thumb_bytes")
    db.session.add(Photo(need=need, key=key, **dict.fromkeys(sizes, 1)))
    for size in storage.SIZES:
        storage.final_path(key, size).parent.mkdir(parents=True, exist_ok=True)
        storage.final_path(key, size).write_bytes(b"\xff\xd8\xff\xd9")
    return key


def _add_project_and_comment(need, users) -> None:
    """Rows with id 1 for the URLs that take a project, proposal or comment id
    (the partner's organisation leads the project; the member commented)."""
    from portal.comments.models import Comment
    from portal.projects.models import Project, ProjectNeed, ProjectProposal

    proposal = ProjectProposal(
        title="Proposal",
        background="Why",
        goal="Goal",
        expected_result="Result",
        target="10 things",
        proposer_id=users["member"].id,
        idempotency_key="access-proposal",
    )
    project = Project(
        title="Project",
        goal="Goal",
        target="10 things",
        lead_organisation_id=users["partner"].organisation_id,
    )
    db.session.add_all([proposal, project])
    db.session.flush()
    db.session.add(ProjectNeed(project_id=project.id, need_id=need.id))
    db.session.add(
        Comment(need_id=need.id, author_id=users["member"].id, body="Hello", client_token="a")
    )
    db.session.flush()


def _urls(app, world, endpoints):
    from flask import url_for

    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint not in endpoints:
            continue
        values = {
            "ref": world["ref"],
            "token": world["open311_token"]
            if rule.endpoint.startswith("open311.")
            else world["token"],
            "round_id": world["round_id"],
            "key": world["photo_key"],
            "size": "thumb",
            **{arg: 1 for arg in rule.arguments if arg.endswith("_id") and arg != "round_id"},
            **{arg: "x" for arg in rule.arguments if arg in ("code", "day", "sample")},
        }
        with app.test_request_context():
            url = url_for(rule.endpoint, **{k: v for k, v in values.items() if k in rule.arguments})
        for method in sorted(rule.methods & {"GET", "POST"}):
            urls.append((method, url))
    return urls


def _request(client, method, url):
    if method == "GET":
        return client.get(url)
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token})


def test_anonymous_visitors_are_sent_to_log_in(app, client, world):
    for method, url in _urls(app, world, LOGGED_IN | ADMIN | PARTNER | STAFF):
        response = _request(client, method, url)
        assert response.status_code == 302, (method, url)
        assert "/auth/login" in response.headers["Location"], (method, url)


@pytest.mark.parametrize("role", ["member", "partner"])
def test_other_roles_get_403_on_admin_pages(app, client, login, world, role):
    login(world["users"][role])
    for method, url in _urls(app, world, ADMIN):
        response = _request(client, method, url)
        assert response.status_code in (403, 404), (role, method, url)
        assert "Priority rounds" not in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["member", "admin"])
def test_only_partner_staff_open_the_partner_workspace(app, client, login, world, role):
    login(world["users"][role])
    for method, url in _urls(app, world, PARTNER):
        response = _request(client, method, url)
        assert response.status_code in (403, 404), (role, method, url)


def test_members_cannot_use_staff_pages(app, client, login, world):
    login(world["users"]["member"])
    for method, url in _urls(app, world, STAFF):
        response = _request(client, method, url)
        assert response.status_code in (403, 404), (method, url)


@pytest.mark.parametrize("role", ["member", "partner", "admin"])
def test_logged_in_pages_open_for_every_account(app, client, login, world, role):
    login(world["users"][role])
    client.set_cookie("locale", "en")
    response = client.get("/me")
    assert response.status_code == 200
    assert world["users"][role].display_name in response.get_data(as_text=True)


def test_admins_open_admin_pages(app, client, login, world):
    login(world["users"]["admin"])
    for method, url in _urls(app, world, ADMIN):
        if method == "GET":
            assert client.get(url).status_code == 200, url


def test_public_pages_open_for_anonymous_visitors(app, client, world):
    for method, url in _urls(
        app, world, PUBLIC - {"static", "needs.submitted", "auth.verify", "auth.reset"}
    ):
        if method == "GET":
            assert client.get(url).status_code in (200, 302), url
