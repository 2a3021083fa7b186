"""Every triage page and action: admins only (intake: admins and partner staff);
members and partner staff get 403, anonymous visitors the login page."""

from __future__ import annotations

import pytest

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_user

GET_PAGES = ["/admin", "/admin/triage", "/admin/needs/{ref}", "/admin/needs/{ref}/duplicates"]
POSTS = [
    ("/admin/needs/{ref}/publish", {}),
    ("/admin/needs/{ref}/reject", {"reason": "No."}),
    ("/admin/needs/{ref}/title", {"title": "A changed title"}),
    ("/admin/needs/{ref}/category", {"category": "1"}),
    ("/admin/needs/{ref}/duplicate", {"duplicate_of": "N-2026-000001"}),
    ("/admin/needs/{ref}/route", {"organisation": "1"}),
    ("/admin/needs/{ref}/transfer", {"organisation": "1", "note": "x"}),
    ("/admin/needs/{ref}/close", {"reason": "x"}),
    ("/admin/needs/{ref}/note", {"text": "x"}),
    ("/admin/triage/bulk", {"action": "publish", "need": "{ref}"}),
    ("/admin/requests/1", {"decision": "grant"}),
]


@pytest.fixture
def submitted():
    need, _ = make_need(NeedStatus.SUBMITTED, title="Broken lamp at the gate")
    db.session.commit()
    return need


def _status(need) -> NeedStatus:
    db.session.expire_all()
    return db.session.get(Need, need.id).status


@pytest.mark.parametrize("role", [Role.MEMBER, Role.PARTNER])
def test_other_roles_get_403_everywhere(client, login, submitted, role):
    login(make_user(role))
    db.session.commit()
    for url in GET_PAGES:
        response = client.get(url.format(ref=submitted.ref))
        assert response.status_code == 403, url
        assert "Broken lamp" not in response.get_data(as_text=True)
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    for url, data in POSTS:
        values = {k: v.format(ref=submitted.ref) for k, v in data.items()}
        response = client.post(url.format(ref=submitted.ref), data={"csrf_token": token, **values})
        assert response.status_code == 403, url
    assert _status(submitted) == NeedStatus.SUBMITTED


def test_anonymous_visitors_are_sent_to_log_in(client, submitted):
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    for url in [*GET_PAGES, "/staff/needs/new", "/staff/needs/submitted"]:
        response = client.get(url.format(ref=submitted.ref))
        assert response.status_code == 302, url
        assert "/auth/login" in response.headers["Location"]
    for url, data in [*POSTS, ("/staff/needs/new", {})]:
        response = client.post(url.format(ref=submitted.ref), data={"csrf_token": token, **data})
        assert response.status_code == 302, url
        assert "/auth/login" in response.headers["Location"]
    assert _status(submitted) == NeedStatus.SUBMITTED


def test_members_cannot_use_staff_intake(client, login):
    login(make_user())
    db.session.commit()
    assert client.get("/staff/needs/new").status_code == 403
    assert client.get("/staff/needs/submitted").status_code == 403


def test_admins_open_every_page(client, admin, submitted):
    for url in GET_PAGES:
        assert client.get(url.format(ref=submitted.ref)).status_code == 200, url
    assert client.get("/admin/needs/N-2099-999999").status_code == 404


def test_actions_need_a_csrf_token(client, admin, submitted):
    response = client.post(f"/admin/needs/{submitted.ref}/publish", data={})
    assert response.status_code == 400
    response = client.post(f"/admin/needs/{submitted.ref}/reject", data={"reason": "No"})
    assert response.status_code == 400
    assert _status(submitted) == NeedStatus.SUBMITTED


def test_forms_carry_csrf_tokens(client, admin, submitted):
    page = client.get("/admin/triage").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 6
    page = client.get(f"/admin/needs/{submitted.ref}").get_data(as_text=True)
    assert page.count('name="csrf_token"') >= 5
