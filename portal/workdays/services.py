"""Due dates count working days: Monday to Friday, minus holidays, plus the
make-up working days of the calendar, which admins keep on /admin/calendar
(each change audited; nothing here commits: the view commits once)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _

from portal.audit.services import record
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.workdays.models import CalendarDay, DayKind


class CalendarError(DomainError):
    """A rule of the working-day calendar refused the change."""


#: Far enough to cover any SLA plus long holidays such as Spring Festival.
_LOOKAHEAD_DAYS = 400


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today(now: datetime | None = None) -> date:
    """Today in the portal's time zone (due dates, milestones, periods)."""
    return (now or utcnow()).astimezone(local_zone()).date()


def local_day_start(day: date) -> datetime:
    """Midnight of a local calendar day, in UTC."""
    return datetime.combine(day, time.min, tzinfo=local_zone()).astimezone(UTC)


def end_of_local_day(day: date) -> datetime:
    """The last second of that day, local time, in UTC (due dates given as a day)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=local_zone()).astimezone(UTC)


def start_of_local_day(now: datetime) -> datetime:
    """Midnight local time of the day `now` falls in, in UTC."""
    return local_day_start(now.astimezone(local_zone()).date())


def _overrides(start: date, end: date) -> dict[date, DayKind]:
    rows = db.session.execute(
        sa.select(CalendarDay.day, CalendarDay.kind).where(
            CalendarDay.day >= start, CalendarDay.day <= end
        )
    )
    return {day: kind for day, kind in rows}


def is_working_day(day: date, overrides: dict[date, DayKind] | None = None) -> bool:
    if overrides is None:
        overrides = _overrides(day, day)
    kind = overrides.get(day)
    if kind == DayKind.HOLIDAY:
        return False
    if kind == DayKind.WORKDAY:
        return True
    return day.weekday() < 5


def overrides_between(start: datetime, end: datetime) -> dict[date, DayKind]:
    """The calendar exceptions for a whole period, to compute many due dates
    with one query (see `add_working_days(..., overrides=...)`)."""
    zone = local_zone()
    return _overrides(
        start.astimezone(zone).date(),
        end.astimezone(zone).date() + timedelta(days=_LOOKAHEAD_DAYS),
    )


def add_working_days(
    start: datetime, days: int, overrides: dict[date, DayKind] | None = None
) -> datetime:
    """The end (23:59:59 local time) of the `days`-th working day after `start`."""
    local_start = start.astimezone(local_zone()).date()
    if overrides is None:
        overrides = _overrides(local_start, local_start + timedelta(days=_LOOKAHEAD_DAYS))
    day = local_start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, overrides):
            counted += 1
    end = datetime.combine(day, time(23, 59, 59), tzinfo=local_zone())
    return end.astimezone(UTC)


def working_days_between(start: datetime, end: datetime) -> int:
    """Working days from the day after `start` up to and including `end`'s day."""
    first = start.astimezone(local_zone()).date()
    last = end.astimezone(local_zone()).date()
    if last <= first:
        return 0
    overrides = _overrides(first, last)
    return sum(
        1
        for offset in range(1, (last - first).days + 1)
        if is_working_day(first + timedelta(days=offset), overrides)
    )


def due_day(start: date, days: int) -> date:
    """The local day that `days` working days after the day `start` end on."""
    return add_working_days(local_day_start(start), days).astimezone(local_zone()).date()


# --- the calendar (admins) -----------------------------------------------------------


def calendar_days(year: int) -> list[CalendarDay]:
    return list(
        db.session.scalars(
            sa.select(CalendarDay)
            .where(CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))
            .order_by(CalendarDay.day)
        )
    )


def get_calendar_day(day: date) -> CalendarDay | None:
    return db.session.get(CalendarDay, day)


def add_calendar_day(day: date, kind: DayKind, name: str, actor) -> CalendarDay:
    if get_calendar_day(day) is not None:
        raise CalendarError(_("This date is already in the calendar."), "day")
    row = CalendarDay(day=day, kind=kind, name=name)
    db.session.add(row)
    db.session.flush()
    record(actor, "calendar.add", row, after={"day": day, "kind": kind.value, "name": name})
    return row


def remove_calendar_day(row: CalendarDay, actor) -> None:
    record(
        actor,
        "calendar.remove",
        row,
        before={"day": row.day, "kind": row.kind.value, "name": row.name},
    )
    db.session.delete(row)
    db.session.flush()
