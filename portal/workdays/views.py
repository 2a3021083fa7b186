"""The working-day calendar page (/admin/calendar): the holidays and make-up
working days of each year, and a due-date check."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth.decorators import admin_required
from portal.core.params import bounded_date, bounded_int
from portal.extensions import db
from portal.forms import EmptyForm, require_token, show_domain_error
from portal.htmx import redirect_after_post, render, render_invalid
from portal.workdays import services
from portal.workdays.forms import CalendarDayForm
from portal.workdays.models import DayKind

bp = Blueprint("workdays", __name__, url_prefix="/admin/calendar")


def _year_arg(value: str | None) -> int:
    return bounded_int(value, 2000, 2100) or services.local_today().year


def _due_date_check() -> dict:
    """The optional "N working days from a date" calculator on the calendar page."""
    start = bounded_date(request.args.get("start"))
    typed = (request.args.get("n") or "")[:10]
    days = bounded_int(typed, 1, 365)
    if start is None or days is None:
        return {"start": start, "n": typed, "due": None}
    return {"start": start, "n": typed, "due": services.due_day(start, days)}


def _calendar_context(year: int, form: CalendarDayForm | None = None) -> dict:
    return {
        "year": year,
        "days": services.calendar_days(year),
        "form": form or CalendarDayForm(formdata=None),
        "button_form": EmptyForm(formdata=None),
        "check": _due_date_check(),
        "day_kinds": list(DayKind),
    }


@bp.route("", methods=["GET", "POST"])
@admin_required
def calendar():
    year = _year_arg(request.args.get("year"))
    if request.method == "POST":
        form = CalendarDayForm()

        def invalid():
            return render_invalid(
                "workdays/calendar.html",
                "workdays/_calendar_form.html",
                context=_calendar_context(year, form),
            )

        if not form.validate():
            return invalid()
        try:
            services.add_calendar_day(
                form.day.data, DayKind(form.kind.data), form.name.data or "", current_user
            )
            db.session.commit()
        except (services.CalendarError, IntegrityError) as error:
            db.session.rollback()
            if not isinstance(error, services.CalendarError):
                error = services.CalendarError(_("This date is already in the calendar."), "day")
            show_domain_error(form, error)
            return invalid()
        flash(_("%(day)s is added to the calendar.", day=form.day.data.isoformat()), "success")
        return redirect_after_post(url_for("workdays.calendar", year=form.day.data.year))
    return render("workdays/calendar.html", context=_calendar_context(year))


@bp.post("/<day>/remove")
@admin_required
def remove_day(day: str):
    parsed = bounded_date(day)
    row = services.get_calendar_day(parsed) if parsed else None
    if row is None:
        abort(404)
    require_token()
    services.remove_calendar_day(row, current_user)
    db.session.commit()
    flash(_("%(day)s is removed from the calendar.", day=parsed.isoformat()), "success")
    return redirect_after_post(url_for("workdays.calendar", year=parsed.year))
