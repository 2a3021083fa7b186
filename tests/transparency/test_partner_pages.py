"""/partners and /partners/<id>: only active partners, what they do, their
projects and their response metrics over a period; no person's contact data."""

from __future__ import annotations

import re

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.partners.models import OrganisationKind, OrganisationResource, ResourceKind
from portal.projects.models import Project, ProjectStatus
from tests.factories import make_category, make_need, make_organisation, make_user


def get(client, url, **headers):
    client.set_cookie("locale", "en")
    return client.get(url, headers=headers)


def test_directory_lists_active_partners_by_kind(client, app):
    union = make_organisation(name_en="Dock Workers Union", kind=OrganisationKind.UNION)
    make_organisation(name_en="Old Union", kind=OrganisationKind.UNION, is_active=False)
    make_organisation(name_en="Green Hands", kind=OrganisationKind.NGO)
    db.session.commit()
    html = get(client, "/partners").get_data(as_text=True)
    assert "Dock Workers Union" in html and "Green Hands" in html
    assert "Old Union" not in html
    assert (
        html.index('id="kind-union"')
        < html.index("Dock Workers Union")
        < html.index('id="kind-ngo"')
    )
    assert f'href="/partners/{union.id}"' in html

    html = get(client, "/partners?kind=union").get_data(as_text=True)
    assert "Dock Workers Union" in html and "Green Hands" not in html
    # An unknown kind shows everyone rather than an error page.
    assert "Green Hands" in get(client, "/partners?kind=martians").get_data(as_text=True)


def test_partner_page_shows_what_it_does_projects_and_metrics(client, world):
    p = world["p"]
    p.description_en = "We keep the roads safe."
    p.contact_email = "desk@pine.example.org"
    p.categories.append(world["a"])
    db.session.add(
        OrganisationResource(
            organisation_id=p.id, kind=ResourceKind.VENUES, description="A hall for 80 people"
        )
    )
    staff = make_user(Role.PARTNER, p)
    other = make_organisation(name_en="Lead Org")
    db.session.add_all(
        [
            Project(
                title="Safer crossings",
                goal="G",
                target="T",
                lead_organisation_id=p.id,
                status=ProjectStatus.IN_PROGRESS,
                progress=40,
            ),
            supported := Project(
                title="Shared bikes",
                goal="G",
                target="T",
                lead_organisation_id=other.id,
                status=ProjectStatus.PLANNED,
            ),
            Project(title="Not ours", goal="G", target="T", lead_organisation_id=other.id),
        ]
    )
    supported.supporting_organisations.append(p)
    db.session.commit()

    response = get(client, f"/partners/{p.id}?start=2026-01-01&end=2026-03-31")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Pine Union" in html and "We keep the roads safe." in html
    assert "Roads" in html and "A hall for 80 people" in html and "Venues" in html
    projects = re.search(r'id="partner-projects">(.*?)</ul>', html, re.S).group(1)
    assert "Safer crossings" in projects and "Lead partner" in projects
    assert "Shared bikes" in projects and "Supporting partner, led by Lead Org" in projects
    assert "Not ours" not in projects
    if "projects.show" in client.application.view_functions:
        assert f'href="/projects/{supported.id}"' in projects
    assert "In progress" in projects and "40.0%" in projects
    metrics = re.search(r'id="partner-metrics"(.*?)</section>', html, re.S).group(1)
    assert "Period: Jan 1, 2026 – Mar 31, 2026" in metrics
    assert "2 of 2 answered in time" in metrics and "100.0%" in metrics
    # The organisation's own contact is public; its staff's e-mail never is.
    assert "desk@pine.example.org" in html
    assert staff.email not in html and staff.display_name not in html


def test_partner_page_defaults_to_the_last_twelve_months(client, world):
    html = get(client, f"/partners/{world['q'].id}").get_data(as_text=True)
    assert re.search(r"Period: \w+ 1, \d{4} – ", html)


def test_partner_period_filter_fragment_and_errors(client, world):
    url = f"/partners/{world['q'].id}?start=2026-01-01&end=2026-03-31"
    fragment = get(client, url, **{"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<section id="partner-metrics"')
    assert "HX-Request" in fragment.headers["Vary"]
    html = get(client, f"/partners/{world['q'].id}?start=2026-04-01&end=2026-01-01").get_data(
        as_text=True
    )
    assert "The end date must be on or after the start date." in html


def test_inactive_or_unknown_partner_is_not_found(client, app):
    gone = make_organisation(is_active=False)
    db.session.commit()
    assert get(client, f"/partners/{gone.id}").status_code == 404
    assert get(client, "/partners/999999").status_code == 404


def _grow(size: int) -> None:
    for i in range(size):
        org = make_organisation()
        org.categories.append(make_category())
        db.session.add(
            OrganisationResource(
                organisation_id=org.id, kind=ResourceKind.FUNDS, description=f"Fund {i}"
            )
        )
        make_need(NeedStatus.RESOLVED, partner=org)
    db.session.commit()


def test_partner_pages_run_a_constant_number_of_queries(client, app, queries):
    host = make_organisation(name_en="Host")
    db.session.commit()

    def grow(size):
        _grow(size)
        for i in range(size):
            lead = make_organisation()
            project = Project(title=f"P{i}", goal="G", target="T", lead_organisation_id=lead.id)
            project.supporting_organisations.append(host)
            db.session.add(project)
            need, _ = make_need(NeedStatus.RESOLVED, partner=host)
            host.categories.append(need.category)
            db.session.add(
                OrganisationResource(
                    organisation_id=host.id, kind=ResourceKind.EXPERTS, description=f"E{i}"
                )
            )
        db.session.commit()

    get(client, "/partners")  # warm up
    grow(2)
    with queries() as small_show:
        assert get(client, f"/partners/{host.id}").status_code == 200
    with queries() as small_index:
        assert get(client, "/partners").status_code == 200
    grow(18)
    with queries() as large_show:
        html = get(client, f"/partners/{host.id}").get_data(as_text=True)
    with queries() as large_index:
        assert get(client, "/partners").status_code == 200
    assert html.count("<progress") == 20
    assert len(large_show) == len(small_show), "\n".join(large_show)
    assert len(large_index) == len(small_index), "\n".join(large_index)
