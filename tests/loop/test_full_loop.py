"""One need around the whole response loop through the web pages, as the
submitter, an admin and two partners would do it; then the public timeline,
the e-mails and the audit log are checked."""

from __future__ import annotations

import re

import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Delivery, Role
from portal.auth.sessions import stamp
from portal.extensions import db
from portal.needs.models import Need, NeedStatus, Outcome
from portal.notify.models import OutboxEmail
from portal.notify.services import follow
from portal.partners.models import Assignment, AssignmentState
from tests.factories import make_category, make_organisation, make_user
from tests.forms import form_for


def _client(app, user):
    client = app.test_client()
    client.set_cookie("locale", "en")
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
        stamp(session)
    return client


def _submit(client, page_url, suffix, **values):
    """Fill in the form posting to `…suffix` on the page, as a browser would."""
    html = client.get(page_url).get_data(as_text=True)
    form = form_for(html, suffix)
    fields = dict(form["fields"])
    fields.update(values)
    response = client.post(form["action"], data=fields)
    assert response.status_code in (302, 303), (suffix, response.status_code)
    return response


def _status(ref) -> NeedStatus:
    db.session.expire_all()
    return db.session.scalar(sa.select(Need.status).where(Need.ref == ref))


def test_a_need_goes_around_the_whole_loop(app, client):
    category = make_category(name_en="Street lights")
    first = make_organisation(name_en="Lighting office")
    second = make_organisation(name_en="District works team")
    admin = make_user(Role.ADMIN)
    staff_first = make_user(Role.PARTNER, first)
    staff_second = make_user(Role.PARTNER, second)
    follower = make_user()
    follower.notify_followed = Delivery.IMMEDIATE
    db.session.commit()

    # 1. A visitor submits, with an e-mail address to follow it.
    client.set_cookie("locale", "en")
    _submit(
        client,
        "/needs/new",
        "/needs/new",
        title="Street light broken at the school gate",
        body="The light at the school gate has been off for a week.",
        category=str(category.id),
        email="parent@example.org",
        consent="y",
    )
    confirmation = client.get("/needs/submitted").get_data(as_text=True)
    ref = re.search(r"N-\d{4}-\d{6}", confirmation).group(0)
    track = re.search(r'href="(/track/[^"]+)"', confirmation).group(1)
    assert _status(ref) == NeedStatus.SUBMITTED

    admin_client = _client(app, admin)
    first_client = _client(app, staff_first)
    second_client = _client(app, staff_second)
    admin_page = f"/admin/needs/{ref}"

    # 2. The admin publishes; a member starts following.
    _submit(admin_client, admin_page, f"/admin/needs/{ref}/publish")
    assert _status(ref) == NeedStatus.OPEN
    need = db.session.scalar(sa.select(Need).where(Need.ref == ref))
    follow(need, follower)
    db.session.commit()

    # 3. Routed to the first partner, who declines.
    _submit(
        admin_client,
        admin_page,
        f"/admin/needs/{ref}/route",
        organisation=str(first.id),
        note="Please check.",
    )
    assert _status(ref) == NeedStatus.ROUTED
    _submit(
        first_client,
        f"/partner/needs/{ref}",
        f"/partner/needs/{ref}/decline",
        **{"decline-reason": "Street lights near schools are the district's."},
    )
    assert _status(ref) == NeedStatus.OPEN

    # 4. Re-routed to the second partner, who accepts, updates and resolves.
    _submit(admin_client, admin_page, f"/admin/needs/{ref}/route", organisation=str(second.id))
    _submit(second_client, f"/partner/needs/{ref}", f"/partner/needs/{ref}/accept")
    _submit(
        second_client,
        f"/partner/needs/{ref}",
        f"/partner/needs/{ref}/notes",
        **{"note-text": "Electrician booked for Tuesday (internal)."},
    )
    _submit(
        second_client,
        f"/partner/needs/{ref}",
        f"/partner/needs/{ref}/updates",
        **{"update-text": "An electrician will come on Tuesday."},
    )
    _submit(
        second_client,
        f"/partner/needs/{ref}",
        f"/partner/needs/{ref}/resolve",
        **{"resolve-text": "The lamp was replaced."},
    )
    assert _status(ref) == NeedStatus.RESOLVED

    # 5. The submitter says: not resolved. It goes back to the same partner.
    _submit(
        client,
        track,
        f"{track}/feedback",
        resolved="no",
        satisfaction="2",
        comment="Still dark at night.",
    )
    assert _status(ref) == NeedStatus.IN_PROGRESS
    _submit(
        second_client,
        f"/partner/needs/{ref}",
        f"/partner/needs/{ref}/resolve",
        **{"resolve-text": "The cable was repaired too."},
    )
    assert _status(ref) == NeedStatus.RESOLVED

    # 6. This time it is resolved; the need closes as resolved.
    _submit(client, track, f"{track}/feedback", resolved="yes", satisfaction="5")
    assert _status(ref) == NeedStatus.CLOSED
    need = db.session.scalar(sa.select(Need).where(Need.ref == ref))
    assert need.outcome == Outcome.RESOLVED and need.resolution_count == 2

    # The public timeline tells the whole story, in order, without internal notes.
    public = client.get(f"/needs/{ref}").get_data(as_text=True)
    steps = [
        "Published",
        "Sent to a partner",
        "Declined by the partner, back to triage",
        "Sent to a partner",
        "Accepted by the partner",
        "Progress update",
        "Resolved",
        "Feedback",
        "Reopened: not resolved",
        "Resolved",
        "Feedback",
        "Closed as resolved",
    ]
    positions = []
    cursor = public.index('class="timeline"')
    for step in steps:
        cursor = public.index(f"<strong>{step}</strong>", cursor + 1)
        positions.append(cursor)
    assert positions == sorted(positions)
    assert "Lighting office" in public and "District works team" in public
    assert "Street lights near schools are the district&#39;s." in public
    assert "Electrician booked" not in public
    assert "Electrician booked" not in client.get(track).get_data(as_text=True)
    assert "parent@example.org" not in public

    # The submitter heard of every public step by e-mail; so did the follower.
    to_submitter = db.session.scalars(
        sa.select(OutboxEmail.subject).where(OutboxEmail.to_address == "parent@example.org")
    ).all()
    assert len(to_submitter) >= 11  # receipt + every public status step and update
    assert any("We received your need" in s for s in to_submitter)
    to_follower = db.session.scalar(
        sa.select(sa.func.count(OutboxEmail.id)).where(OutboxEmail.to_address == follower.email)
    )
    assert to_follower >= 8

    # Assignments: the first declined, the second completed.
    states = dict(
        db.session.execute(
            sa.select(Assignment.organisation_id, Assignment.state).where(
                Assignment.need_id == need.id
            )
        ).all()
    )
    assert states == {first.id: AssignmentState.DECLINED, second.id: AssignmentState.COMPLETED}

    # Every admin and partner action left one audit row, by the right person.
    audit = db.session.execute(
        sa.select(AuditEntry.action, AuditEntry.actor_id)
        .where(AuditEntry.object_id == ref)
        .order_by(AuditEntry.id)
    ).all()
    assert audit == [
        ("need.publish", admin.id),
        ("need.route", admin.id),
        ("need.decline", staff_first.id),
        ("need.route", admin.id),
        ("need.accept", staff_second.id),
        ("need.note", staff_second.id),
        ("need.update", staff_second.id),
        ("need.resolve", staff_second.id),
        ("need.resolve", staff_second.id),
    ]


def test_late_answers_are_marked_on_the_public_timeline(app, client):
    from datetime import timedelta

    from portal.needs.models import NeedStatus as S
    from portal.workflow.models import TimelineEvent
    from tests.factories import make_need

    need, _ = make_need(S.RESOLVED)
    accept = db.session.scalar(
        sa.select(TimelineEvent).where(
            TimelineEvent.need_id == need.id, TimelineEvent.move == "accept"
        )
    )
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.need_id == need.id))
    assignment.response_due_at = accept.created_at - timedelta(hours=1)
    db.session.commit()
    client.set_cookie("locale", "en")
    page = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert page.count("after the deadline") == 1
    accepted_at = page.index("<strong>Accepted by the partner</strong>")
    assert page.index("after the deadline") > accepted_at
