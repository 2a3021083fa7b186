"""The project page and the partners' actions on it: milestones (late marking,
progress), manual progress, commitments, updates (sanitised), who may act."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.partners.models import OrganisationResource, ResourceKind
from portal.projects import services
from portal.projects.models import (
    Milestone,
    ProgressMode,
    Project,
    ProjectStatus,
    ProjectUpdate,
    ResourceCommitment,
)
from portal.projects.text import markdown_to_html
from tests.factories import make_need, make_user


def _project(project_id: int) -> Project:
    db.session.expire_all()
    return db.session.get(Project, project_id)


def test_the_public_page_shows_goal_partners_needs_and_progress(client, make_project, world):
    project = make_project()
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Skills training for delivery riders" in html
    assert "Train riders in road safety." in html and "200 riders trained" in html
    assert world.lead.name_en in html and world.support.name_en in html
    assert world.needs[0].ref in html and "badge-open" in html
    assert 'max="100" value="0"' in html
    assert "Manage this project" not in html  # visitors see no action forms
    listing = client.get("/projects").get_data(as_text=True)
    assert "Skills training for delivery riders" in listing and world.lead.name_en in listing
    assert client.get("/projects/999").status_code == 404


def test_status_filter_on_the_list(client, make_project, world):
    make_project(title="Planned one")
    running = make_project(title="Running one")
    services.change_status(running, world.admin, ProjectStatus.IN_PROGRESS)
    db.session.commit()
    response = client.get("/projects?status=in_progress")
    assert response.status == "200 OK"  # the filter must not leak into the HTTP status line
    html = response.get_data(as_text=True)
    assert "Running one" in html and "Planned one" not in html
    assert '<option value="in_progress" selected>' in html
    fragment = client.get("/projects?status=planned", headers={"HX-Request": "true"})
    assert fragment.status == "200 OK"
    text = fragment.get_data(as_text=True)
    assert "Planned one" in text and "<html" not in text


def test_milestones_mark_late_and_drive_progress(client, login, make_project, world, post):
    project = make_project()
    today = services.local_today()
    login(world.lead_staff)
    for title, due in [
        ("Find a venue", today - timedelta(days=10)),
        ("Recruit trainers", today - timedelta(days=2)),
        ("First course", today + timedelta(days=20)),
        ("Second course", today + timedelta(days=40)),
    ]:
        response = post(
            f"/projects/{project.id}/milestones",
            {"milestone-title": title, "milestone-due_on": due.isoformat()},
        )
        assert response.status_code == 303
    first = db.session.scalar(sa.select(Milestone).where(Milestone.title == "Find a venue"))
    # done today, after its due date: late; and "Recruit trainers" is past due, not done
    assert post(f"/projects/{project.id}/milestones/{first.id}/done").status_code == 303
    assert _project(project.id).progress == 25
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert html.count("Late: done after the due date") == 1
    assert html.count("Late: past due, not done") == 1
    assert 'value="25"' in html
    # a second click does not count twice
    assert post(f"/projects/{project.id}/milestones/{first.id}/done").status_code == 422
    response = post(
        f"/projects/{project.id}/milestones", {"milestone-title": "", "milestone-due_on": "x"}
    )
    assert response.status_code == 422
    assert "Please name the milestone." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Milestone.id))) == 4


def test_manual_progress_needs_a_reason(client, login, make_project, world, post):
    project = make_project()
    login(world.support_staff)
    url = f"/projects/{project.id}/progress"
    response = post(url, {"progress-mode": "manual", "progress-value": "40", "progress-reason": ""})
    assert response.status_code == 422
    assert "Please say why the progress is set by hand." in response.get_data(as_text=True)
    assert _project(project.id).progress == 0
    data = {"progress-mode": "manual", "progress-value": "40", "progress-reason": "Venue ready."}
    assert post(url, data).status_code == 303
    project = _project(project.id)
    assert (project.progress, project.progress_mode) == (40, ProgressMode.MANUAL)
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Progress set by hand:" in html and "Venue ready." in html
    assert post(url, {"progress-mode": "milestones"}).status_code == 303
    assert _project(project.id).progress == 0  # no milestones yet
    assert "project.progress" in set(db.session.scalars(sa.select(AuditEntry.action)))


def test_status_changes_set_the_dates(login, make_project, world, post):
    project = make_project()
    login(world.lead_staff)
    url = f"/projects/{project.id}/status"
    assert post(url, {"status-status": "completed"}).status_code == 422  # not from planned
    assert post(url, {"status-status": "in_progress"}).status_code == 303
    assert _project(project.id).started_at is not None
    assert post(url, {"status-status": "completed"}).status_code == 303
    project = _project(project.id)
    assert project.status == ProjectStatus.COMPLETED and project.completed_at is not None


def test_commitments_committed_then_delivered_per_partner(client, login, make_project, world, post):
    venue = OrganisationResource(
        organisation_id=world.support.id, kind=ResourceKind.VENUES, description="Union hall"
    )
    db.session.add(venue)
    db.session.commit()
    project = make_project()
    login(world.support_staff)
    url = f"/projects/{project.id}/commitments"
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Union hall" in html  # offered resources to choose from
    response = post(url, {"commitment-organisation": str(world.support.id)})
    assert response.status_code == 422
    assert "Pick an offered resource" in response.get_data(as_text=True)
    # another partner's organisation cannot be chosen by this staff member
    response = post(
        url,
        {
            "commitment-organisation": str(world.lead.id),
            "commitment-kind": "funds",
            "commitment-description": "Money",
        },
    )
    assert response.status_code == 422
    assert (
        post(
            url, {"commitment-organisation": str(world.support.id), "commitment-resource": venue.id}
        ).status_code
        == 303
    )
    assert (
        post(
            url,
            {
                "commitment-organisation": str(world.support.id),
                "commitment-kind": "volunteers",
                "commitment-description": "Volunteer trainers",
                "commitment-quantity": "5",
            },
        ).status_code
        == 303
    )
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "0 of 2 delivered" in html and "Volunteer trainers" in html
    hall = db.session.scalar(
        sa.select(ResourceCommitment).where(ResourceCommitment.resource_id == venue.id)
    )
    login(world.lead_staff)  # the lead cannot mark another partner's commitment
    assert post(f"/projects/{project.id}/commitments/{hall.id}/delivered").status_code == 422
    login(world.support_staff)
    assert post(f"/projects/{project.id}/commitments/{hall.id}/delivered").status_code == 303
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "1 of 2 delivered" in html and "Delivered" in html
    assert "0 of 0 delivered" in html  # the lead committed nothing yet


def _every_project_post(project, milestone, commitment) -> list[tuple[str, dict]]:
    p = f"/projects/{project.id}"
    return [
        (f"{p}/updates", {"update-body": "Hello"}),
        (f"{p}/milestones", {"milestone-title": "M", "milestone-due_on": "2030-01-01"}),
        (f"{p}/milestones/{milestone.id}/done", {}),
        (
            f"{p}/progress",
            {"progress-mode": "manual", "progress-value": "5", "progress-reason": "x"},
        ),
        (f"{p}/status", {"status-status": "in_progress"}),
        (
            f"{p}/commitments",
            {
                "commitment-organisation": "1",
                "commitment-kind": "funds",
                "commitment-description": "x",
            },
        ),
        (f"{p}/commitments/{commitment.id}/delivered", {}),
        (f"{p}/needs", {"needs-need_refs": "N-2026-000001"}),
    ]


@pytest.mark.parametrize("who", ["other_staff", "member"])
def test_only_the_projects_partners_and_admins_act(client, login, make_project, world, post, who):
    project = make_project()
    milestone = services.add_milestone(project, world.admin, "M", services.local_today())
    commitment = services.add_commitment(
        project,
        world.lead_staff,
        services.CommitmentData(world.lead.id, None, ResourceKind.FUNDS, "Funds", None, 1000),
    )
    db.session.commit()
    login(getattr(world, who))
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Manage this project" not in html and "Mark delivered" not in html
    for url, data in _every_project_post(project, milestone, commitment):
        assert post(url, data).status_code in (403, 404), url
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(ProjectUpdate.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Milestone.id))) == 1
    assert _project(project.id).status == ProjectStatus.PLANNED
    assert db.session.get(ResourceCommitment, commitment.id).delivered_at is None


@pytest.mark.parametrize("who", ["lead_staff", "support_staff", "admin"])
def test_partners_and_admins_see_the_forms_and_post_updates(
    client, login, make_project, world, post, who
):
    project = make_project()
    login(getattr(world, who))
    assert "Manage this project" in client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert (
        post(f"/projects/{project.id}/updates", {"update-body": "Week 1 done"}).status_code == 303
    )
    assert "Week 1 done" in client.get(f"/projects/{project.id}").get_data(as_text=True)


def test_update_markdown_is_sanitised(client, login, make_project, world, post):
    project = make_project()
    login(world.lead_staff)
    body = (
        "**Bold** and [site](https://example.org)\n\n"
        "<script>alert(1)</script>\n\n"
        "[bad](javascript:alert(1)) <img src=x onerror=alert(1)>\n\n"
        '<a href="javascript:alert(2)" onclick="x()">raw</a>'
    )
    assert post(f"/projects/{project.id}/updates", {"update-body": body}).status_code == 303
    update = db.session.scalar(sa.select(ProjectUpdate))
    assert update.body_markdown == body
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "<strong>Bold</strong>" in html
    assert '<a href="https://example.org" rel="nofollow noopener ugc">site</a>' in html
    assert "<script>alert" not in html
    # what is left of them is escaped text, never a tag or an attribute
    assert not re.search(r"<a[^>]+javascript:", html)
    assert not re.search(r"<[a-z]+[^>]+\bon(error|click)=", html)
    assert "<img" not in html
    assert "<p>" in markdown_to_html("plain") and markdown_to_html("<b>x</b>") == (
        "<p>&lt;b&gt;x&lt;/b&gt;</p>"
    )


def _grow(make_project, world, n: int) -> Project:
    """A project with n of everything shown on its page."""
    needs = [make_need()[0] for _ in range(n)]
    project = make_project(needs=needs)
    for i in range(n):
        services.add_milestone(project, world.admin, f"M{i}", services.local_today())
        services.add_commitment(
            project,
            world.admin,
            services.CommitmentData(world.support.id, None, ResourceKind.FUNDS, f"C{i}", 1, None),
        )
        services.post_update(project, world.admin, f"Update {i}")
    db.session.commit()
    return project


@pytest.mark.parametrize("who", [None, "lead_staff"])
def test_the_project_page_runs_a_constant_number_of_queries(
    client, login, queries, make_project, world, who
):
    if who:
        login(getattr(world, who))
    small, large = _grow(make_project, world, 1).id, _grow(make_project, world, 6).id
    client.get(f"/projects/{small}")
    with queries() as few:
        assert client.get(f"/projects/{small}").status_code == 200
    with queries() as many:
        assert client.get(f"/projects/{large}").status_code == 200
    assert len(few) == len(many)
    assert len(many) <= 14


def test_the_list_runs_a_constant_number_of_queries(client, queries, make_project, world):
    for _ in range(2):
        make_project(needs=[])
    with queries() as few:
        assert client.get("/projects").status_code == 200
    for _ in range(25):
        make_project(needs=[])
    with queries() as many:
        html = client.get("/projects").get_data(as_text=True)
    assert len(few) == len(many) <= 3
    assert "Older →" in html  # bounded pages
    older = client.get("/projects?before=999999").get_data(as_text=True)
    assert older.count("project-card") >= 20


def test_another_member_is_listed_nowhere(client, make_project, world):
    project = make_project()
    member = make_user()
    db.session.commit()
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert member.email not in html and world.lead_staff.email not in html
