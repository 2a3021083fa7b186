"""Pages with personal data answer `Cache-Control: no-store`, so neither a
shared proxy nor the browser's cache (on a shared computer) keeps them."""

from __future__ import annotations

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.privacy.caching import holds_personal_data
from tests.factories import make_need, make_organisation, make_user


@pytest.fixture
def world(app):
    partner = make_organisation()
    need, token = make_need(NeedStatus.ROUTED, partner=partner)
    users = {
        "member": make_user(),
        "admin": make_user(Role.ADMIN),
        "partner": make_user(Role.PARTNER, partner),
    }
    db.session.commit()
    return {"need": need, "token": token, "users": users}


def _get(client, login, user, url):
    login(user)
    response = client.get(url)
    assert response.status_code == 200, url
    return response


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("member", "/me"),
        ("member", "/me/export"),
        ("member", "/me/delete"),
        ("admin", "/admin/needs/{ref}"),
        ("admin", "/admin/users"),
        ("admin", "/admin/audit"),
        ("admin", "/staff/needs/new"),
        ("partner", "/partner/inbox"),
        ("partner", "/partner/needs/{ref}"),
        ("partner", "/staff/needs/new"),
        (None, "/track/{token}"),
        (None, "/track/{token}/delete-contact"),
    ],
)
def test_personal_data_pages_are_not_stored(client, login, world, role, url):
    url = url.format(ref=world["need"].ref, token=world["token"])
    if role is None:
        response = client.get(url)
        assert response.status_code == 200
    else:
        response = _get(client, login, world["users"][role], url)
    assert response.headers["Cache-Control"] == "no-store"


def test_every_admin_page_is_covered(app, client, login, world):
    """Every GET page under /admin, present and future, without a list per view."""
    from flask import url_for

    login(world["users"]["admin"])
    checked = 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or not rule.rule.startswith("/admin"):
            continue
        if rule.arguments - {"ref"}:
            continue  # pages of one object: the need page stands for them above
        with app.test_request_context():
            url = url_for(rule.endpoint, **({"ref": world["need"].ref} if rule.arguments else {}))
        response = client.get(url)
        assert response.headers.get("Cache-Control") == "no-store", url
        checked += 1
    assert checked >= 10


def test_errors_on_those_paths_are_not_stored_either(client, login, world):
    login(world["users"]["admin"])
    response = client.get("/admin/needs/N-0000-000000")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


def test_public_pages_may_be_cached(client, world):
    for url in ("/needs", f"/needs/{world['need'].ref}", "/partners", "/privacy"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", ""), url


@pytest.mark.parametrize(
    ("path", "personal"),
    [
        ("/me", True),
        ("/me/export", True),
        ("/media", False),
        ("/partner/inbox", True),
        ("/partners", False),
        ("/partners/3", False),
        ("/administrator", False),
        ("/track/abc", True),
        ("/needs/submitted", True),
        ("/needs/N-1", False),
    ],
)
def test_the_rule_matches_whole_path_segments(path, personal):
    assert holds_personal_data(path) is personal
