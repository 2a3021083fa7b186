"""Partner organisations: details, categories, resources and staff invitations."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.extensions import db
from portal.notify.models import OutboxEmail
from portal.partners.models import (
    Organisation,
    OrganisationKind,
    OrganisationResource,
    ResourceKind,
)
from tests.conftest import audit_rows, csrf_token_from
from tests.factories import make_category, make_organisation, make_user

PARTNER = {
    "name_zh": "区总工会",
    "name_en": "District trade union",
    "kind": "union",
    "description_zh": "",
    "description_en": "Workers' rights.",
    "contact_email": "Union@Example.org",
    "contact_phone": "+86 10 1234 5678",
    "is_active": "y",
}


def _organisations() -> list[Organisation]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Organisation).order_by(Organisation.id)))


def test_an_admin_creates_a_partner_with_its_categories(client, admin, post):
    jobs, housing, _other = (
        make_category(code="jobs"),
        make_category(code="housing"),
        make_category(),
    )
    db.session.commit()
    page = client.get("/admin/partners/new").get_data(as_text=True)
    assert "Trade union" in page and "Science association" in page
    assert 'name="categories"' in page

    response = post(
        "/admin/partners/new",
        {**PARTNER, "categories": [str(jobs.id), str(housing.id)]},
    )
    assert response.status_code == 303
    [org] = _organisations()
    assert response.headers["Location"].endswith(f"/admin/partners/{org.id}")
    assert org.name_zh == "区总工会"
    assert org.kind == OrganisationKind.UNION
    assert org.contact_email == "union@example.org"
    assert {c.code for c in org.categories} == {"jobs", "housing"}
    [row] = audit_rows("organisation.create")
    assert row.actor_id == admin.id
    assert row.object_type == "organisations" and row.object_id == str(org.id)
    assert row.after["name_zh"] == "区总工会"
    assert row.after["categories"] == "housing, jobs"


def test_editing_a_partner_audits_only_what_changed(client, admin, post):
    jobs, housing = make_category(code="jobs"), make_category(code="housing")
    org = make_organisation(
        name_zh="妇联", name_en="Women", kind=OrganisationKind.WOMENS_FEDERATION
    )
    org.categories = [jobs]
    db.session.commit()
    page = client.get(f"/admin/partners/{org.id}").get_data(as_text=True)
    assert 'value="妇联"' in page
    assert re.search(rf'value="{jobs.id}"\s+checked', page)

    data = {
        "name_zh": "妇联",
        "name_en": "Women's federation",
        "kind": "womens_federation",
        "categories": [str(housing.id)],
        "is_active": "y",
    }
    response = post(f"/admin/partners/{org.id}", data)
    assert response.status_code == 303
    org = _organisations()[0]
    assert org.name_en == "Women's federation"
    assert [c.code for c in org.categories] == ["housing"]
    [row] = audit_rows("organisation.update")
    assert row.before == {"name_en": "Women", "categories": "jobs"}
    assert row.after == {"name_en": "Women's federation", "categories": "housing"}

    # The same values again: nothing changes, nothing is audited.
    assert post(f"/admin/partners/{org.id}", data).status_code == 303
    assert len(audit_rows("organisation.update")) == 1


def test_a_partner_without_a_chinese_name_is_refused(client, admin, post):
    response = post("/admin/partners/new", {**PARTNER, "name_zh": "  ", "contact_email": "nope"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Please give the Chinese name." in page
    assert "Please enter a valid e-mail address." in page
    assert 'value="District trade union"' in page  # what was typed stays
    assert _organisations() == []
    assert audit_rows() == []


def test_htmx_gets_the_form_with_errors_and_status_200(client, admin, post):
    org = make_organisation()
    db.session.commit()
    response = post(f"/admin/partners/{org.id}", {**PARTNER, "name_zh": ""}, htmx=True)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.lstrip().startswith('<form id="partner-form"')
    assert "Please give the Chinese name." in page
    assert _organisations()[0].name_zh != ""


def test_resources_are_added_changed_and_removed(client, admin, post):
    org = make_organisation()
    db.session.commit()
    base = f"/admin/partners/{org.id}"

    response = post(f"{base}/resources", {"kind": "experts", "description": "Three labour lawyers"})
    assert response.status_code == 303
    [resource] = db.session.scalars(sa.select(OrganisationResource)).all()
    assert resource.kind == ResourceKind.EXPERTS
    resource_id = resource.id
    page = client.get(base).get_data(as_text=True)
    assert "Three labour lawyers" in page

    response = post(
        f"{base}/resources/{resource.id}",
        {"kind": "venues", "description": "A hall for 200 people"},
        htmx=True,
    )
    assert response.status_code == 200
    assert 'id="resources"' in response.get_data(as_text=True)
    assert "A hall for 200 people" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(OrganisationResource, resource.id).kind == ResourceKind.VENUES

    # An empty description is refused; the row keeps what was there.
    response = post(f"{base}/resources/{resource.id}", {"kind": "funds", "description": ""})
    assert response.status_code == 422
    assert "Please describe the resource." in response.get_data(as_text=True)
    response = post(f"{base}/resources", {"kind": "funds", "description": ""})
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(OrganisationResource, resource.id).kind == ResourceKind.VENUES
    assert db.session.scalar(sa.select(sa.func.count(OrganisationResource.id))) == 1

    assert post(f"{base}/resources/{resource.id}/remove").status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(OrganisationResource.id))) == 0

    actions = [(r.action, r.object_id) for r in audit_rows()]
    assert actions == [
        ("organisation.resource_add", str(org.id)),
        ("organisation.resource_update", str(org.id)),
        ("organisation.resource_remove", str(org.id)),
    ]
    update = audit_rows("organisation.resource_update")[0]
    assert update.before == {
        "resource_id": resource_id,
        "kind": "experts",
        "description": "Three labour lawyers",
    }
    assert update.after["kind"] == "venues"


def test_another_partners_resource_is_404(client, admin, post):
    org, other = make_organisation(), make_organisation()
    other.resources.append(OrganisationResource(kind=ResourceKind.FUNDS, description="Money"))
    db.session.commit()
    resource_id = other.resources[0].id
    assert post(f"/admin/partners/{org.id}/resources/{resource_id}/remove").status_code == 404
    assert db.session.get(OrganisationResource, resource_id) is not None


def test_an_invited_staff_member_chooses_a_password_and_logs_in(client, admin, post, app):
    org = make_organisation(name_en="Youth league", kind=OrganisationKind.YOUTH_LEAGUE)
    db.session.commit()
    response = post(
        f"/admin/partners/{org.id}/staff",
        {"email": "New.Staff@Example.org", "display_name": "Wang Fang"},
    )
    assert response.status_code == 303
    staff = db.session.scalar(sa.select(User).where(User.email == "new.staff@example.org"))
    assert staff.role == Role.PARTNER
    assert staff.organisation_id == org.id
    assert not staff.is_verified
    assert staff.password_hash == ""
    [mail] = db.session.scalars(sa.select(OutboxEmail)).all()
    assert mail.to_address == "new.staff@example.org"
    assert mail.subject == "You are invited to Huiju for Youth league"
    assert "Wang Fang" in mail.body_text
    [row] = audit_rows("user.invite")
    assert row.after == {
        "email": "new.staff@example.org",
        "role": "partner",
        "organisation_id": org.id,
    }
    page = client.get(f"/admin/partners/{org.id}").get_data(as_text=True)
    assert "Wang Fang" in page and "Invited, not yet joined" in page

    # The link works: the invited person chooses a password…
    link = re.search(r"https?://\S+/auth/reset/\S+", mail.body_text).group(0)
    path = "/auth/reset/" + link.rsplit("/auth/reset/", 1)[1]
    other = app.test_client()
    other.set_cookie("locale", "en")
    page = other.get(path)
    assert page.status_code == 200
    password = "a long and unusual passphrase 7"
    response = other.post(
        path,
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "password": password,
            "confirm": password,
        },
    )
    assert response.status_code == 303
    # …and logs in as staff of the organisation.
    login_page = other.get("/auth/login").get_data(as_text=True)
    response = other.post(
        "/auth/login",
        data={
            "csrf_token": csrf_token_from(login_page),
            "email": "new.staff@example.org",
            "password": password,
        },
    )
    assert response.status_code == 303
    assert "Wang Fang" in other.get("/me").get_data(as_text=True)
    db.session.expire_all()
    staff = db.session.get(User, staff.id)
    assert staff.is_verified and staff.role == Role.PARTNER and staff.organisation_id == org.id
    # The link is single-use.
    assert other.get(path).status_code == 400


def test_inviting_an_address_that_has_an_account_is_refused(client, admin, post):
    org = make_organisation()
    existing = make_user()
    db.session.commit()
    response = post(
        f"/admin/partners/{org.id}/staff",
        {"email": existing.email.upper(), "display_name": "Someone"},
    )
    assert response.status_code == 422
    assert "An account with this e-mail address already exists." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2
    assert db.session.scalars(sa.select(OutboxEmail)).all() == []
    assert audit_rows() == []
    db.session.expire_all()
    assert db.session.get(User, existing.id).role == Role.MEMBER


def test_the_partner_list_filters_by_kind(client, admin):
    make_organisation(name_en="A union", kind=OrganisationKind.UNION)
    make_organisation(name_en="A company", kind=OrganisationKind.COMPANY)
    db.session.commit()
    page = client.get("/admin/partners?kind=union").get_data(as_text=True)
    assert "A union" in page and "A company" not in page
    page = client.get("/admin/partners?kind=bogus").get_data(as_text=True)
    assert "A union" in page and "A company" in page
    fragment = client.get("/admin/partners?kind=company", headers={"HX-Request": "true"})
    assert fragment.get_data(as_text=True).lstrip().startswith('<section id="partners-list"')


def _many_partners(n: int) -> None:
    categories = [make_category() for _ in range(3)]
    for i in range(n):
        org = make_organisation(name_zh=f"组织{i:03d}")
        org.categories = categories[: i % 3 + 1]
        make_user(Role.PARTNER, org)
    db.session.commit()


def test_the_partner_list_pages_in_constant_queries(client, admin, queries):
    _many_partners(2)
    with queries() as small:
        assert client.get("/admin/partners").status_code == 200
    _many_partners(45)
    with queries() as large:
        page = client.get("/admin/partners").get_data(as_text=True)
    assert len(large) == len(small)
    assert page.count('class="card admin-row"') == 20
    assert "?page=2" in page
    with queries() as last:
        page = client.get("/admin/partners?page=3").get_data(as_text=True)
    assert len(last) == len(small)
    assert page.count('class="card admin-row"') == 7
    assert client.get("/admin/partners?page=999999999").status_code == 200
