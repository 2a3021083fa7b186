"""A form sent twice makes one row: the admin's new project (idempotency key),
and the partners' milestone, commitment and update (client token), with one
audit row and one e-mail per follower; and the achieved value ("X of N")."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Delivery
from portal.extensions import db
from portal.notify.models import OutboxEmail
from portal.projects import services
from portal.projects.models import Milestone, Project, ProjectUpdate, ResourceCommitment
from tests.factories import make_user
from tests.forms import form_for, page_forms


def _count(column) -> int:
    return db.session.scalar(sa.select(sa.func.count(column)))


def _audits(action: str) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == action)
    )


def _mails() -> list[str]:
    return list(db.session.scalars(sa.select(OutboxEmail.to_address).order_by(OutboxEmail.id)))


def test_the_new_project_form_sent_twice_makes_one_project(client, login, world):
    login(world.admin)
    html = client.get(f"/admin/projects/new?need={world.needs[0].ref}").get_data(as_text=True)
    form = next(f for f in page_forms(html) if "title" in f["fields"])
    assert len(form["fields"]["idempotency_key"]) == 32
    data = form["fields"] | {
        "goal": "A goal",
        "target": "10 people helped",
        "lead": str(world.lead.id),
    }
    first = client.post(form["action"], data=data)
    second = client.post(form["action"], data=data)
    assert first.status_code == second.status_code == 303
    project = db.session.scalar(sa.select(Project))
    assert first.headers["Location"] == second.headers["Location"]
    assert first.headers["Location"].endswith(f"/projects/{project.id}")
    assert _count(Project.id) == 1 and _audits("project.create") == 1
    assert project.idempotency_key == data["idempotency_key"]
    # a form without its key (or a forged one) is refused, nothing is made
    response = client.post(form["action"], data=data | {"idempotency_key": "x"})
    assert response.status_code == 422
    assert "This form is out of date" in response.get_data(as_text=True)
    assert _count(Project.id) == 1


@pytest.fixture
def followed(world, make_project):
    """A project with two followers who hear at once, and one on the digest."""
    project = make_project()
    readers = [make_user() for _ in range(3)]
    for reader in readers[:2]:
        reader.notify_followed = Delivery.IMMEDIATE
    for reader in readers:
        services.follow_project(project, reader)
    db.session.commit()
    return project, readers


@pytest.mark.parametrize(
    ("suffix", "fields", "model", "action"),
    [
        (
            "/updates",
            {"update-body": "Week 1: the venue is ready."},
            ProjectUpdate,
            "project.update",
        ),
        (
            "/milestones",
            {"milestone-title": "Find a venue", "milestone-due_on": "2030-01-01"},
            Milestone,
            "project.milestone_add",
        ),
        (
            "/commitments",
            {"commitment-kind": "funds", "commitment-description": "Training fund"},
            ResourceCommitment,
            "project.commitment_add",
        ),
    ],
)
def test_a_partner_form_sent_twice_makes_one_row(
    client, login, world, followed, suffix, fields, model, action
):
    project, readers = followed
    login(world.lead_staff)
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    form = form_for(html, f"/projects/{project.id}{suffix}")
    token = next(v for k, v in form["fields"].items() if k.endswith("client_token"))
    assert len(token) == 32
    data = form["fields"] | fields
    if model is ResourceCommitment:
        data["commitment-organisation"] = str(world.lead.id)
    for _ in range(2):
        response = client.post(form["action"], data=data)
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/projects/{project.id}#manage")
    db.session.expire_all()
    assert _count(model.id) == 1
    assert db.session.scalar(sa.select(model.client_token)) == token
    assert _audits(action) == 1
    if model is ProjectUpdate:  # one e-mail per follower who hears at once
        assert sorted(_mails()) == sorted(r.email for r in readers[:2])
    else:
        assert _mails() == []
    # the page shows a fresh token: the next form sent is a new row
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    again = form_for(html, f"/projects/{project.id}{suffix}")
    assert again["fields"][f"{form_prefix(suffix)}-client_token"] != token
    fresh = again["fields"] | {k: v for k, v in data.items() if not k.endswith("client_token")}
    assert client.post(again["action"], data=fresh).status_code == 303
    assert _count(model.id) == 2
    # without a token the form is refused
    no_token = data | {f"{form_prefix(suffix)}-client_token": ""}
    assert client.post(form["action"], data=no_token).status_code == 422
    assert _count(model.id) == 2


def form_prefix(suffix: str) -> str:
    return {"/updates": "update", "/milestones": "milestone", "/commitments": "commitment"}[suffix]


def test_the_services_return_the_first_row_for_a_known_token(world, make_project):
    project = make_project()
    first = services.add_milestone(project, world.admin, "M", services.local_today(), "a" * 32)
    again = services.add_milestone(project, world.admin, "M", services.local_today(), "a" * 32)
    other = make_project()
    elsewhere = services.add_milestone(other, world.admin, "M", services.local_today(), "a" * 32)
    db.session.commit()
    assert first.id == again.id != elsewhere.id  # a token is unique within its project
    assert _count(Milestone.id) == 2 and _audits("project.milestone_add") == 2


# --- achieved value --------------------------------------------------------------


def test_partners_record_the_achieved_value(client, login, world, followed, post):
    project, readers = followed
    url = f"/projects/{project.id}/achieved"
    assert "0 of 200" in client.get(f"/projects/{project.id}").get_data(as_text=True)
    login(world.support_staff)
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert form_for(page, "/achieved")["fields"]["achieved-value"] == ""
    for bad in ("-1", "abc", ""):
        response = post(url, {"achieved-value": bad})
        assert response.status_code == 422, bad
        assert "achieved-value" in response.get_data(as_text=True)
    assert "Please give a whole number of 0 or more." in post(
        url, {"achieved-value": "-1"}
    ).get_data(as_text=True)
    assert db.session.get(Project, project.id).achieved_value is None

    assert post(url, {"achieved-value": "120"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Project, project.id).achieved_value == 120
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "120 of 200" in html
    assert form_for(html, "/achieved")["fields"]["achieved-value"] == "120"
    mails = list(db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id)))
    assert sorted(m.to_address for m in mails) == sorted(r.email for r in readers[:2])
    assert "120" in mails[0].subject and "200" in mails[0].subject  # in the follower's language
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "project.achieved"))
    assert entry is not None and entry.actor_id == world.support_staff.id
    # the same value again (a double submit) changes, audits and tells nothing
    assert post(url, {"achieved-value": "120"}).status_code == 303
    assert _audits("project.achieved") == 1 and len(_mails()) == 2


def test_no_achieved_form_without_a_target_number(client, login, world, make_project, post):
    project = make_project()
    project.target_value = None
    db.session.commit()
    login(world.admin)
    html = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "/achieved" not in html and " of " not in html.split("Target")[1][:200]
    response = post(f"/projects/{project.id}/achieved", {"achieved-value": "5"})
    assert response.status_code == 422
    assert "no target number" in response.get_data(as_text=True)


@pytest.mark.parametrize("who", ["other_staff", "member"])
def test_outsiders_cannot_record_the_achieved_value(login, world, make_project, post, who):
    project = make_project()
    login(getattr(world, who))
    assert post(f"/projects/{project.id}/achieved", {"achieved-value": "5"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(Project, project.id).achieved_value is None
