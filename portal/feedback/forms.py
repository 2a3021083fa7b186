from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import AnyOf, Length, Optional

from portal.feedback.models import Resolved
from portal.forms import clean_text


class FeedbackForm(FlaskForm):
    resolved = RadioField(
        _l("Was your need resolved?"),
        choices=[
            SelectChoice(Resolved.YES.value, _l("Yes")),
            SelectChoice(Resolved.PARTLY.value, _l("Partly")),
            SelectChoice(Resolved.NO.value, _l("No")),
        ],
        validate_choice=False,
        validators=[AnyOf([r.value for r in Resolved], message=_l("Please choose an answer."))],
    )
    satisfaction = RadioField(
        _l("How satisfied are you with the answer? (1 = not at all, 5 = very)"),
        choices=[SelectChoice(str(n), str(n)) for n in range(1, 6)],
        validate_choice=False,
        validators=[AnyOf([str(n) for n in range(1, 6)], message=_l("Please choose from 1 to 5."))],
    )
    comment = TextAreaField(
        _l("Comment (optional)"),
        filters=[clean_text],
        validators=[
            Optional(),
            Length(max=2000, message=_l("The comment must be at most %(max)d characters.")),
        ],
    )
