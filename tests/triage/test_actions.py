"""The admin's moves on one need, through the web layer: plain posts answer
303, htmx posts the swapped row; bad input is a 422 with the message and
nothing changed; every move leaves an audit row."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEntry
from portal.auth.models import Role
from portal.core.settings import ROUTE_ON_PUBLISH, set_setting
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.notify.models import OutboxEmail
from portal.partners.models import Assignment
from portal.workdays.services import add_working_days, local_zone
from portal.workflow.models import TimelineEvent
from portal.workflow.services import Actor, transition
from tests.factories import make_category, make_need, make_organisation, make_user


def _need(need) -> Need:
    db.session.expire_all()
    return db.session.get(Need, need.id)


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)))


def _events(need, move: str) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            sa.select(TimelineEvent).where(
                TimelineEvent.need_id == need.id, TimelineEvent.move == move
            )
        )
    )


def _assignments(need) -> list[Assignment]:
    return list(db.session.scalars(sa.select(Assignment).where(Assignment.need_id == need.id)))


def _local_date(moment: datetime):
    return moment.astimezone(local_zone()).date()


@pytest.fixture
def partner():
    return make_organisation(name_en="Youth League of the District")


@pytest.fixture
def category(partner):
    return make_category(default_partner=partner, resolution_sla_days=5)


@pytest.fixture
def submitted(category):
    need, _ = make_need(
        NeedStatus.SUBMITTED, category=category, title="Broken lamp", email="asker@example.org"
    )
    db.session.commit()
    return need


# --- publish ------------------------------------------------------------------


def test_publish_plain_post_redirects_to_the_queue(client, admin, post, submitted):
    response = post(f"/admin/needs/{submitted.ref}/publish", {"origin": "row"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/triage")
    need = _need(submitted)
    assert need.status == NeedStatus.OPEN and need.is_listed
    entry = _audit("need.publish")[0]
    assert entry.actor_id == admin.id and entry.object_id == submitted.ref
    assert entry.before == {"status": "submitted"}
    assert client.get(f"/needs/{submitted.ref}").status_code == 200


def test_publish_keeps_the_queue_filters_on_the_way_back(client, admin, post, submitted, category):
    response = post(
        f"/admin/needs/{submitted.ref}/publish",
        {"origin": "row", "next": "/admin/triage?channel=web&q=lamp"},
    )
    assert response.headers["Location"].endswith("/admin/triage?channel=web&q=lamp")
    other, _ = make_need(NeedStatus.SUBMITTED, category=category)
    db.session.commit()
    elsewhere = post(
        f"/admin/needs/{other.ref}/publish", {"origin": "row", "next": "https://evil.example/"}
    )
    assert elsewhere.status_code == 303
    assert elsewhere.headers["Location"] in ("/admin/triage", "http://localhost/admin/triage")


def test_publish_with_htmx_swaps_the_row(client, admin, post, submitted):
    response = post(f"/admin/needs/{submitted.ref}/publish", {"origin": "row"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith(
        f'<article class="card triage-row" id="need-row-{submitted.id}"'
    )
    assert "Published." in html and "<html" not in html
    assert _need(submitted).status == NeedStatus.OPEN


def test_publish_from_the_need_page_with_htmx_swaps_the_page_section(
    client, admin, post, submitted
):
    response = post(f"/admin/needs/{submitted.ref}/publish", {"origin": "page"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="need-admin">') and "Published." in html


def test_publishing_twice_is_refused_with_a_message(client, admin, post, submitted):
    post(f"/admin/needs/{submitted.ref}/publish")
    response = post(f"/admin/needs/{submitted.ref}/publish")
    assert response.status_code == 422
    assert "cannot be changed that way now" in response.get_data(as_text=True)
    assert len(_audit("need.publish")) == 1


def test_publish_routes_to_the_default_partner_when_the_rule_is_on(
    client, admin, post, submitted, partner
):
    set_setting(ROUTE_ON_PUBLISH, "1", admin)
    db.session.commit()
    before = utcnow()
    response = post(f"/admin/needs/{submitted.ref}/publish", {"origin": "row"}, htmx=True)
    assert "Published and sent to Youth League of the District" in response.get_data(as_text=True)
    need = _need(submitted)
    assert need.status == NeedStatus.ROUTED and need.assigned_organisation_id == partner.id
    (assignment,) = _assignments(need)
    assert assignment.organisation_id == partner.id
    assert assignment.due_at == add_working_days(before, 5)
    assert [e.action for e in _audit("need.route")] == ["need.route"]


def test_publish_does_not_route_when_the_rule_is_off_or_the_partner_inactive(
    client, admin, post, category, partner
):
    first, _ = make_need(NeedStatus.SUBMITTED, category=category)
    second, _ = make_need(NeedStatus.SUBMITTED, category=category)
    db.session.commit()
    post(f"/admin/needs/{first.ref}/publish")
    assert _need(first).status == NeedStatus.OPEN
    set_setting(ROUTE_ON_PUBLISH, "1", admin)
    db.session.get(type(partner), partner.id).is_active = False
    db.session.commit()
    post(f"/admin/needs/{second.ref}/publish")
    assert _need(second).status == NeedStatus.OPEN
    assert _assignments(second) == []


# --- route -----------------------------------------------------------------------


def test_route_with_a_due_date_and_a_note(client, admin, post, submitted, partner):
    day = _local_date(utcnow()) + timedelta(days=10)
    response = post(
        f"/admin/needs/{submitted.ref}/route",
        {"organisation": str(partner.id), "due_date": day.isoformat(), "note": "Please call back."},
    )
    assert response.status_code == 303
    need = _need(submitted)
    assert need.status == NeedStatus.ROUTED  # published on the way
    (assignment,) = _assignments(need)
    expected = datetime.combine(day, time(23, 59, 59), tzinfo=local_zone()).astimezone(UTC)
    assert assignment.due_at == expected
    assert assignment.note == "Please call back."
    assert [e.action for e in _audit("need.publish")] == ["need.publish"]
    assert [e.action for e in _audit("need.route")] == ["need.route"]


def test_route_without_a_date_uses_the_category_sla(client, admin, post, submitted, partner):
    before = utcnow()
    response = post(
        f"/admin/needs/{submitted.ref}/route",
        {"organisation": str(partner.id), "due_date": "", "origin": "row"},
        htmx=True,
    )
    assert response.status_code == 200
    assert "Sent to Youth League of the District" in response.get_data(as_text=True)
    (assignment,) = _assignments(submitted)
    assert assignment.due_at == add_working_days(before, 5)


def test_the_route_form_suggests_the_default_partner_and_date(client, admin, submitted, partner):
    page = client.get("/admin/triage").get_data(as_text=True)
    assert f'<option selected value="{partner.id}">' in page
    default = _local_date(add_working_days(utcnow(), 5)).isoformat()
    assert f'value="{default}"' in page
    assert "Suggested partner:" in page and "Youth League of the District" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"organisation": "9999"}, "Choose an active partner organisation."),
        ({"organisation": "0"}, "Choose an active partner organisation."),
        ({"due_date": "not a date"}, "Please give a valid date."),
        ({"due_date": "2020-01-01"}, "The due date cannot be in the past."),
        ({"due_date": "2999-01-01"}, "The due date must be within a year."),
    ],
)
def test_route_bad_input_changes_nothing(client, admin, post, submitted, partner, data, message):
    values = {"organisation": str(partner.id), **data}
    response = post(f"/admin/needs/{submitted.ref}/route", values)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    if data.get("due_date"):
        assert f'value="{data["due_date"]}"' in html  # what was typed stays
    assert _need(submitted).status == NeedStatus.SUBMITTED
    assert _assignments(submitted) == []
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_route_to_an_inactive_partner_is_refused(client, admin, post, submitted):
    retired = make_organisation(is_active=False)
    db.session.commit()
    response = post(f"/admin/needs/{submitted.ref}/route", {"organisation": str(retired.id)})
    assert response.status_code == 422
    assert "Choose an active partner organisation." in response.get_data(as_text=True)
    assert _need(submitted).status == NeedStatus.SUBMITTED


def test_route_bad_input_with_htmx_returns_the_row_with_the_error(client, admin, post, submitted):
    response = post(
        f"/admin/needs/{submitted.ref}/route", {"organisation": "9999", "origin": "row"}, htmx=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<article class="card triage-row"')
    assert "Choose an active partner organisation." in html
    assert '<details class="triage-edit" open>' in html
    assert _need(submitted).status == NeedStatus.SUBMITTED


def test_transfer_a_routed_need(client, admin, post, category, partner):
    need, _ = make_need(NeedStatus.ROUTED, category=category, partner=partner)
    other = make_organisation(name_en="Science Association")
    db.session.commit()
    response = post(f"/admin/needs/{need.ref}/transfer", {"organisation": str(other.id)})
    assert response.status_code == 422
    assert "Please give a reason." in response.get_data(as_text=True)
    response = post(
        f"/admin/needs/{need.ref}/transfer",
        {"organisation": str(other.id), "note": "They run the lab."},
    )
    assert response.status_code == 303
    assert {a.organisation_id for a in _assignments(need)} == {partner.id, other.id}
    assert _audit("need.transfer")


# --- reject, close ---------------------------------------------------------------


def test_reject_needs_a_reason(client, admin, post, submitted):
    response = post(f"/admin/needs/{submitted.ref}/reject", {"reason": "   "})
    assert response.status_code == 422
    assert "Please give a reason." in response.get_data(as_text=True)
    assert _need(submitted).status == NeedStatus.SUBMITTED
    assert _audit("need.reject") == []


def test_reject_with_a_reason_the_submitter_sees(client, admin, post, submitted):
    emails_before = db.session.scalar(sa.select(sa.func.count(OutboxEmail.id)))
    response = post(
        f"/admin/needs/{submitted.ref}/reject",
        {"reason": "This is a private dispute.", "origin": "row"},
        htmx=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "triage-row-done" in html
    assert _need(submitted).status == NeedStatus.REJECTED
    (event,) = _events(submitted, "reject")
    assert event.text == "This is a private dispute." and not event.internal
    assert db.session.scalar(sa.select(sa.func.count(OutboxEmail.id))) == emails_before + 1
    assert _audit("need.reject")


def test_close_without_resolution(client, admin, post, category, partner):
    need, _ = make_need(NeedStatus.ACCEPTED, category=category, partner=partner)
    db.session.commit()
    assert post(f"/admin/needs/{need.ref}/close", {"reason": ""}).status_code == 422
    response = post(f"/admin/needs/{need.ref}/close", {"reason": "Out of every partner's power."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/needs/{need.ref}")
    need = _need(need)
    assert need.status == NeedStatus.CLOSED and need.outcome.value == "not_resolved"
    assert _audit("need.close_unresolved")


# --- corrections -------------------------------------------------------------------


def test_correct_the_title_keeps_the_original_in_the_timeline(client, admin, post, submitted):
    response = post(
        f"/admin/needs/{submitted.ref}/title", {"title": "Broken street lamp", "origin": "row"}
    )
    assert response.status_code == 303
    assert _need(submitted).title == "Broken street lamp"
    (event,) = _events(submitted, "title_corrected")
    assert event.text == "Broken lamp → Broken street lamp"
    assert _audit("need.title_corrected")


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "Please give a title."),
        ("abc", "The title must be between 4 and 120 characters."),
        ("Broken lamp", "The title is unchanged."),
    ],
)
def test_bad_titles_are_refused(client, admin, post, submitted, title, message):
    response = post(f"/admin/needs/{submitted.ref}/title", {"title": title})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _need(submitted).title == "Broken lamp"
    assert _events(submitted, "title_corrected") == []


def test_change_the_category(client, admin, post, submitted, category):
    other = make_category(name_en="Transport")
    db.session.commit()
    response = post(
        f"/admin/needs/{submitted.ref}/category",
        {"category": str(other.id), "origin": "row"},
        htmx=True,
    )
    assert response.status_code == 200 and "Category changed." in response.get_data(as_text=True)
    assert _need(submitted).category_id == other.id
    (event,) = _events(submitted, "category_changed")
    assert event.text.endswith("→ Transport")


def test_unknown_category_is_refused(client, admin, post, submitted, category):
    response = post(f"/admin/needs/{submitted.ref}/category", {"category": "9999"})
    assert response.status_code == 422
    assert "Please choose a category." in response.get_data(as_text=True)
    assert _need(submitted).category_id == category.id


# --- internal notes ------------------------------------------------------------------


def test_internal_notes_are_for_admins_only(client, admin, post, category, partner):
    need, token = make_need(NeedStatus.ROUTED, category=category, partner=partner)
    db.session.commit()
    assert post(f"/admin/needs/{need.ref}/note", {"text": ""}).status_code == 422
    response = post(f"/admin/needs/{need.ref}/note", {"text": "Caller sounded upset, ring back."})
    assert response.status_code == 303
    (event,) = _events(need, "note")
    assert event.internal
    admin_page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert "Caller sounded upset" in admin_page
    for url in (f"/needs/{need.ref}", f"/track/{token}"):
        page = client.get(url)
        assert page.status_code == 200
        assert "Caller sounded upset" not in page.get_data(as_text=True), url
    client.post("/auth/logout")
    assert "Caller sounded upset" not in client.get(f"/needs/{need.ref}").get_data(as_text=True)
    feed = client.get("/feeds/needs.atom")
    if feed.status_code == 200:
        assert "Caller sounded upset" not in feed.get_data(as_text=True)


# --- the admin page of a need ----------------------------------------------------------


def test_the_admin_page_shows_everything(client, admin, post, category, partner):
    need, _ = make_need(
        NeedStatus.ROUTED, category=category, partner=partner, email="asker@example.org"
    )
    assignment = _assignments(need)[0]
    assignment.due_at = utcnow() - timedelta(days=2)
    db.session.commit()
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    assert "asker@example.org" in page  # admins see the contact
    assert "Youth League of the District" in page and "Overdue" in page
    assert "Close without resolution" in page and "Send to another partner" in page
    assert "Reject" not in page  # not allowed once routed
    assert "asker@example.org" not in client.get(f"/needs/{need.ref}").get_data(as_text=True)


def test_the_admin_page_of_a_submitted_need_offers_the_triage_moves(client, admin, submitted):
    page = client.get(f"/admin/needs/{submitted.ref}").get_data(as_text=True)
    for label in (
        "Publish",
        "Send to a partner",
        "Mark as a duplicate",
        "Reject",
        "Correct the title",
    ):
        assert label in page, label
    assert "Close without resolution" not in page


# --- requests from partners ----------------------------------------------------------


@pytest.fixture
def extension_request(category, partner):
    from portal.partners.services import request_extension

    need, _ = make_need(NeedStatus.ACCEPTED, category=category, partner=partner)
    staff = make_user(Role.PARTNER, partner)
    assignment = _assignments(need)[0]
    wanted = assignment.due_at + timedelta(days=7)
    item = request_extension(need, staff, wanted, "Waiting for parts.")
    db.session.commit()
    return need, item, wanted


def test_admin_grants_more_time_from_the_dashboard(client, admin, post, extension_request):
    need, item, wanted = extension_request
    page = client.get("/admin").get_data(as_text=True)
    assert "Waiting for parts." in page and need.ref in page
    response = post(
        f"/admin/requests/{item.id}", {"decision": "grant", "note": "Fine.", "next": "/admin"}
    )
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin")
    db.session.expire_all()
    assert _assignments(need)[0].due_at == wanted
    assert [e.text for e in _events(need, "extension_granted")] == ["Fine."]
    again = post(f"/admin/requests/{item.id}", {"decision": "refuse"})
    assert again.status_code == 303
    assert "already been answered" in client.get("/admin").get_data(as_text=True)


def test_admin_refuses_a_request_from_the_need_page(client, admin, post, extension_request):
    need, item, _wanted = extension_request
    before = _assignments(need)[0].due_at
    assert "Waiting for parts." in client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    response = post(
        f"/admin/requests/{item.id}", {"decision": "refuse", "next": f"/admin/needs/{need.ref}"}
    )
    assert response.headers["Location"].endswith(f"/admin/needs/{need.ref}")
    db.session.expire_all()
    assert _assignments(need)[0].due_at == before
    assert _events(need, "extension_refused")
    assert post(f"/admin/requests/{item.id}", {"decision": "maybe"}).status_code == 400
    assert post("/admin/requests/9999", {"decision": "grant"}).status_code == 404


def test_a_returned_need_shows_why_in_the_queue(client, admin, category, partner):
    need, _ = make_need(NeedStatus.ROUTED, category=category, partner=partner)
    staff = make_user(Role.PARTNER, partner)
    transition(need, "decline", Actor.staff(staff), text="Not in our district.")
    db.session.commit()
    page = client.get("/admin/triage").get_data(as_text=True)
    assert need.ref in page and "Not in our district." in page


def test_need_page_errors_with_htmx_swap_the_page_section(client, admin, post, submitted):
    response = post(
        f"/admin/needs/{submitted.ref}/reject", {"reason": "", "origin": "page"}, htmx=True
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="need-admin">')
    assert "Please give a reason." in html and "Nothing was changed." in html
    assert _need(submitted).status == NeedStatus.SUBMITTED
