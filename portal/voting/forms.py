from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateTimeLocalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, ValidationError

from portal.forms import check_day_in_range, clean_text

REF = re.compile(r"N-\d{4}-\d{6}")


class _LocalDateTime(DateTimeLocalField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("Please give a date and time."))) from error
        check_day_in_range(self, _l("Please give a date and time."))


class RoundForm(FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give the round a title.")),
            Length(max=200, message=_l("The title must be at most %(max)d characters.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        filters=[clean_text],
        validators=[Length(max=4000, message=_l("The description is too long."))],
    )
    shortlist = TextAreaField(
        _l("Shortlist"),
        description=_l("References of the needs to vote on, e.g. N-2026-000123, one per line."),
        validators=[DataRequired(_l("Please list the needs to vote on."))],
    )
    votes_per_member = IntegerField(
        _l("Votes per member"),
        default=3,
        validators=[
            InputRequired(_l("Please give a number.")),
            NumberRange(min=1, max=20, message=_l("Between %(min)s and %(max)s votes.")),
        ],
    )
    starts_at = _LocalDateTime(
        _l("Starts"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(_l("Please give a start time."))],
    )
    ends_at = _LocalDateTime(
        _l("Ends"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[InputRequired(_l("Please give an end time."))],
    )
    show_live_counts = BooleanField(_l("Show the counts while the round is open"))

    def refs(self) -> list[str]:
        found: list[str] = []
        for ref in REF.findall(self.shortlist.data or ""):
            if ref not in found:
                found.append(ref)
        return found

    def validate_shortlist(self, field):
        if len(self.refs()) < 2:
            raise ValidationError(_l("List at least two need references."))
        if len(self.refs()) > 50:
            raise ValidationError(_l("At most %(n)d needs in one round.", n=50))

    def validate_ends_at(self, field):
        if self.starts_at.data and field.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("The round must end after it starts."))
