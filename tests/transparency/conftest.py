"""A hand-built world for the dashboard: needs moved through the workflow, then
their timeline dated by hand so each lands in a known month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.feedback.models import Feedback
from portal.needs.models import NeedStatus
from portal.workflow.models import TimelineEvent
from tests.factories import make_category, make_need, make_organisation


def date_timeline(need, start: datetime, late_accept: timedelta | None = None) -> None:
    """The need's events one hour apart from `start` (local noon is 04:00 UTC);
    `late_accept` delays the partner's acceptance and everything after it."""
    events = db.session.scalars(
        sa.select(TimelineEvent).where(TimelineEvent.need_id == need.id).order_by(TimelineEvent.id)
    ).all()
    shift = timedelta(0)
    for i, event in enumerate(events):
        if event.move == "accept" and late_accept is not None:
            shift = late_accept
        event.created_at = start + timedelta(hours=i) + shift


def on(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 4, tzinfo=UTC)


@pytest.fixture
def world(app):
    """Two partners (P, Q) and two categories (A, B); the expected numbers for
    the first quarter of 2026 are worked out in tests/transparency/test_dashboard.py."""
    p = make_organisation(name_en="Pine Union", name_zh="松树工会")
    q = make_organisation(name_en="Quay League", name_zh="码头团委")
    a = make_category(name_en="Roads", response_sla_days=2)
    b = make_category(name_en="Housing", response_sla_days=2)

    n1, _ = make_need(NeedStatus.RESOLVED, category=a, partner=p)
    date_timeline(n1, on(1, 12))
    n2, _ = make_need(NeedStatus.RESOLVED, category=a, partner=p)
    date_timeline(n2, on(2, 5))
    n3, _ = make_need(NeedStatus.ACCEPTED, category=b, partner=q)
    date_timeline(n3, on(2, 20), late_accept=timedelta(days=10))  # answered late
    n4, _ = make_need(NeedStatus.SUBMITTED, category=a)
    date_timeline(n4, on(3, 2))
    n5, _ = make_need(NeedStatus.OPEN, category=b)
    date_timeline(n5, on(3, 3))
    n6, _ = make_need(NeedStatus.CLOSED, category=b, partner=q)
    date_timeline(n6, on(3, 10))
    old, _ = make_need(NeedStatus.RESOLVED, category=a, partner=q)  # December 2025
    date_timeline(old, on(12, 10, year=2025))
    for need, score in ((n1, 5), (n6, 2)):
        db.session.add(
            Feedback(
                need_id=need.id,
                cycle=1,
                respondent=f"user:{need.id}",
                resolved="yes",
                satisfaction=score,
                created_at=on(3, 15),
            )
        )
    db.session.commit()
    return {"p": p, "q": q, "a": a, "b": b}
