"""Lead and supporting partners on one need (主办/协办), through the pages:
the admin names a supporter when routing, the lead accepts and resolves, the
supporter posts updates and gives the input it is asked for; the public sees
both; the metrics count the lead's times and the supporter's own inputs."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.metrics.services import compute
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.notify.models import OutboxEmail
from portal.partners.cohandlers import remind_inputs, support_figures
from portal.partners.models import CoHandler
from portal.workdays.services import local_today
from portal.workflow.models import TimelineEvent
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_user
from tests.forms import form_for
from tests.partners.conftest import fresh


@pytest.fixture
def team(make_partner, login):
    """A lead and a supporter with staff, an admin, and an open need."""
    lead = make_partner(name_zh="区总工会", name_en="District Union")
    supporter = make_partner(name_zh="区妇联", name_en="District Women's Federation")
    admin = make_user(Role.ADMIN)
    need, _ = make_need(
        NeedStatus.OPEN, email="asker@example.org", title="Broken ramp at the clinic"
    )
    db.session.commit()
    return lead, supporter, admin, need


def _post_route(client, need, lead_id: int, supporter_id: int):
    page = client.get(f"/admin/needs/{need.ref}").text
    form = form_for(page, f"/admin/needs/{need.ref}/route")
    data = {**form["fields"], "organisation": str(lead_id), "supporters": str(supporter_id)}
    return client.post(form["action"], data=data)


def _route_with_supporter(client, login, team):
    lead, supporter, admin, need = team
    login(admin)
    response = _post_route(client, need, lead.organisation.id, supporter.organisation.id)
    assert response.status_code == 303, response.text
    return need


def _ask_input(client, need, supporter, due_day, question="How many volunteers can you send?"):
    page = client.get(f"/admin/needs/{need.ref}").text
    form = form_for(page, f"/admin/needs/{need.ref}/input-requests")
    data = {
        **form["fields"],
        "supporter": str(supporter.organisation.id),
        "question": question,
        "due_date": due_day.isoformat(),
    }
    return client.post(form["action"], data=data)


def _give_input(client, need, text="Six volunteers on Saturday."):
    page = client.get(f"/partner/needs/{need.ref}").text
    form = form_for(page, f"/partner/needs/{need.ref}/input")
    return client.post(form["action"], data={**form["fields"], "input-text": text})


def test_routing_names_a_lead_and_a_supporter_shown_to_the_public(client, login, team):
    lead, supporter, _, need = team
    _route_with_supporter(client, login, team)
    assert fresh(need).assigned_organisation_id == lead.organisation.id
    (row,) = db.session.scalars(sa.select(CoHandler).where(CoHandler.need_id == need.id))
    assert row.organisation_id == supporter.organisation.id
    public = client.get(f"/needs/{need.ref}").text
    assert "Led by District Union" in public
    assert "Supported by District Women&#39;s Federation" in public
    assert "Supporting partner joined" in public


def test_the_lead_cannot_also_support(client, login, team):
    lead, _, admin, need = team
    login(admin)
    response = _post_route(client, need, lead.organisation.id, lead.organisation.id)
    assert response.status_code == 422
    assert "The lead partner cannot also support the need." in response.text
    assert fresh(need).status == NeedStatus.OPEN
    assert db.session.scalar(sa.select(sa.func.count(CoHandler.id))) == 0


def test_the_supporter_sees_the_need_but_only_the_lead_answers_it(client, login, team):
    lead, supporter, _, need = team
    _route_with_supporter(client, login, team)
    login(supporter.staff)
    inbox = client.get("/partner/inbox").text
    assert "Needs you support" in inbox and "Broken ramp at the clinic" in inbox
    assert "Lead: District Union" in inbox
    page = client.get(f"/partner/needs/{need.ref}").text
    assert "Supporting" in page and "District Union leads it" in page
    assert "Accept this need" not in page
    assert "asker@example.org" not in page  # the contact is the lead's business
    refused = client.post(
        f"/partner/needs/{need.ref}/accept",
        data={"csrf_token": csrf_token_from(page)},
    )
    assert refused.status_code == 422 and fresh(need).status == NeedStatus.ROUTED
    # The supporter posts a public progress update; the lead accepts and resolves.
    form = form_for(page, f"/partner/needs/{need.ref}/updates")
    posted = client.post(form["action"], data={**form["fields"], "update-text": "We lent a ramp."})
    assert posted.status_code == 303
    login(lead.staff)
    page = client.get(f"/partner/needs/{need.ref}").text
    accept = form_for(page, f"/partner/needs/{need.ref}/accept")
    assert client.post(accept["action"], data=accept["fields"]).status_code == 303
    page = client.get(f"/partner/needs/{need.ref}").text
    resolve = form_for(page, f"/partner/needs/{need.ref}/resolve")
    done = client.post(
        resolve["action"], data={**resolve["fields"], "resolve-text": "Ramp rebuilt."}
    )
    assert done.status_code == 303 and fresh(need).status == NeedStatus.RESOLVED
    # Both on the public timeline, each under its organisation.
    public = client.get(f"/needs/{need.ref}").text
    update = public[public.index("We lent a ramp.") - 600 : public.index("We lent a ramp.")]
    assert "District Women&#39;s Federation" in update
    answer = public[public.index("Ramp rebuilt.") - 600 : public.index("Ramp rebuilt.")]
    assert "District Union" in answer
    # Once resolved, the supporter has nothing left to do.
    login(supporter.staff)
    assert "No action is open to you" in client.get(f"/partner/needs/{need.ref}").text


def test_an_organisation_not_involved_sees_nothing(client, login, team, make_partner):
    _route_with_supporter(client, login, team)
    stranger = make_partner()
    db.session.commit()
    login(stranger.staff)
    assert client.get(f"/partner/needs/{team[3].ref}").status_code == 404


def test_input_asked_given_on_time_and_late_counts_in_the_supporters_figures(client, login, team):
    lead, supporter, admin, need = team
    _route_with_supporter(client, login, team)
    past = _ask_input(client, need, supporter, local_today())
    assert past.status_code == 422 and "The due date must be in the future." in past.text
    asked = _ask_input(client, need, supporter, local_today() + timedelta(days=3))
    assert asked.status_code == 303
    mail = db.session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.to_address == supporter.staff.email)
    ).all()
    assert len(mail) == 1 and "How many volunteers can you send?" in mail[0].body_text
    login(supporter.staff)
    page = client.get(f"/partner/needs/{need.ref}").text
    assert "How many volunteers can you send?" in page and "Your input is asked by" in page
    assert _give_input(client, need).status_code == 303
    # A second request, answered after its due date.
    login(admin)
    assert _ask_input(client, need, supporter, local_today() + timedelta(days=1)).status_code == 303
    row = db.session.scalar(sa.select(CoHandler).where(CoHandler.need_id == need.id))
    row.input_due_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    login(supporter.staff)
    assert _give_input(client, need, "Late, sorry.").status_code == 303
    # A new request replaces the last one: the figures count the latest, late.
    figures = support_figures(supporter.organisation.id)
    assert (figures.asked, figures.on_time, figures.late, figures.awaited) == (1, 0, 1, 0)
    # The inputs are internal: the lead reads them, the public does not.
    login(lead.staff)
    assert "Late, sorry." in client.get(f"/partner/needs/{need.ref}").text
    assert "Late, sorry." not in client.get(f"/needs/{need.ref}").text
    # The response metrics count the lead's assignment only.
    assert compute(organisation_id=lead.organisation.id).routed == 1
    assert compute(organisation_id=supporter.organisation.id).routed == 0


def test_figures_by_hand_built_example(app, team, make_partner):
    """Three supported needs: on time, late and awaited."""
    _, supporter, admin, _ = team
    now = utcnow()
    rows = []
    for given_after in (timedelta(hours=-2), timedelta(hours=5), None):
        need, _ = make_need(NeedStatus.ROUTED)
        rows.append(
            CoHandler(
                need_id=need.id,
                organisation_id=supporter.organisation.id,
                input_asked_at=now - timedelta(days=2),
                input_due_at=now,
                input_given_at=None if given_after is None else now + given_after,
            )
        )
    db.session.add_all(rows)
    db.session.flush()
    figures = support_figures(supporter.organisation.id)
    assert (figures.asked, figures.on_time, figures.late, figures.awaited) == (3, 1, 1, 1)
    assert figures.on_time_rate == 0.5
    later = support_figures(supporter.organisation.id, start=now - timedelta(days=1))
    assert later.asked == 0


def test_a_missed_input_is_reminded_once(client, login, team):
    _, supporter, _, need = team
    _route_with_supporter(client, login, team)
    assert _ask_input(client, need, supporter, local_today() + timedelta(days=2)).status_code == 303
    row = db.session.scalar(sa.select(CoHandler).where(CoHandler.need_id == need.id))
    assert remind_inputs() == 0  # not due yet
    row.input_due_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert remind_inputs() == 1
    assert remind_inputs() == 0
    reminder = db.session.scalar(
        sa.select(TimelineEvent).where(
            TimelineEvent.need_id == need.id, TimelineEvent.move == "reminder"
        )
    )
    assert reminder.organisation_id == supporter.organisation.id and reminder.internal
    mails = db.session.scalars(
        sa.select(OutboxEmail)
        .where(OutboxEmail.to_address == supporter.staff.email)
        .order_by(OutboxEmail.id)
    ).all()
    # The request, then one reminder (in the staff member's language).
    assert len(mails) == 2 and all(need.ref in m.subject for m in mails)
    assert mails[0].subject != mails[1].subject
    assert "How many volunteers can you send?" in mails[1].body_text


def test_the_public_partner_page_shows_the_supporters_inputs(client, team):
    _, supporter, _, _ = team
    now = utcnow()
    for given_after in (timedelta(hours=-1), timedelta(hours=3)):
        need, _ = make_need(NeedStatus.ROUTED)
        db.session.add(
            CoHandler(
                need_id=need.id,
                organisation_id=supporter.organisation.id,
                input_asked_at=now - timedelta(days=1),
                input_due_at=now,
                input_given_at=now + given_after,
            )
        )
    db.session.commit()
    page = client.get(f"/partners/{supporter.organisation.id}").text
    assert "asked for its input 2 times in the period: 1 given on time, 1 late, 0 awaited" in page
