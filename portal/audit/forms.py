"""The forms of the quality checks page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    SelectField,
    TextAreaField,
)
from wtforms.validators import (
    InputRequired,
    NumberRange,
    ValidationError,
)

from portal.audit.models import CHECK_OUTCOMES
from portal.forms import (
    DayField,
    WholeNumberField,
    clean_text,
    label_choices,
    too_long,
)


class SampleForm(FlaskForm):
    size = WholeNumberField(
        _l("How many needs"),
        default=10,
        validators=[
            InputRequired(_l("Please give a number.")),
            NumberRange(min=1, max=50, message=_l("Between %(min)s and %(max)s needs.")),
        ],
    )
    date_from = DayField(
        _l("Resolved from"), validators=[InputRequired(_l("Please give a start date."))]
    )
    date_to = DayField(
        _l("Resolved until"), validators=[InputRequired(_l("Please give an end date."))]
    )

    def validate_date_to(self, field):
        if self.date_from.data and field.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))


class CheckOutcomeForm(FlaskForm):
    outcome = SelectField(
        _l("Outcome"),
        choices=label_choices(CHECK_OUTCOMES),
        validate_choice=False,
    )
    notes = TextAreaField(_l("Notes"), filters=[clean_text], validators=[too_long(2000)])

    def validate_outcome(self, field):
        if field.data not in CHECK_OUTCOMES:
            raise ValidationError(_l("Please choose an outcome."))
