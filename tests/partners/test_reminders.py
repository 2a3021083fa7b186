"""Reminders (催办) the day after a missed due date, escalation after N further
working days; each once, whatever the number of runs."""

from __future__ import annotations

import threading
from datetime import datetime, time, timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import Role, User
from portal.core.settings import ESCALATE_AFTER_DAYS, set_setting
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import NeedStatus
from portal.notify.models import OutboxEmail
from portal.partners.cli import remind
from portal.partners.models import Assignment
from portal.partners.workspace import send_reminders
from portal.workdays.services import local_zone
from portal.workflow.models import TimelineEvent
from tests.factories import make_user


def local(year, month, day, hour=10, minute=0, second=0):
    return datetime(year, month, day, hour, minute, second, tzinfo=local_zone())


def end_of(year, month, day):
    return local(year, month, day, 23, 59, 59)


def _due(need, due_at) -> Assignment:
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.need_id == need.id))
    assignment.response_due_at = min(assignment.response_due_at, due_at)
    assignment.due_at = due_at
    db.session.commit()
    return assignment


def _mails() -> list[OutboxEmail]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxEmail)
            .where(OutboxEmail.body_text.contains("/partner/needs/"))  # reminders only
            .order_by(OutboxEmail.id)
        )
    )


def _events(need, move) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            sa.select(TimelineEvent).where(
                TimelineEvent.need_id == need.id, TimelineEvent.move == move
            )
        )
    )


@pytest.fixture
def overdue(make_partner, routed):
    """A need due on Monday 2 March 2026 (end of day), with two active staff,
    one former staff member and a staff member of another partner."""
    partner = make_partner(name_en="Roads Office")
    second = make_user(Role.PARTNER, partner.organisation)
    second.locale = "en"
    partner.staff.locale = "en"
    former = make_user(Role.PARTNER, partner.organisation)
    former.active = False
    stranger = make_partner()
    need, token = routed(partner, status=NeedStatus.ACCEPTED, title="Collapsed drain")
    _due(need, end_of(2026, 3, 2))
    return partner, [partner.staff, second], former, stranger, need, token


def test_nothing_on_the_due_date_itself(app, overdue):
    *_, need, _token = overdue
    assert send_reminders(local(2026, 3, 2, 23, 0)) == (0, 0)
    assert _mails() == []


def test_the_day_after_every_active_staff_member_is_reminded_once(app, client, overdue):
    partner, staff, former, stranger, need, token = overdue
    assert send_reminders(local(2026, 3, 3, 0, 5)) == (1, 0)
    mails = _mails()
    active_staff = db.session.scalars(
        sa.select(User.email).where(User.organisation_id == partner.organisation.id, User.active)
    ).all()
    assert len(active_staff) == 3  # the two made here and the one who accepted the need
    assert {u.email for u in staff} < set(active_staff)
    assert sorted(m.to_address for m in mails) == sorted(active_staff)
    assert former.email not in active_staff and stranger.staff.email not in active_staff
    mail = mails[0]
    assert need.ref in mail.subject
    assert "Collapsed drain" in mail.body_text and "Roads Office" in mail.body_text
    assert "March 2, 2026" in mail.body_text
    assert f"/partner/needs/{need.ref}" in mail.body_text
    events = _events(need, "reminder")
    assert len(events) == 1 and events[0].internal
    assert events[0].organisation_id == partner.organisation.id
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.need_id == need.id))
    assert assignment.reminded_at is not None and assignment.escalated_at is None

    # Any number of further runs sends nothing more.
    for hours in (1, 5, 30):
        assert send_reminders(local(2026, 3, 3, 0, 5) + timedelta(hours=hours)) == (0, 0)
    assert len(_mails()) == 3
    assert len(_events(need, "reminder")) == 1

    # The reminder is internal: never on the public page or the tracking page.
    for url in (f"/needs/{need.ref}", f"/track/{token}"):
        html = client.get(url).get_data(as_text=True)
        assert "Reminder sent to the partner" not in html, url


def test_escalation_after_the_configured_working_days(app, overdue):
    partner, *_, need, _token = overdue
    admin = make_user(Role.ADMIN)
    set_setting(ESCALATE_AFTER_DAYS, "2", admin)
    db.session.commit()

    assert send_reminders(local(2026, 3, 3)) == (1, 0)  # Tuesday: 1 working day late
    assert send_reminders(local(2026, 3, 3, 18)) == (0, 0)
    assert send_reminders(local(2026, 3, 4, 9)) == (0, 1)  # Wednesday: 2 working days
    assert send_reminders(local(2026, 3, 5, 9)) == (0, 0)  # never twice
    events = _events(need, "escalated")
    assert len(events) == 1 and events[0].internal
    assert events[0].organisation_id == partner.organisation.id
    assignment = db.session.scalar(sa.select(Assignment).where(Assignment.need_id == need.id))
    assert assignment.escalated_at is not None
    assert len(_mails()) == 3  # escalation sends no second reminder


def test_weekends_do_not_count_towards_escalation(app, make_partner, routed):
    partner = make_partner()
    need, _ = routed(partner, status=NeedStatus.ACCEPTED)
    _due(need, end_of(2026, 3, 6))  # a Friday
    set_setting(ESCALATE_AFTER_DAYS, "2", make_user(Role.ADMIN))
    db.session.commit()
    assert send_reminders(local(2026, 3, 7)) == (1, 0)  # Saturday
    assert send_reminders(local(2026, 3, 9)) == (0, 0)  # Monday: 1 working day
    assert send_reminders(local(2026, 3, 10)) == (0, 1)  # Tuesday: 2


def test_only_open_assignments_are_reminded(app, make_partner, routed):
    partner = make_partner()
    resolved, _ = routed(partner, status=NeedStatus.RESOLVED)
    _due(resolved, end_of(2026, 3, 2))
    assert send_reminders(local(2026, 3, 20)) == (0, 0)
    assert _mails() == []


def test_the_cli_command_prints_the_counts(app, overdue):
    *_, need, _token = overdue
    _due(need, utcnow() - timedelta(days=3))
    runner = app.test_cli_runner()
    result = runner.invoke(remind)
    assert result.exit_code == 0, result.output
    assert "Reminders sent: 1." in result.output
    result = runner.invoke(remind)
    assert "Reminders sent: 0." in result.output


@pytest.mark.committed  # each run has a connection of its own
def test_two_runs_at_the_same_time_send_once(app, overdue):
    *_, need, _token = overdue
    now = datetime.combine(
        end_of(2026, 3, 2).date() + timedelta(days=1), time(9), tzinfo=local_zone()
    )
    barrier = threading.Barrier(2)
    results: list = []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                results.append(send_reminders(now))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r[0] for r in results) == [0, 1]
    assert len(_mails()) == 3
    assert len(_events(need, "reminder")) == 1
