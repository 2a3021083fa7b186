"""The partner admin role (issue 14, item 4): portal admins let a staff member
manage their own organisation; on /partner/organisation that staff member
invites the organisation's staff and keeps its resources, with audit rows,
for their own organisation only. Other staff get 403."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.extensions import db
from portal.notify.models import OutboxEmail
from portal.partners.models import OrganisationResource, ResourceKind
from tests.conftest import audit_rows, csrf_token_from
from tests.factories import make_organisation, make_user


@pytest.fixture
def union(app):
    """A union with a partner admin and a plain staff member, one resource each
    for it and for another organisation."""
    org = make_organisation(name_zh="市总工会", name_en="City federation")
    other = make_organisation(name_en="Youth league")
    manager = make_user(Role.PARTNER, org)
    manager.manages_organisation = True
    staff = make_user(Role.PARTNER, org)
    org.resources.append(OrganisationResource(kind=ResourceKind.VENUES, description="Club rooms"))
    other.resources.append(
        OrganisationResource(kind=ResourceKind.VOLUNTEERS, description="Young volunteers")
    )
    db.session.commit()
    return {
        "org": org,
        "other": other,
        "manager": manager,
        "staff": staff,
        "resource": org.resources[0],
        "other_resource": other.resources[0],
    }


def _urls(union) -> list[tuple[str, str, dict]]:
    resource = union["resource"].id
    return [
        ("GET", "/partner/organisation", {}),
        ("POST", "/partner/organisation/resources", {"kind": "experts", "description": "Lawyers"}),
        (
            "POST",
            f"/partner/organisation/resources/{resource}",
            {"kind": "venues", "description": "Bigger club rooms"},
        ),
        ("POST", f"/partner/organisation/resources/{resource}/remove", {}),
        (
            "POST",
            "/partner/organisation/staff",
            {"email": "new@example.org", "display_name": "Li Lei"},
        ),
    ]


def _send(client, method: str, url: str, data: dict):
    if method == "GET":
        return client.get(url)
    token = csrf_token_from(client.get("/needs/new").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


@pytest.mark.parametrize("who", ["manager", "staff", "member", "admin", "anonymous"])
def test_the_role_matrix_of_the_organisation_pages(client, login, union, who):
    if who in ("manager", "staff"):
        login(union[who])
    elif who != "anonymous":
        login(make_user(Role.ADMIN if who == "admin" else Role.MEMBER))
    db.session.commit()
    for method, url, data in _urls(union):
        response = _send(client, method, url, data)
        if who == "manager":
            assert response.status_code == (200 if method == "GET" else 303), (method, url)
        elif who == "anonymous":
            assert response.status_code == 302, url
            assert "/auth/login" in response.headers["Location"]
        else:
            assert response.status_code == 403, (who, method, url)
    if who != "manager":
        # Nothing was added, changed, removed or invited, and nothing audited.
        assert audit_rows() == []
        db.session.expire_all()
        assert union["resource"].description == "Club rooms"


def test_another_organisations_resource_is_not_found(client, login, union):
    login(union["manager"])
    other = union["other_resource"].id
    for url, data in (
        (f"/partner/organisation/resources/{other}", {"kind": "funds", "description": "Mine"}),
        (f"/partner/organisation/resources/{other}/remove", {}),
        ("/partner/organisation/resources/999999", {"kind": "funds", "description": "x"}),
    ):
        assert _send(client, "POST", url, data).status_code == 404, url
    db.session.expire_all()
    resource = db.session.get(OrganisationResource, other)
    assert resource.description == "Young volunteers"
    assert audit_rows() == []
    page = client.get("/partner/organisation").get_data(as_text=True)
    assert "Club rooms" in page and "Young volunteers" not in page


def test_the_partner_admin_keeps_the_resources_with_audit_rows(client, login, union):
    manager = login(union["manager"])
    page = client.get("/partner/organisation").get_data(as_text=True)
    assert "City federation" in page and "Club rooms" in page
    assert 'action="/partner/organisation/resources"' in page

    response = _send(
        client,
        "POST",
        "/partner/organisation/resources",
        {"kind": "experts", "description": "Five labour lawyers"},
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/partner/organisation#resources")
    added = db.session.scalar(
        sa.select(OrganisationResource).where(
            OrganisationResource.description == "Five labour lawyers"
        )
    )
    assert added.organisation_id == union["org"].id
    resource = union["resource"].id
    response = _send(
        client,
        "POST",
        f"/partner/organisation/resources/{resource}",
        {"kind": "venues", "description": "Club rooms, second floor"},
    )
    assert response.status_code == 303
    response = _send(client, "POST", f"/partner/organisation/resources/{added.id}/remove", {})
    assert response.status_code == 303
    actions = [(row.action, row.actor_id, row.actor_role) for row in audit_rows()]
    assert actions == [
        ("organisation.resource_add", manager.id, "partner"),
        ("organisation.resource_update", manager.id, "partner"),
        ("organisation.resource_remove", manager.id, "partner"),
    ]
    assert all(row.object_id == str(union["org"].id) for row in audit_rows())


@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_resource_is_refused_and_keeps_what_was_typed(client, login, union, htmx):
    login(union["manager"])
    token = csrf_token_from(client.get("/partner/organisation").get_data(as_text=True))
    response = client.post(
        "/partner/organisation/resources",
        data={"csrf_token": token, "kind": "experts", "description": "x" * 301},
        headers={"HX-Request": "true"} if htmx else {},
    )
    assert response.status_code == (200 if htmx else 422)
    html = response.get_data(as_text=True)
    assert "x" * 301 in html
    if htmx:
        assert html.lstrip().startswith('<section id="resources"')
    assert db.session.scalar(sa.select(sa.func.count(OrganisationResource.id))) == 2
    assert audit_rows() == []


def test_the_partner_admin_invites_staff_of_their_own_organisation(client, login, union):
    manager = login(union["manager"])
    response = _send(
        client,
        "POST",
        "/partner/organisation/staff",
        {"email": "Zhang.Wei@Example.org", "display_name": "Zhang Wei"},
    )
    assert response.status_code == 303
    invited = db.session.scalar(sa.select(User).where(User.email == "zhang.wei@example.org"))
    assert invited.role == Role.PARTNER and invited.organisation_id == union["org"].id
    assert not invited.manages_organisation and invited.password_hash == ""
    [mail] = db.session.scalars(sa.select(OutboxEmail)).all()
    assert mail.to_address == "zhang.wei@example.org"
    [row] = audit_rows("user.invite")
    assert row.actor_id == manager.id and row.after["organisation_id"] == union["org"].id
    page = client.get("/partner/organisation").get_data(as_text=True)
    assert "Zhang Wei" in page and "Invited, not yet joined" in page
    assert "Make partner admin" not in page  # the portal admins' decision

    # An address with an account already: refused, nothing sent.
    response = _send(
        client,
        "POST",
        "/partner/organisation/staff",
        {"email": union["staff"].email, "display_name": "Again"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "An account with this e-mail address already exists." in html
    assert "Users page" not in html  # not theirs
    assert len(db.session.scalars(sa.select(OutboxEmail)).all()) == 1


def test_the_page_shows_the_organisations_place(client, login, union):
    district = make_organisation(name_en="District union", parent=union["org"])
    make_organisation(name_en="Street union", parent=district)
    db.session.commit()
    login(union["manager"])
    page = client.get("/partner/organisation").get_data(as_text=True)
    assert "City federation › District union" in page
    assert "City federation › District union › Street union" in page
    assert 'href="/partner/organisation"' in page  # in the navigation
    login(union["staff"])
    assert 'href="/partner/organisation"' not in client.get("/partner/inbox").get_data(as_text=True)


# --- the portal admins grant the role --------------------------------------------------


def test_an_admin_makes_a_staff_member_partner_admin_and_back(client, admin, post, union):
    staff = union["staff"]
    org = union["org"]
    page = client.get(f"/admin/partners/{org.id}").get_data(as_text=True)
    assert "Make partner admin" in page and "No longer partner admin" in page

    url = f"/admin/partners/{org.id}/staff/{staff.id}/manager"
    response = post(url, {"manages": "1"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, staff.id).manages_organisation
    [row] = audit_rows("user.manages_organisation")
    assert row.actor_id == admin.id and row.object_id == str(staff.id)
    assert row.before == {"manages_organisation": False, "organisation_id": org.id}
    assert row.after == {"manages_organisation": True, "organisation_id": org.id}

    htmx = post(url, {"manages": "0"}, htmx=True)
    assert htmx.status_code == 200
    assert "no longer manages the organisation" in htmx.get_data(as_text=True)
    db.session.expire_all()
    assert not db.session.get(User, staff.id).manages_organisation
    assert len(audit_rows("user.manages_organisation")) == 2
    assert post(url, {"manages": "0"}).status_code == 303  # nothing changes, nothing audited
    assert len(audit_rows("user.manages_organisation")) == 2


def test_only_the_organisations_own_staff_can_be_made_partner_admin(client, admin, post, union):
    other_staff = make_user(Role.PARTNER, union["other"])
    member = make_user()
    db.session.commit()
    org = union["org"].id
    for user in (other_staff, member, admin):
        response = post(f"/admin/partners/{org}/staff/{user.id}/manager", {"manages": "1"})
        assert response.status_code == 404
    assert audit_rows("user.manages_organisation") == []


def test_a_role_or_organisation_change_ends_the_partner_admin_role(client, admin, post, union):
    manager = union["manager"]
    page = client.get("/admin/users", query_string={"q": manager.email}).get_data(as_text=True)
    token = csrf_token_from(page)
    response = client.post(
        f"/admin/users/{manager.id}/role",
        data={"csrf_token": token, "role": "partner", "organisation": str(union["other"].id)},
    )
    assert response.status_code == 303
    db.session.expire_all()
    moved = db.session.get(User, manager.id)
    assert moved.organisation_id == union["other"].id and not moved.manages_organisation
    [row] = audit_rows("user.role_change")
    assert row.before["manages_organisation"] is True
    assert row.after["manages_organisation"] is False


def test_the_database_refuses_a_partner_admin_who_is_not_partner_staff(app):
    user = make_user()
    user.manages_organisation = True
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()
