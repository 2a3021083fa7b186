"""Users: search, roles and deactivation; every change ends the user's sessions."""

from __future__ import annotations

import pytest

from portal.auth.models import Role, User
from portal.extensions import db
from tests.conftest import audit_rows
from tests.factories import make_organisation, make_user


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def _logged_in_client(app, user):
    other = app.test_client()
    other.set_cookie("locale", "en")
    with other.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    assert other.get("/me").status_code == 200
    return other


def _reload(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_the_list_searches_by_email_and_name(client, admin):
    a, b = make_user(), make_user()
    a.display_name = "Li Ming"
    db.session.commit()
    page = client.get("/admin/users").get_data(as_text=True)
    assert a.email in page and b.email in page and admin.email in page
    page = client.get("/admin/users?q=li+ming").get_data(as_text=True)
    assert a.email in page and b.email not in page
    fragment = client.get(f"/admin/users?q={b.email}", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="users-list"')
    assert b.email in html and a.email not in html
    assert "No account matches" in client.get("/admin/users?q=%25_nobody").get_data(as_text=True)


def test_a_role_change_ends_the_users_sessions_and_is_audited(app, client, admin, post):
    org = make_organisation(name_en="Science association")
    member = make_user()
    db.session.commit()
    victim = _logged_in_client(app, member)
    version = member.session_version

    response = post(
        f"/admin/users/{member.id}/role",
        {"role": "partner", "organisation": str(org.id), "q": "user"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/users?q=user&page=1")
    member = _reload(member)
    assert member.role == Role.PARTNER and member.organisation_id == org.id
    assert member.session_version == version + 1
    response = victim.get("/me")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    [row] = audit_rows("user.role_change")
    assert row.actor_id == admin.id and row.object_id == str(member.id)
    assert row.before == {"role": "member", "organisation_id": None}
    assert row.after == {"role": "partner", "organisation_id": org.id}

    # Back to member: the organisation goes with the partner role.
    assert (
        post(f"/admin/users/{member.id}/role", {"role": "member", "organisation": "0"}).status_code
        == 303
    )
    member = _reload(member)
    assert member.role == Role.MEMBER and member.organisation_id is None
    assert audit_rows("user.role_change")[-1].before == {
        "role": "partner",
        "organisation_id": org.id,
    }


def test_partner_staff_need_an_organisation(client, admin, post):
    member = make_user()
    db.session.commit()
    response = post(f"/admin/users/{member.id}/role", {"role": "partner", "organisation": "0"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Partner staff must belong to an organisation." in page
    assert member.email in page
    assert _reload(member).role == Role.MEMBER
    assert audit_rows() == []
    response = post(f"/admin/users/{member.id}/role", {"role": "partner", "organisation": "9999"})
    assert response.status_code == 422
    assert _reload(member).role == Role.MEMBER


def test_an_admin_keeps_their_own_admin_role_and_account(client, admin, post):
    response = post(f"/admin/users/{admin.id}/role", {"role": "member", "organisation": "0"})
    assert response.status_code == 422
    assert "You cannot remove your own admin role." in response.get_data(as_text=True)
    response = post(f"/admin/users/{admin.id}/active", {"active": "0"})
    assert response.status_code == 422
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    me = _reload(admin)
    assert me.role == Role.ADMIN and me.active
    assert audit_rows() == []
    assert client.get("/admin/users").status_code == 200


def test_deactivation_logs_the_user_out_and_activation_lets_them_back(app, client, admin, post):
    member = make_user()
    db.session.commit()
    victim = _logged_in_client(app, member)
    assert post(f"/admin/users/{member.id}/active", {"active": "0"}).status_code == 303
    member = _reload(member)
    assert not member.active
    assert victim.get("/me").status_code == 302
    assert "Inactive" in client.get(f"/admin/users?q={member.email}").get_data(as_text=True)

    response = post(f"/admin/users/{member.id}/active", {"active": "1"}, htmx=True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<li class="card admin-row" id="user-{member.id}"')
    assert "can log in again" in html
    assert _reload(member).active
    assert [(r.action, r.before, r.after) for r in audit_rows()] == [
        ("user.deactivate", {"active": True}, {"active": False}),
        ("user.activate", {"active": False}, {"active": True}),
    ]


def test_htmx_role_errors_come_back_in_the_row(client, admin, post):
    member = make_user()
    db.session.commit()
    response = post(
        f"/admin/users/{member.id}/role", {"role": "partner", "organisation": "0"}, htmx=True
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'id="user-{member.id}"' in html
    assert "Partner staff must belong to an organisation." in html
    assert '<option value="partner" selected>' in html  # what was chosen stays


def test_the_user_list_pages_in_constant_queries(client, admin, queries):
    orgs = [make_organisation() for _ in range(3)]
    for i in range(2):
        make_user(Role.PARTNER, orgs[i % 3])
    db.session.commit()
    with queries() as small:
        assert client.get("/admin/users").status_code == 200
    for i in range(40):
        make_user(Role.PARTNER if i % 2 else Role.MEMBER, orgs[i % 3] if i % 2 else None)
    db.session.commit()
    with queries() as large:
        page = client.get("/admin/users").get_data(as_text=True)
    assert len(large) == len(small)
    assert page.count('class="card admin-row"') == 20
    with queries() as searched:
        client.get("/admin/users?q=user&page=2")
    assert len(searched) == len(small)
