"""Notifications follow the domain's signals, inside the transaction of the change.

The workflow announces a move (`need_moved`) or a step (`need_event_recorded`)
right after it added the timeline event and before the caller commits; notify
queues its e-mails in the same session. So a move that commits has its mails,
and a move that is rolled back leaves none.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.auth.models import Delivery, Role
from portal.extensions import db
from portal.needs.models import Need, NeedStatus
from portal.needs.signals import need_submitted
from portal.notify import services
from portal.notify.models import OutboxEmail
from portal.workflow import services as workflow
from portal.workflow.models import TimelineEvent
from portal.workflow.services import Actor, record_event, transition
from portal.workflow.signals import need_event_recorded, need_moved
from tests.factories import make_need, make_organisation, make_user


def _outbox_count() -> int:
    return db.session.scalar(sa.select(sa.func.count(OutboxEmail.id)))


def _mails_to(address: str) -> list[OutboxEmail]:
    return list(
        db.session.scalars(
            sa.select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id)
        )
    )


def _committed_status(need_id: int) -> str:
    """What another connection sees: only what was committed."""
    with db.engine.connect() as other:
        return other.scalar(sa.select(Need.__table__.c.status).where(Need.id == need_id))


@pytest.mark.committed  # another connection reads what is committed
def test_a_subscriber_hears_a_move_with_its_event_before_the_commit(app):
    need, _ = make_need(NeedStatus.OPEN, email="asker@example.org")
    admin = make_user(Role.ADMIN)
    partner = make_organisation()
    db.session.commit()
    heard = []

    def receiver(sender, *, event, move, actor, notify, **_):
        heard.append(
            {
                "need": sender,
                "event": event,
                "event_in_session": event in db.session,
                "move": move.name,
                "actor": actor,
                "notify": notify,
                "status_now": sender.status,
                "committed_status": _committed_status(sender.id),
            }
        )

    before = _outbox_count()
    with need_moved.connected_to(receiver):
        event = transition(need, "route", Actor.staff(admin), organisation=partner)
    # notify's own subscriber ran inside transition() too: its mail is pending.
    assert _outbox_count() == before + 1
    db.session.commit()

    assert len(heard) == 1
    seen = heard[0]
    assert seen["need"] is need and seen["event"] is event
    assert seen["event_in_session"]
    assert (seen["event"].from_status, seen["event"].to_status) == (
        NeedStatus.OPEN,
        NeedStatus.ROUTED,
    )
    assert seen["move"] == "route" and seen["actor"].user is admin and seen["notify"]
    assert seen["status_now"] == NeedStatus.ROUTED
    # The receiver ran before the commit: nobody else could see the move yet.
    assert seen["committed_status"] == NeedStatus.OPEN.value
    assert _committed_status(need.id) == NeedStatus.ROUTED.value


def test_a_rolled_back_move_sends_no_mail(app):
    need, _ = make_need(NeedStatus.OPEN, email="asker@example.org")
    follower = make_user()
    follower.notify_followed = Delivery.IMMEDIATE
    services.follow(need, follower)
    admin = make_user(Role.ADMIN)
    partner = make_organisation()
    db.session.commit()
    before = _outbox_count()
    subjects_before = [m.subject for m in _mails_to("asker@example.org")]

    transition(need, "route", Actor.staff(admin), organisation=partner)
    assert _outbox_count() == before + 2  # the asker and the follower, in this transaction
    db.session.rollback()  # e.g. a later step of the request failed

    assert _outbox_count() == before
    assert _mails_to(follower.email) == []
    assert [m.subject for m in _mails_to("asker@example.org")] == subjects_before
    routed = sa.select(sa.func.count(TimelineEvent.id)).where(TimelineEvent.move == "route")
    assert db.session.scalar(routed) == 0


def test_steps_are_announced_and_only_news_is_mailed(app):
    need, _ = make_need(NeedStatus.ACCEPTED, email="asker@example.org")
    admin = make_user(Role.ADMIN)
    db.session.commit()
    mailed_before = len(_mails_to("asker@example.org"))
    before = _outbox_count()
    heard = []

    def receiver(sender, *, event, kind, actor, notify, **_):
        heard.append((kind, notify, event.internal, event in db.session))

    with need_event_recorded.connected_to(receiver):
        record_event(need, "note", Actor.staff(admin), text="Called the office.")
        record_event(need, "update", Actor.staff(admin), text="The crew comes on Monday.")
        record_event(need, "update", Actor.staff(admin), text="Quietly.", notify=False)
    db.session.commit()

    assert heard == [
        ("note", False, True, True),
        ("update", True, False, True),
        ("update", False, False, True),
    ]
    assert _outbox_count() == before + 1  # the one update that is news
    mails = _mails_to("asker@example.org")
    assert len(mails) == mailed_before + 1
    assert "The crew comes on Monday." in mails[-1].body_text


def test_a_submission_is_announced_with_its_token_and_receipt(app):
    heard = []

    def receiver(sender, *, tracking_token, submitter, **_):
        heard.append((sender, tracking_token, submitter, _outbox_count()))

    with need_submitted.connected_to(receiver):
        need, token = make_need(NeedStatus.SUBMITTED, email="asker@example.org")

    assert [(n, t, s) for n, t, s, _ in heard] == [(need, token, None)]
    assert need.ref  # announced once it has its reference
    receipt = db.session.scalar(
        sa.select(OutboxEmail).where(OutboxEmail.to_address == "asker@example.org")
    )
    assert token in receipt.body_text


def test_the_workflow_does_not_import_notify():
    """The point of the signals: the dependency goes one way."""
    tree = ast.parse(Path(workflow.__file__).read_text())
    imported = {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert not {name for name in imported if name.startswith("portal.notify")}
