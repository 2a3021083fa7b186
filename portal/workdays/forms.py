"""The form of the working-day calendar page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, InputRequired

from portal.forms import DayField, clean_text, label_choices, too_long
from portal.workdays.models import DAY_LABELS


class CalendarDayForm(FlaskForm):
    day = DayField(_l("Date"), validators=[InputRequired(_l("Please give a date."))])
    kind = SelectField(
        _l("Kind of day"),
        choices=label_choices(DAY_LABELS),
        validators=[DataRequired(_l("Please choose a kind."))],
    )
    name = StringField(_l("Name"), filters=[clean_text], validators=[too_long(100)])
