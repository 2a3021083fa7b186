"""The working-day calendar page: holidays and make-up working days, audited."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from portal.extensions import db
from portal.workdays.models import CalendarDay, DayKind
from tests.conftest import audit_rows


def _days() -> list[CalendarDay]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(CalendarDay).order_by(CalendarDay.day)))


def test_an_admin_adds_and_removes_calendar_days(client, admin, post):
    response = post(
        "/admin/calendar", {"day": "2026-10-01", "kind": "holiday", "name": "National Day"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/admin/calendar?year=2026")
    post("/admin/calendar", {"day": "2026-10-10", "kind": "workday", "name": "Make-up day"})
    post("/admin/calendar", {"day": "2027-01-01", "kind": "holiday", "name": "New Year"})
    assert [(d.day, d.kind) for d in _days()] == [
        (date(2026, 10, 1), DayKind.HOLIDAY),
        (date(2026, 10, 10), DayKind.WORKDAY),
        (date(2027, 1, 1), DayKind.HOLIDAY),
    ]
    page = client.get("/admin/calendar?year=2026").get_data(as_text=True)
    assert "National Day" in page and "Make-up working day" in page and "New Year" not in page

    [added, *_rest] = audit_rows("calendar.add")
    assert added.object_type == "calendar_days" and added.object_id == "2026-10-01"
    assert added.after == {"day": "2026-10-01", "kind": "holiday", "name": "National Day"}

    assert post("/admin/calendar/2026-10-10/remove").status_code == 303
    assert [d.day for d in _days()] == [date(2026, 10, 1), date(2027, 1, 1)]
    [removed] = audit_rows("calendar.remove")
    assert removed.before == {"day": "2026-10-10", "kind": "workday", "name": "Make-up day"}
    assert post("/admin/calendar/2026-10-10/remove").status_code == 404
    assert post("/admin/calendar/not-a-date/remove").status_code == 404


def test_the_same_day_twice_is_refused(client, admin, post):
    post("/admin/calendar", {"day": "2026-10-01", "kind": "holiday", "name": "National Day"})
    response = post("/admin/calendar", {"day": "2026-10-01", "kind": "workday", "name": "Again"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This date is already in the calendar." in page
    assert 'value="Again"' in page
    assert [(d.day, d.kind) for d in _days()] == [(date(2026, 10, 1), DayKind.HOLIDAY)]
    assert len(audit_rows()) == 1


def test_a_bad_date_is_refused(client, admin, post):
    response = post("/admin/calendar", {"day": "2026-02-30", "kind": "holiday"})
    assert response.status_code == 422
    assert "Please give a date as YYYY-MM-DD." in response.get_data(as_text=True)
    response = post("/admin/calendar", {"day": "2026-02-03", "kind": "weekend"}, htmx=True)
    assert response.status_code == 200
    assert response.get_data(as_text=True).lstrip().startswith('<form id="calendar-form"')
    assert _days() == []


def test_the_due_date_check_counts_working_days(client, admin, post):
    # Wednesday 30 September + 1 working day is Friday 2 October when the 1st is a holiday.
    post("/admin/calendar", {"day": "2026-10-01", "kind": "holiday", "name": "National Day"})
    page = client.get("/admin/calendar?year=2026&start=2026-09-30&n=1").get_data(as_text=True)
    assert "1 working days after Sep 30, 2026: due on Friday, October 2, 2026." in page
    page = client.get("/admin/calendar?year=2026&start=2026-09-30&n=0").get_data(as_text=True)
    assert "due on" not in page
