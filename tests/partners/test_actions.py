"""Every action of the partner workspace through the web layer: the right role,
the wrong roles, bad input, htmx and plain requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.partners.models import (
    AssignmentRequest,
    AssignmentState,
    RequestKind,
    RequestState,
)
from portal.partners.workspace import local_today
from portal.workdays.services import local_zone
from portal.workflow.models import TimelineEvent
from portal.workflow.services import Actor, record_event
from tests.factories import make_user
from tests.partners.conftest import assignments_of, fresh, snapshot

ENDPOINTS = [
    ("GET", "/partner/inbox"),
    ("GET", "/partner/needs/{ref}"),
    *(
        ("POST", f"/partner/needs/{{ref}}/{action}")
        for action in (
            "accept",
            "decline",
            "decline-transfer",
            "start",
            "updates",
            "resolve",
            "notes",
            "extension",
            "transfer",
        )
    ),
]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ADMIN])
def test_members_and_admins_get_403_everywhere(client, login, post, make_partner, routed, role):
    partner = make_partner()
    need, _ = routed(partner)
    login(make_user(role))
    db.session.commit()
    before = snapshot(need)
    for method, url in ENDPOINTS:
        url = url.format(ref=need.ref)
        response = client.get(url) if method == "GET" else post(url, {"decline-reason": "x"})
        assert response.status_code == 403, (method, url)
    assert snapshot(need) == before


def test_anonymous_visitors_are_sent_to_log_in(client, post, make_partner, routed):
    partner = make_partner()
    need, _ = routed(partner)
    db.session.commit()
    for method, url in ENDPOINTS:
        url = url.format(ref=need.ref)
        response = client.get(url) if method == "GET" else post(url)
        assert response.status_code == 302, (method, url)
        assert "/auth/login" in response.headers["Location"]


def test_a_post_without_csrf_token_is_refused(client, login, make_partner, routed):
    partner = make_partner()
    need, _ = routed(partner)
    login(partner.staff)
    db.session.commit()
    response = client.post(f"/partner/needs/{need.ref}/accept")
    assert response.status_code == 400
    assert fresh(need).status == NeedStatus.ROUTED


def test_the_need_page_shows_the_need_dates_contact_and_one_form_per_action(
    client, login, make_partner, routed
):
    partner = make_partner()
    need, _ = routed(partner, title="Broken street lamp")
    login(partner.staff)
    db.session.commit()
    response = client.get(f"/partner/needs/{need.ref}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Broken street lamp" in page and need.ref in page
    assert "Answer due" in page and "Resolution due" in page
    assert "asker@example.org" in page  # to follow up while the need is open
    for action in ("accept", "decline", "extension", "transfer", "notes"):
        assert f'action="/partner/needs/{need.ref}/{action}"' in page, action
    assert f'hx-post="/partner/needs/{need.ref}/accept"' in page
    for absent in ("decline-transfer", "start", "resolve", "updates"):
        assert f'action="/partner/needs/{need.ref}/{absent}"' not in page, absent
    assert 'name="csrf_token"' in page and 'name="decline-csrf_token"' in page


def test_accept_start_update_resolve(client, login, post, make_partner, routed):
    partner = make_partner()
    need, token = routed(partner)
    login(partner.staff)
    db.session.commit()
    base = f"/partner/needs/{need.ref}"

    response = post(f"{base}/accept")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(base)
    assert fresh(need).status == NeedStatus.ACCEPTED
    assert assignments_of(need)[partner.organisation.id].state == AssignmentState.ACCEPTED
    page = client.get(base).get_data(as_text=True)
    assert "You accepted this need" in page
    assert f'action="{base}/start"' in page and f'action="{base}/accept"' not in page
    assert f'action="{base}/transfer"' not in page  # only before accepting

    assert post(f"{base}/start").status_code == 303
    assert fresh(need).status == NeedStatus.IN_PROGRESS

    response = post(f"{base}/updates", {"update-text": "The lamp is ordered."})
    assert response.status_code == 303
    assert "The lamp is ordered." in client.get(f"/needs/{need.ref}").get_data(as_text=True)

    response = post(f"{base}/resolve", {"resolve-text": "  "})
    assert response.status_code == 422
    assert "Please give a reason or an answer." in response.get_data(as_text=True)
    assert fresh(need).status == NeedStatus.IN_PROGRESS

    response = post(f"{base}/resolve", {"resolve-text": "A new lamp is in place."})
    assert response.status_code == 303
    resolved = fresh(need)
    assert resolved.status == NeedStatus.RESOLVED
    assert assignments_of(need)[partner.organisation.id].state == AssignmentState.COMPLETED
    page = client.get(base).get_data(as_text=True)
    assert "A new lamp is in place." in page
    assert "asker@example.org" not in page  # answered: the address is hidden now
    assert "No action is open to you on this need now." in page
    assert "A new lamp is in place." in client.get(f"/track/{token}").get_data(as_text=True)


def test_htmx_actions_swap_the_workspace(client, login, post, make_partner, routed):
    partner = make_partner()
    need, _ = routed(partner)
    login(partner.staff)
    db.session.commit()
    response = post(f"/partner/needs/{need.ref}/accept", htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="workspace"')
    assert "You accepted this need" in html and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]

    response = post(f"/partner/needs/{need.ref}/notes", {"note-text": ""}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200  # htmx swaps only 2xx
    assert html.lstrip().startswith('<div id="workspace"')
    assert "Please write something." in html and 'aria-invalid="true"' in html


def test_decline_needs_a_reason_and_sends_the_need_back_to_triage(
    client, login, post, make_partner, routed
):
    partner = make_partner()
    need, _ = routed(partner)
    login(partner.staff)
    db.session.commit()
    before = snapshot(need)
    response = post(f"/partner/needs/{need.ref}/decline", {"decline-reason": " "})
    assert response.status_code == 422
    assert "Please give a reason." in response.get_data(as_text=True)
    assert snapshot(need) == before

    response = post(f"/partner/needs/{need.ref}/decline", {"decline-reason": "Not our field."})
    assert response.status_code == 303
    declined = fresh(need)
    assert declined.status == NeedStatus.OPEN
    assert declined.assigned_organisation_id is None
    assignment = assignments_of(need)[partner.organisation.id]
    assert assignment.state == AssignmentState.DECLINED
    assert assignment.decline_reason == "Not our field."
    event = db.session.scalar(
        sa.select(TimelineEvent)
        .where(TimelineEvent.need_id == need.id)
        .order_by(TimelineEvent.id.desc())
    )
    assert (event.move, event.text, event.internal) == ("decline", "Not our field.", False)
    # The partner still opens the page (it was theirs), without contact or actions.
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "Not our field." in page and "asker@example.org" not in page
    assert "No action is open to you on this need now." in page


def test_an_action_not_open_now_is_refused(client, login, post, make_partner, routed):
    partner = make_partner()
    need, _ = routed(partner)
    login(partner.staff)
    db.session.commit()
    before = snapshot(need)
    for action, data in [
        ("start", {}),
        ("resolve", {"resolve-text": "Done."}),
        ("updates", {"update-text": "Soon."}),
        ("decline-transfer", {"decline-transfer-reason": "No."}),
    ]:
        response = post(f"/partner/needs/{need.ref}/{action}", data)
        assert response.status_code == 422, action
        assert "not possible on this need now" in response.get_data(as_text=True)
    assert snapshot(need) == before


def test_internal_notes_stay_with_the_partner_and_the_admins(
    client, login, post, make_partner, routed
):
    partner = make_partner()
    other = make_partner()
    need, token = routed(partner, status=NeedStatus.ACCEPTED)
    admin = make_user(Role.ADMIN)
    record_event(need, "note", Actor.staff(admin), text="Admin: call the district office.")
    login(partner.staff)
    db.session.commit()
    response = post(f"/partner/needs/{need.ref}/notes", {"note-text": "Secret: budget is 300."})
    assert response.status_code == 303
    note = db.session.scalar(
        sa.select(TimelineEvent).where(
            TimelineEvent.move == "note", TimelineEvent.actor_id == partner.staff.id
        )
    )
    assert note.internal and note.organisation_id == partner.organisation.id

    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "Secret: budget is 300." in page and "Admin: call the district office." in page
    assert "Internal" in page
    for public in (f"/needs/{need.ref}", f"/track/{token}"):
        html = client.get(public).get_data(as_text=True)
        assert "Secret: budget is 300." not in html, public
        assert "Admin: call the district office." not in html, public
    # Another organisation's note on the same need (a proposed transfer) stays hidden.
    db.session.add(
        TimelineEvent(
            need_id=need.id,
            move="note",
            from_status=need.status,
            to_status=need.status,
            actor_id=other.staff.id,
            actor_role="partner",
            organisation_id=other.organisation.id,
            text="Other partner's note.",
            internal=True,
        )
    )
    db.session.commit()
    assert "Other partner's note." not in client.get(f"/partner/needs/{need.ref}").get_data(
        as_text=True
    )


def test_asking_for_more_time(client, login, post, make_partner, routed):
    partner = make_partner()
    need, _ = routed(partner, status=NeedStatus.ACCEPTED)
    login(partner.staff)
    db.session.commit()
    base = f"/partner/needs/{need.ref}/extension"
    due = assignments_of(need)[partner.organisation.id].due_at
    before = snapshot(need)

    cases = [
        ({"extension-new_due": "", "extension-reason": "Parts late."}, "Please give a date."),
        ({"extension-new_due": "not a date", "extension-reason": "x"}, "Please give a date."),
        (
            {
                "extension-new_due": (local_today() - timedelta(days=1)).isoformat(),
                "extension-reason": "Parts late.",
            },
            "The new due date must be in the future.",
        ),
        (
            {
                "extension-new_due": (local_today() + timedelta(days=1)).isoformat(),
                "extension-reason": "Parts late.",
            },
            "The new due date must be later than the current one.",
        ),
        (
            {
                "extension-new_due": (local_today() + timedelta(days=60)).isoformat(),
                "extension-reason": "",
            },
            "Please give a reason.",
        ),
    ]
    for data, message in cases:
        response = post(base, data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, data
        assert message in html, data
        assert data["extension-reason"] in html  # what was typed stays
    assert snapshot(need) == before

    wanted = local_today() + timedelta(days=60)
    response = post(
        base, {"extension-new_due": wanted.isoformat(), "extension-reason": "Parts late."}
    )
    assert response.status_code == 303
    request = db.session.scalar(sa.select(AssignmentRequest))
    assert request.kind == RequestKind.EXTENSION and request.state == RequestState.PENDING
    assert request.reason == "Parts late."
    local = request.requested_due_at.astimezone(local_zone())
    assert (local.date(), local.hour, local.minute) == (wanted, 23, 59)
    assert assignments_of(need)[partner.organisation.id].due_at == due  # until an admin grants it
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "waits for an administrator" in page
    assert f'action="{base}"' not in page
    assert "More time requested" in client.get(f"/needs/{need.ref}").get_data(as_text=True)


def test_asking_for_a_transfer(client, login, post, make_partner, routed):
    partner = make_partner()
    other = make_partner(name_en="Science Association")
    inactive = make_partner(is_active=False)
    need, _ = routed(partner)
    login(partner.staff)
    db.session.commit()
    base = f"/partner/needs/{need.ref}/transfer"
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "Science Association" in page
    assert f'value="{inactive.organisation.id}"' not in page
    before = snapshot(need)
    for data, message in [
        (
            {"transfer-organisation": partner.organisation.id, "transfer-reason": "x"},
            "Choose another, active partner organisation.",
        ),
        (
            {"transfer-organisation": inactive.organisation.id, "transfer-reason": "x"},
            "Choose another, active partner organisation.",
        ),
        (
            {"transfer-organisation": "", "transfer-reason": "x"},
            "Choose another, active partner organisation.",
        ),
        (
            {"transfer-organisation": other.organisation.id, "transfer-reason": ""},
            "Please give a reason.",
        ),
    ]:
        response = post(base, data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True)
    assert snapshot(need) == before

    response = post(
        base,
        {"transfer-organisation": other.organisation.id, "transfer-reason": "They run the lab."},
    )
    assert response.status_code == 303
    request = db.session.scalar(sa.select(AssignmentRequest))
    assert request.kind == RequestKind.TRANSFER
    assert request.to_organisation_id == other.organisation.id
    assert fresh(need).assigned_organisation_id == partner.organisation.id
