"""A status and its moves are data: a status registered here, with three moves
added to the workflow's table, is stored, offered on the partner and admin
pages, enforced, and shown on the public pages, without any other module
knowing of it. (This is the shape of a future "on hold" status.)"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.workflow import services as workflow
from portal.workflow.models import TimelineEvent
from portal.workflow.services import ActorRole, Move
from portal.workflow.statuses import (
    Clock,
    Traits,
    register_status,
    status_for,
    unregister_status,
    with_trait,
)
from tests.conftest import csrf_token_from
from tests.factories import make_need, make_organisation, make_user

S = NeedStatus
R = ActorRole


@pytest.fixture(autouse=True)
def _in_english(client):
    client.set_cookie("locale", "en")


@pytest.fixture
def on_hold():
    """The test-only rows: one status and three moves, removed afterwards."""
    status = register_status(
        "test_on_hold",
        Traits(
            "Paused (test)",
            listed=True,
            supportable=True,
            editable=True,
            with_partner=True,
            clock=Clock.PAUSED,
        ),
    )
    added = {
        "test_pause": Move(
            "test_pause",
            frozenset({S.ACCEPTED, S.IN_PROGRESS}),
            status,
            frozenset({R.PARTNER}),
            "Paused for a test",
            needs_text=True,
        ),
        "test_resume": Move(
            "test_resume",
            frozenset({status}),
            S.IN_PROGRESS,
            frozenset({R.PARTNER}),
            "Resumed after a test",
        ),
        "test_lift": Move(
            "test_lift",
            frozenset({status}),
            S.OPEN,
            frozenset({R.ADMIN}),
            "Pause lifted by a test",
            needs_text=True,
        ),
    }
    workflow.MOVES.update(added)
    try:
        yield status
    finally:
        for name in added:
            workflow.MOVES.pop(name, None)
        unregister_status("test_on_hold")


def _status(need):
    db.session.expire_all()
    return db.session.scalar(sa.select(Need.status).where(Need.id == need.id))


def _partner_on_accepted_need(login):
    partner = make_organisation()
    need, _ = make_need(S.ACCEPTED, partner=partner)
    staff = make_user(Role.PARTNER, partner)
    db.session.commit()
    login(staff)
    return need


def _paused_by_the_partner(client, login):
    need = _partner_on_accepted_need(login)
    token = csrf_token_from(client.get(f"/partner/needs/{need.ref}").get_data(as_text=True))
    paused = client.post(
        f"/partner/needs/{need.ref}/moves/test_pause",
        data={"csrf_token": token, "test-pause-text": "Waiting for parts"},
    )
    assert paused.status_code == 303
    return need, token


def test_the_added_status_is_stored_and_read_back(on_hold):
    assert status_for("test_on_hold") is on_hold and on_hold.is_listed and on_hold.is_editable
    assert on_hold.traits.clock == Clock.PAUSED and on_hold.value == "test_on_hold"
    assert on_hold in with_trait("supportable") and on_hold not in with_trait("terminal")
    with pytest.raises(ValueError, match="no_such_status"):
        status_for("no_such_status")


def test_the_partner_is_offered_the_added_move_and_it_is_enforced(on_hold, client, login):
    need = _partner_on_accepted_need(login)
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    url = f"/partner/needs/{need.ref}/moves/test_pause"
    # Offered: a folding form with a text field, posting to the one move view.
    assert f'action="{url}"' in page and "Paused for a test" in page
    # Not offered, and refused: a move from the added status, before it is reached.
    assert "/moves/test_resume" not in page
    token = csrf_token_from(page)
    early = client.post(f"/partner/needs/{need.ref}/moves/test_resume", data={"csrf_token": token})
    assert early.status_code == 422 and _status(need) == S.ACCEPTED
    # Enforced: the move needs a text, as its row says.
    empty = client.post(url, data={"csrf_token": token, "test-pause-text": ""})
    assert empty.status_code == 422 and "Please give a reason or an answer." in empty.text
    assert _status(need) == S.ACCEPTED
    done = client.post(url, data={"csrf_token": token, "test-pause-text": "Waiting for parts"})
    assert done.status_code == 303
    assert _status(need) == "test_on_hold"
    assert _status(need) is on_hold  # read back as the status itself
    event = db.session.scalar(
        sa.select(TimelineEvent)
        .where(TimelineEvent.need_id == need.id)
        .order_by(TimelineEvent.id.desc())
    )
    assert (event.move, event.from_status, event.to_status) == ("test_pause", S.ACCEPTED, on_hold)
    # Now the page offers the way back, and it works with one click.
    page = client.get(f"/partner/needs/{need.ref}").get_data(as_text=True)
    assert "Paused (test)" in page and f"/partner/needs/{need.ref}/moves/test_resume" in page
    assert "/moves/test_pause" not in page
    back = client.post(f"/partner/needs/{need.ref}/moves/test_resume", data={"csrf_token": token})
    assert back.status_code == 303 and _status(need) == S.IN_PROGRESS


def test_the_admin_is_offered_the_added_admin_move(on_hold, client, login):
    need, token = _paused_by_the_partner(client, login)
    admin = make_user(Role.ADMIN)
    db.session.commit()
    login(admin)
    page = client.get(f"/admin/needs/{need.ref}").get_data(as_text=True)
    url = f"/admin/needs/{need.ref}/moves/test_lift"
    assert f'action="{url}"' in page and "Pause lifted by a test" in page
    # The partner's moves are not the admin's.
    assert "/moves/test_resume" not in page
    token = csrf_token_from(page)
    refused = client.post(f"/admin/needs/{need.ref}/moves/test_resume", data={"csrf_token": token})
    assert refused.status_code == 404 and _status(need) == on_hold
    lifted = client.post(url, data={"csrf_token": token, "text": "Back to triage"})
    assert lifted.status_code == 303 and _status(need) == S.OPEN


def test_the_public_sees_the_added_status(on_hold, client, login):
    need, token = _paused_by_the_partner(client, login)
    client.post("/logout", data={"csrf_token": token})
    shown = client.get(f"/needs/{need.ref}").get_data(as_text=True)
    assert "Paused (test)" in shown and "Paused for a test" in shown
    # Listed (its trait), and a filter of the public list.
    listing = client.get("/needs").get_data(as_text=True)
    assert need.title in listing and 'value="test_on_hold"' in listing
    filtered = client.get("/needs?status=test_on_hold").get_data(as_text=True)
    assert need.title in filtered
    other = client.get("/needs?status=open").get_data(as_text=True)
    assert need.title not in other
