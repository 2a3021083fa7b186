"""The forms of the sensitive-term list."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal.forms import clean_text
from portal.moderation.models import TERM_MAX


class TermForm(FlaskForm):
    term = StringField(
        _l("Word or phrase"),
        description=_l(
            "Found whatever the case, full-width or half-width, and with spaces or "
            "punctuation between its characters."
        ),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please type a word or phrase.")),
            Length(max=TERM_MAX, message=_l("A term must be at most %(max)d characters.")),
        ],
    )


class ImportForm(FlaskForm):
    file = FileField(
        _l("Text file"),
        description=_l(
            "UTF-8, one term per line; lines starting with # are skipped, terms "
            "already listed are ignored."
        ),
        validators=[FileRequired(_l("Please choose a file."))],
    )
