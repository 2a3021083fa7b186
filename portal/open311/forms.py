"""Forms of the Open311 admin pages (API keys)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, ValidationError
from wtforms.validators import DataRequired, Length, Regexp

from portal.forms import clean_text
from portal.open311.apikeys import DEFAULT_RATE_LIMIT, NAME_MAX, RATE_LIMIT_MAX, rate_limit_error

OUT_OF_DATE = _l("This form is out of date. Please send it again.")


class ApiKeyIssueForm(FlaskForm):
    name = StringField(
        _l("Name"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give the key a name.")),
            Length(max=NAME_MAX, message=_l("At most %(max)d characters, please.")),
        ],
        description=_l("Who uses it, e.g. “City app (Android)”."),
    )
    rate_limit = StringField(
        _l("Rate limit"),
        filters=[clean_text],
        default=DEFAULT_RATE_LIMIT,
        validators=[Length(max=RATE_LIMIT_MAX, message=_l("At most %(max)d characters, please."))],
        description=_l("Requests allowed, e.g. “100 per hour” or “10/minute;1000/day”."),
    )

    idempotency_key = HiddenField(
        validators=[
            DataRequired(_l("This form is out of date. Please send it again.")),
            Regexp(
                r"^[0-9a-f]{32}$", message=_l("This form is out of date. Please send it again.")
            ),
        ]
    )

    def validate_rate_limit(self, field):
        error = rate_limit_error(field.data or "")
        if error:
            raise ValidationError(error)
