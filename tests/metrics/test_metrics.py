"""The response-loop numbers on a timeline built by hand, with the expected
values worked out by hand (see the comments)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.extensions import db
from portal.feedback.models import Feedback
from portal.metrics.services import compute
from portal.needs.models import NeedStatus
from portal.partners.models import Assignment, AssignmentState
from portal.workdays.models import CalendarDay, DayKind
from portal.workflow.models import TimelineEvent
from tests.factories import make_category, make_need, make_organisation


def at(day: int, hour: int = 1, minute: int = 0) -> datetime:
    """A moment in March 2026, UTC (01:00 UTC is 09:00 in Shanghai)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


NOW = at(20, 12)
MARCH = {"start": at(1, 0), "end": datetime(2026, 4, 1, tzinfo=UTC), "now": NOW}


@pytest.fixture
def loop(app):
    # Wednesday 4 March is a holiday: a 2-working-day response SLA for a need
    # routed on Monday 2 March ends on Thursday 5 March, 23:59:59 Shanghai
    # time = 15:59:59 UTC.
    db.session.add(CalendarDay(day=date(2026, 3, 4), kind=DayKind.HOLIDAY, name="test"))
    a, b = make_organisation(), make_organisation()
    category = make_category(response_sla_days=2, resolution_sla_days=10)

    def need_with(org, *steps):
        need, _ = make_need(NeedStatus.SUBMITTED, category=category)
        need.assigned_organisation_id = org.id
        for move, moment in steps:
            db.session.add(
                TimelineEvent(
                    need=need,
                    move=move,
                    from_status=NeedStatus.OPEN,
                    to_status=NeedStatus.OPEN,
                    actor_role="admin",
                    organisation_id=org.id,
                    created_at=moment,
                )
            )
        return need

    n1 = need_with(a, ("route", at(2)), ("accept", at(5, 10)), ("resolve", at(9)))  # in time
    n2 = need_with(a, ("route", at(2)), ("accept", at(6)))  # answered late
    need_with(a, ("route", at(2)), ("decline", at(3)))  # declined in time
    need_with(a, ("route", at(2)))  # never answered, SLA passed
    n5 = need_with(a, ("route", at(20, 0)))  # SLA not passed yet on the 20th
    need_with(
        a,
        ("route", at(2)),
        ("accept", at(3)),
        ("resolve", at(4)),
        ("close_unresolved", at(10)),  # ended "not resolved": not counted as resolved
    )
    need_with(b, ("route", at(2)), ("accept", at(2, 5)))  # another partner
    need_with(a, ("route", datetime(2026, 2, 20, tzinfo=UTC)), ("accept", at(2)))  # February

    for score in (5, 3):
        db.session.add(
            Feedback(
                need_id=n1.id,
                cycle=1,
                respondent=f"user:{score}",
                resolved="yes",
                satisfaction=score,
                created_at=at(12),
            )
        )
    for need, due, state in (
        (n2, at(10), AssignmentState.ACCEPTED),
        (n5, at(30), AssignmentState.PENDING),
    ):
        db.session.add(
            Assignment(
                need_id=need.id, organisation_id=a.id, state=state, response_due_at=due, due_at=due
            )
        )
    db.session.commit()
    return a, b, category


def test_partner_metrics_for_march(loop):
    a, _b, _category = loop
    m = compute(organisation_id=a.id, **MARCH)
    # Routed in March: needs 1–6 (the February routing is outside the period).
    assert m.routed == 6
    # SLA passed for 1, 2, 3, 4, 6; answered in time: 1 (Thu 10:00 UTC ≤ 15:59:59), 3, 6.
    assert (m.responded_in_time, m.response_due) == (3, 5)
    assert m.response_rate == pytest.approx(0.6)
    # Accepted after a March routing: 1, 2, 6; resolved and not closed as unresolved: 1.
    assert (m.resolved, m.accepted) == (1, 3)
    assert m.resolution_rate == pytest.approx(1 / 3)
    # Days to first response: 3.375, 4, 1, 1 → median (1 + 3.375) / 2 = 2.1875.
    assert m.median_days_to_response == 2.2
    # Days from routing to resolution: need 1, 2 → 9 March = 7 days.
    assert m.median_days_to_resolution == 7.0
    # Feedback 5 and 3: one of two is satisfied (≥ 4).
    assert (m.satisfied, m.feedback) == (1, 2)
    assert m.satisfaction_rate == pytest.approx(0.5)
    # Need 2's assignment was due on 10 March and is still open.
    assert m.overdue_now == 1


def test_portal_wide_metrics_include_every_partner(loop):
    m = compute(**MARCH)
    # Partner B's routing on 2 March, answered 4 hours later, joins the count.
    assert m.routed == 7
    assert (m.responded_in_time, m.response_due) == (4, 6)
    assert m.accepted == 4


def test_a_period_without_routings_has_no_rates(loop):
    a, _b, _category = loop
    m = compute(
        organisation_id=a.id,
        start=datetime(2025, 1, 1, tzinfo=UTC),
        end=datetime(2025, 2, 1, tzinfo=UTC),
        now=NOW,
    )
    assert m.routed == 0
    assert m.response_rate is None and m.resolution_rate is None
    assert m.median_days_to_response is None


def test_category_scope(loop):
    _a, _b, category = loop
    other = make_category()
    db.session.commit()
    assert compute(category_id=category.id, **MARCH).routed == 7
    assert compute(category_id=other.id, **MARCH).routed == 0


def test_channel_scope(loop):
    from portal.needs.models import Channel

    assert compute(channel=Channel.WEB, **MARCH).routed == 7
    assert compute(channel=Channel.PHONE, **MARCH).routed == 0
