"""A transfer: the first partner asks, an admin confirms, the proposed partner
accepts (the first one's assignment is transferred) or declines (the first
partner stays answerable)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import NeedStatus
from portal.partners.models import AssignmentRequest, AssignmentState
from portal.partners.services import decide_request
from tests.factories import make_user
from tests.partners.conftest import assignments_of, fresh, snapshot


@pytest.fixture
def transferred(client, login, post, make_partner, routed):
    """A's staff asks for a transfer to B through the web; an admin confirms."""
    a = make_partner(name_en="First Partner")
    b = make_partner(name_en="Second Partner")
    need, token = routed(a, title="Flooded underpass")
    admin = make_user(Role.ADMIN)
    login(a.staff)
    db.session.commit()
    response = post(
        f"/partner/needs/{need.ref}/transfer",
        {"transfer-organisation": b.organisation.id, "transfer-reason": "Their district."},
    )
    assert response.status_code == 303
    request = db.session.scalar(sa.select(AssignmentRequest))
    decide_request(request, admin, grant=True)
    db.session.commit()
    return a, b, need, token


def test_the_proposed_partner_sees_it_and_accepts(client, login, post, transferred):
    a, b, need, _ = transferred
    login(b.staff)
    inbox = client.get("/partner/inbox").get_data(as_text=True)
    assert "Flooded underpass" in inbox
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "The first partner stays answerable until you accept it." in page
    assert f'action="/partner/needs/{need.ref}/accept"' in page
    assert f'action="/partner/needs/{need.ref}/decline-transfer"' in page
    assert f'action="/partner/needs/{need.ref}/decline"' not in page
    assert f'action="/partner/needs/{need.ref}/transfer"' not in page
    assert "asker@example.org" not in page  # not theirs yet

    # Meanwhile the first partner is still answerable and keeps its actions.
    login(a.staff)
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert f'action="/partner/needs/{need.ref}/decline"' in page
    assert "asker@example.org" in page

    login(b.staff)
    assert post(f"/partner/needs/{need.ref}/accept").status_code == 303
    accepted = fresh(need)
    assert accepted.status == NeedStatus.ACCEPTED
    assert accepted.assigned_organisation_id == b.organisation.id
    by_org = assignments_of(need)
    assert by_org[a.organisation.id].state == AssignmentState.TRANSFERRED
    assert by_org[b.organisation.id].state == AssignmentState.ACCEPTED
    assert "asker@example.org" in client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)

    # The first partner can still read its history, but no longer act or list it.
    login(a.staff)
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "No action is open to you on this need now." in page
    assert "asker@example.org" not in page
    assert "Flooded underpass" not in client.get("/partner/inbox").get_data(as_text=True)
    before = snapshot(need)
    response = post(f"/partner/needs/{need.ref}/resolve", {"resolve-text": "Done."})
    assert response.status_code == 422
    assert snapshot(need) == before


def test_the_proposed_partner_declines_the_transfer(client, login, post, transferred):
    a, b, need, _ = transferred
    login(b.staff)
    before = snapshot(need)
    response = post(f"/partner/needs/{need.ref}/decline-transfer", {"decline-transfer-reason": ""})
    assert response.status_code == 422
    assert "Please give a reason." in response.get_data(as_text=True)
    assert snapshot(need) == before

    response = post(
        f"/partner/needs/{need.ref}/decline-transfer",
        {"decline-transfer-reason": "Not our district either."},
    )
    assert response.status_code == 303
    kept = fresh(need)
    assert kept.status == NeedStatus.ROUTED
    assert kept.assigned_organisation_id == a.organisation.id
    by_org = assignments_of(need)
    assert by_org[b.organisation.id].state == AssignmentState.DECLINED
    assert by_org[a.organisation.id].state == AssignmentState.PENDING
    assert "Flooded underpass" not in client.get("/partner/inbox").get_data(as_text=True)

    login(a.staff)
    assert post(f"/partner/needs/{need.ref}/accept").status_code == 303
    assert fresh(need).status == NeedStatus.ACCEPTED


def test_the_proposed_partner_cannot_work_on_it_before_accepting(client, login, post, transferred):
    a, b, need, _ = transferred
    login(b.staff)
    before = snapshot(need)
    for action, data in [
        ("decline", {"decline-reason": "No."}),
        ("transfer", {"transfer-organisation": a.organisation.id, "transfer-reason": "Back."}),
        ("extension", {"extension-new_due": "2099-01-01", "extension-reason": "Time."}),
    ]:
        response = post(f"/partner/needs/{need.ref}/{action}", data)
        assert response.status_code == 422, action
    assert snapshot(need) == before
    # An internal note is fine: it stays with B and the admins.
    assert post(f"/partner/needs/{need.ref}/notes", {"note-text": "Checking."}).status_code == 303
    login(a.staff)
    assert "Checking." not in client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
