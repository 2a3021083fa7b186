"""A submitter without an account erases their contact details from the
private tracking page, with or without withdrawing the need; both ask first,
on a page of their own, so they work without JavaScript."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.auth.models import Role
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.needs.services import Submission, new_idempotency_key, submit_need
from portal.notify.models import OutboxEmail, OutboxStatus
from portal.workflow.services import Actor, transition
from tests.factories import make_category, make_need, make_user
from tests.forms import form_for

EMAIL = "li.trackmarker@example.org"


@pytest.fixture(autouse=True)
def english(client):
    client.set_cookie("locale", "en")


def _need_with_contact(status: NeedStatus = NeedStatus.OPEN) -> tuple[Need, str]:
    need, token = submit_need(
        Submission(
            title="Broken bench in the park",
            body="The bench by the pond lost two planks.",
            category_id=make_category().id,
            place="Park by the pond",
            email=EMAIL,
            idempotency_key=new_idempotency_key(),
            locale="en",
            name="Li Trackmarker",
            phone="+86 139 0000 1234",
            lat=31.2,
            lon=121.5,
        ),
        Actor.public(),
    )
    admin = make_user(Role.ADMIN)
    if status != NeedStatus.SUBMITTED:
        transition(need, "publish", Actor.staff(admin))
    if status == NeedStatus.CLOSED:
        transition(need, "close_unresolved", Actor.staff(admin), text="Out of our hands.")
    db.session.commit()
    return need, token


def _mails_to(address: str) -> list[OutboxEmail]:
    return list(db.session.scalars(sa.select(OutboxEmail).where(OutboxEmail.to_address == address)))


def _confirm(client, token: str, path: str):
    """Follow the link on the tracking page, then send the confirmation form."""
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert f"/track/{token}/{path}" in page
    confirm = client.get(f"/track/{token}/{path}")
    assert confirm.status_code == 200
    assert confirm.headers["Cache-Control"] == "no-store"
    form = form_for(confirm.get_data(as_text=True), f"/{path}")
    return client.post(form["action"], data=form["fields"])


def test_deleting_the_contact_keeps_the_need_and_stops_the_mail(client):
    need, token = _need_with_contact()
    receipt_and_update = _mails_to(EMAIL)
    assert len(receipt_and_update) == 2

    response = _confirm(client, token, "delete-contact")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/track/{token}")
    db.session.expire_all()

    contact = db.session.get(Need, need.id).contact
    assert (contact.email, contact.name, contact.phone) == ("", "", "")
    need = db.session.get(Need, need.id)
    assert need.contact_erased_at is not None
    assert need.lat is None and need.lon is None
    assert need.place == "Park by the pond"
    assert need.status == NeedStatus.OPEN
    assert _mails_to(EMAIL) == []
    statuses = [db.session.get(OutboxEmail, m.id).status for m in receipt_and_update]
    assert statuses == [OutboxStatus.CANCELLED] * 2

    transition(need, "route", Actor.staff(make_user(Role.ADMIN)), organisation=_partner())
    db.session.commit()
    assert _mails_to(EMAIL) == []  # no more e-mails

    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert "Your contact details are deleted. We will not e-mail you about this need again." in page
    assert f"/track/{token}/delete-contact" not in page


def _partner():
    from tests.factories import make_organisation

    return make_organisation()


def test_withdraw_and_delete_goes_through_the_workflow(client):
    need, token = _need_with_contact()
    response = _confirm(client, token, "withdraw-and-delete")
    assert response.status_code == 303
    db.session.expire_all()

    need = db.session.get(Need, need.id)
    assert need.status == NeedStatus.WITHDRAWN
    assert need.ended_at is not None
    assert need.contact.email == "" and need.contact_erased_at is not None
    # The withdrawal's own mail was queued, then cancelled with the contact.
    cancelled = db.session.scalars(
        sa.select(OutboxEmail).where(OutboxEmail.need_id == need.id)
    ).all()
    assert len(cancelled) == 3
    assert {m.status for m in cancelled} == {OutboxStatus.CANCELLED}
    assert {m.to_address for m in cancelled} == {""}
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert "Your need is withdrawn and your contact details are deleted." in page


def test_a_closed_need_offers_only_the_contact_deletion(client, csrf_token):
    need, token = _need_with_contact(NeedStatus.CLOSED)
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert f"/track/{token}/delete-contact" in page
    assert f"/track/{token}/withdraw-and-delete" not in page
    assert client.get(f"/track/{token}/withdraw-and-delete").status_code == 302

    response = client.post(f"/track/{token}/withdraw-and-delete", data={"csrf_token": csrf_token()})
    assert response.status_code == 303
    db.session.expire_all()
    need = db.session.get(Need, need.id)
    assert need.status == NeedStatus.CLOSED
    assert need.contact.email == EMAIL  # nothing half done
    page = client.get(f"/track/{token}").get_data(as_text=True)
    assert "This need can no longer be withdrawn" in page


def test_the_deletions_need_the_csrf_token(client):
    need, token = _need_with_contact()
    for path in ("delete-contact", "withdraw-and-delete"):
        assert client.post(f"/track/{token}/{path}").status_code == 400
    db.session.expire_all()
    assert db.session.get(Need, need.id).contact.email == EMAIL


def test_a_wrong_token_erases_nothing(client, csrf_token):
    need, token = _need_with_contact()
    for path in ("delete-contact", "withdraw-and-delete"):
        wrong = token[:-1] + ("A" if token[-1] != "A" else "B")
        assert client.get(f"/track/{wrong}/{path}").status_code == 404
        assert (
            client.post(f"/track/{wrong}/{path}", data={"csrf_token": csrf_token()}).status_code
            == 404
        )
    db.session.expire_all()
    assert db.session.get(Need, need.id).contact.email == EMAIL


def test_other_needs_mail_to_the_same_address_is_kept(client):
    first, token = _need_with_contact()
    second, _ = _need_with_contact()
    _confirm(client, token, "delete-contact")
    db.session.expire_all()
    kept = _mails_to(EMAIL)
    assert kept and {m.need_id for m in kept} == {second.id}
    assert {m.status for m in kept} == {OutboxStatus.QUEUED}


def test_a_need_without_contact_details_erases_cleanly(client):
    """A need submitted without any contact shows the same choice and erases cleanly."""
    need, token = make_need(NeedStatus.OPEN)
    db.session.commit()
    assert _confirm(client, token, "delete-contact").status_code == 303
    db.session.expire_all()
    assert db.session.get(Need, need.id).contact_erased_at is not None
