"""Proposals (立项申请): submit, review (changes → resubmit → approve), decline,
and projects created by admins from prioritised needs or a closed round."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.projects.models import Project, ProjectProposal, ProposalState
from portal.voting.models import RoundItem
from portal.voting.services import create_round
from tests.factories import make_need, make_user
from tests.forms import form_for, page_forms


def _proposal_fields(client, world, **overrides):
    form = form_for(client.get("/projects/proposals/new").get_data(as_text=True), "/new")
    fields = form["fields"] | {
        "title": "Night-shift childcare",
        "background": "Parents on night shifts have nowhere to leave children.",
        "goal": "Open two evening childcare rooms.",
        "expected_result": "Parents can work night shifts safely.",
        "target": "2 rooms, 60 children",
        "target_value": "60",
        "resources_needed": "A venue and volunteers.",
        "suggested_partners": str(world.support.id),
        "need_refs": f"{world.needs[0].ref}\n{world.needs[1].ref}",
    }
    fields.update(overrides)
    return form["action"], fields


def _creation_form(html: str) -> dict:
    """The POST form of /admin/projects/new (the GET forms above it prefill it)."""
    return next(f for f in page_forms(html) if "title" in f["fields"])


def _audit_actions() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.action).order_by(AuditEntry.id)))


def test_unknown_or_unpublished_references_are_refused_and_the_form_is_kept(client, login, world):
    login(world.member)
    hidden, _ = make_need(NeedStatus.SUBMITTED)
    db.session.commit()
    action, fields = _proposal_fields(
        client, world, need_refs=f"{world.needs[0].ref}, N-2026-999999 {hidden.ref}"
    )
    response = client.post(action, data=fields)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "These references are not published needs" in html
    assert "N-2026-999999" in html and hidden.ref in html
    assert "Night-shift childcare" in html  # what was typed stays
    response = client.post(action, data=fields | {"need_refs": "not-a-ref"})
    assert response.status_code == 422
    assert "Not a need reference: NOT-A-REF" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ProjectProposal.id))) == 0


def test_a_double_submit_makes_one_proposal(client, login, world):
    login(world.member)
    action, fields = _proposal_fields(client, world)
    assert client.post(action, data=fields).status_code == 303
    assert client.post(action, data=fields).status_code == 303
    assert db.session.scalar(sa.select(sa.func.count(ProjectProposal.id))) == 1


def test_unverified_members_cannot_propose(client, login, world):
    login(make_user(verified=False))
    db.session.commit()
    assert client.get("/projects/proposals/new").status_code == 403


def test_changes_requested_then_resubmitted_then_approved(client, login, world, post):
    login(world.member)
    action, fields = _proposal_fields(client, world)
    assert client.post(action, data=fields).status_code == 303
    proposal = db.session.scalar(sa.select(ProjectProposal))
    assert "Awaiting review" in client.get("/projects/proposals").get_data(as_text=True)

    login(world.admin)
    page = client.get(f"/admin/projects/proposals/{proposal.id}").get_data(as_text=True)
    assert "Night-shift childcare" in page and world.needs[0].ref in page
    assert "Night-shift childcare" in client.get("/admin/projects").get_data(as_text=True)
    url = f"/admin/projects/proposals/{proposal.id}/changes"
    assert post(url, {"note": ""}).status_code == 422
    assert post(url, {"note": "Please name the venue."}).status_code == 303

    login(world.member)
    mine = client.get("/projects/proposals").get_data(as_text=True)
    assert "Changes requested" in mine and "Please name the venue." in mine
    edit = form_for(
        client.get(f"/projects/proposals/{proposal.id}/edit").get_data(as_text=True), "/edit"
    )
    assert edit["fields"]["title"] == "Night-shift childcare"
    # (textareas are not read by tests.forms: send them as a browser would)
    _, typed = _proposal_fields(client, world)
    response = client.post(
        edit["action"], data=edit["fields"] | typed | {"resources_needed": "The union's hall."}
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert proposal.state == ProposalState.PENDING
    assert proposal.resources_needed == "The union's hall."

    login(world.admin)
    page = client.get(f"/admin/projects/proposals/{proposal.id}").get_data(as_text=True)
    approve = form_for(page, "/approve")
    assert approve["fields"]["title"] == "Night-shift childcare"
    assert f"{world.needs[0].ref}\n{world.needs[1].ref}</textarea>" in page  # prefilled
    data = approve["fields"] | {
        "goal": "Open two evening childcare rooms.",
        "need_refs": f"{world.needs[0].ref}\n{world.needs[1].ref}",
        "lead": str(world.lead.id),
        "supporters": str(world.support.id),
    }
    response = client.post(approve["action"], data=data)
    assert response.status_code == 303
    project = db.session.scalar(sa.select(Project))
    assert response.headers["Location"].endswith(f"/projects/{project.id}")
    assert project.proposal_id == proposal.id
    assert project.lead_organisation_id == world.lead.id
    assert [o.id for o in project.supporting_organisations] == [world.support.id]
    assert [link.need_id for link in project.need_links] == [n.id for n in world.needs[:2]]
    db.session.expire_all()
    assert proposal.state == ProposalState.APPROVED
    # the same form sent twice lands on the same project, and makes no second one
    again = client.post(approve["action"], data=data)
    assert again.status_code == 303 and again.headers["Location"] == response.headers["Location"]
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 1
    # a fresh approval form of a proposal already approved: refused, nothing made
    fresh = client.post(approve["action"], data=data | {"idempotency_key": "f" * 32})
    assert fresh.status_code == 422 and "already reviewed" in fresh.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 1
    assert _audit_actions().count("project.create") == 1
    assert {
        "project_proposal.submit",
        "project_proposal.request_changes",
        "project_proposal.resubmit",
        "project_proposal.approve",
        "project.create",
        "project.link_needs",
    } <= set(_audit_actions())

    login(world.member)
    mine = client.get("/projects/proposals").get_data(as_text=True)
    assert "Approved" in mine and f"/projects/{project.id}" in mine
    need_page = client.get(f"/needs/{world.needs[0].ref}").get_data(as_text=True)
    assert "Part of project" in need_page and "Night-shift childcare" in need_page


def test_declined_with_a_reason_the_proposer_reads(client, login, world, post):
    login(world.lead_staff)
    action, fields = _proposal_fields(client, world)
    client.post(action, data=fields)
    proposal = db.session.scalar(sa.select(ProjectProposal))
    assert proposal.organisation_id == world.lead.id
    login(world.admin)
    url = f"/admin/projects/proposals/{proposal.id}/decline"
    response = post(url, {"reason": ""})
    assert response.status_code == 422
    assert "Please give a reason." in response.get_data(as_text=True)
    assert post(url, {"reason": "Already covered by the district."}).status_code == 303
    login(world.lead_staff)
    mine = client.get("/projects/proposals").get_data(as_text=True)
    assert "Declined" in mine and "Already covered by the district." in mine
    assert client.get(f"/projects/proposals/{proposal.id}/edit").status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 0
    assert "project_proposal.decline" in _audit_actions()


def test_other_members_cannot_edit_a_proposal(client, login, world):
    login(world.member)
    action, fields = _proposal_fields(client, world)
    client.post(action, data=fields)
    proposal = db.session.scalar(sa.select(ProjectProposal))
    login(make_user())
    db.session.commit()
    assert client.get(f"/projects/proposals/{proposal.id}/edit").status_code == 404
    assert "Night-shift childcare" not in client.get("/projects/proposals").get_data(as_text=True)


def test_admin_creates_a_project_from_a_closed_round(client, login, world):
    extra = make_need(NeedStatus.OPEN)[0]
    round_ = create_round(
        title="Spring round",
        description="",
        needs=[*world.needs, extra],
        votes_per_member=1,
        starts_at=utcnow() - timedelta(days=10),
        ends_at=utcnow() - timedelta(days=1),
        show_live_counts=False,
        actor=world.admin,
    )
    votes = {world.needs[2].id: 9, extra.id: 7, world.needs[0].id: 5, world.needs[1].id: 1}
    for item in db.session.scalars(sa.select(RoundItem).where(RoundItem.round_id == round_.id)):
        item.vote_count = votes[item.need_id]
    db.session.commit()
    login(world.admin)
    html = client.get(f"/admin/projects/new?round={round_.id}").get_data(as_text=True)
    form = _creation_form(html)
    refs = [world.needs[2].ref, extra.ref, world.needs[0].ref]  # the top 3 by votes
    assert "\n".join(refs) + "</textarea>" in html
    assert form["fields"]["title"] == world.needs[2].title
    data = form["fields"] | {
        "need_refs": "\n".join(refs),
        "goal": "Fix the top three.",
        "target": "3 needs resolved",
        "lead": str(world.lead.id),
        "budget": "50000",
    }
    response = client.post(form["action"], data=data)
    assert response.status_code == 303
    project = db.session.scalar(sa.select(Project))
    assert project.round_id == round_.id
    assert project.budget == 50000
    assert {link.need_id for link in project.need_links} == {
        world.needs[2].id,
        extra.id,
        world.needs[0].id,
    }


def test_admin_creates_a_project_from_top_priorities_and_errors_keep_the_form(client, login, world):
    login(world.admin)
    html = client.get("/admin/projects/new").get_data(as_text=True)
    assert world.needs[0].ref in html  # the top priorities are offered
    html = client.get(
        f"/admin/projects/new?need={world.needs[0].ref}&need={world.needs[1].ref}"
    ).get_data(as_text=True)
    form = _creation_form(html)
    refs = f"{world.needs[0].ref}\n{world.needs[1].ref}"
    assert refs + "</textarea>" in html
    response = client.post(
        form["action"], data=form["fields"] | {"goal": "A goal", "need_refs": refs}
    )
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Please choose the lead partner." in text
    assert "Please give a measurable target." in text
    assert db.session.scalar(sa.select(sa.func.count(Project.id))) == 0
