"""The web form of a need; staff intake's form extends it. Their field limits
are the rules of `portal.needs.rules`, read when the form is checked, so the
Open311 parser and these forms cannot drift apart."""

from __future__ import annotations

import re
from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, Regexp, ValidationError

from portal.areas.forms import area_field
from portal.core.params import bounded_float, coerce_id
from portal.forms import clean_text
from portal.needs import rules
from portal.needs.location import point_or_none
from portal.needs.services import Submission
from portal.photos.forms import photos_field

IDEMPOTENCY_KEY = re.compile(r"^[0-9a-f]{32}$")


class Within(Length):
    """WTForms' Length with the bounds of one of `portal.needs.rules`' limits,
    read each time the form is checked or drawn (`maxlength` included): change
    the rule and the form follows."""

    def __init__(self, limits: rules.TextLimits, message=None):
        self.limits = limits
        self.message = message

    @property
    def min(self) -> int:
        return self.limits.min or -1

    @property
    def max(self) -> int:
        return self.limits.max

    @property
    def field_flags(self) -> dict[str, int]:
        flags = {"maxlength": self.limits.max}
        if self.limits.min:
            flags["minlength"] = self.limits.min
        return flags


class Satisfies:
    """A field's text must pass one of `portal.needs.rules`' checks (empty text
    is left to Optional or DataRequired)."""

    def __init__(self, check: Callable[[str], bool], message):
        self.check = check
        self.message = message

    def __call__(self, form, field):
        if field.data and not self.check(field.data):
            raise ValidationError(self.message)


class CoordinateField(StringField):
    """An optional latitude or longitude in degrees, within one of
    `portal.needs.rules`' ranges (read when the form is checked). Its data is a
    float or None; anything else typed is refused with `message`, and shown
    again as typed."""

    def __init__(self, label, limits: rules.Range, message, **kwargs):
        super().__init__(label, **kwargs)
        self.limits = limits
        self.message = message

    def process_formdata(self, valuelist):
        self.raw = (valuelist[0] if valuelist else "") or ""
        if not isinstance(self.raw, str) or not self.raw.strip():
            self.data = None
            return
        self.data = bounded_float(self.raw, self.limits.min, self.limits.max)
        if self.data is None:
            raise ValueError(str(self.message))

    def _value(self) -> str:
        if self.raw_data:
            return self.raw if isinstance(self.raw, str) else ""
        return "" if self.data is None else repr(self.data)


class PositionMixin:
    """The optional pin of a need: latitude and longitude, both or neither
    (`rules.position_problem`). The map of static/js/map.js fills them; without
    it they are two number inputs."""

    lat = CoordinateField(
        _l("Latitude"),
        rules.LATITUDE,
        _l("The latitude must be a number from -90 to 90."),
        description=_l("In degrees, e.g. 39.9042 (north is positive)."),
    )
    lon = CoordinateField(
        _l("Longitude"),
        rules.LONGITUDE,
        _l("The longitude must be a number from -180 to 180."),
        description=_l("In degrees, e.g. 116.4074 (east is positive)."),
    )

    def validate_lon(self, field):
        if self.lat.errors or field.errors:
            return
        if rules.position_problem(self.lat.data, field.data) == rules.PositionProblem.HALF:
            raise ValidationError(
                _l("Please give both the latitude and the longitude, or neither.")
            )

    @property
    def point(self):
        return point_or_none(self.lat.data, self.lon.data)


class NeedForm(PositionMixin, FlaskForm):
    title = StringField(
        _l("Title"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give your need a title.")),
            Within(
                rules.TITLE,
                message=_l("The title must be between %(min)d and %(max)d characters."),
            ),
        ],
        description=_l("In a few words: what is the problem or request?"),
    )
    body = TextAreaField(
        _l("Description"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please describe your need.")),
            Within(
                rules.DESCRIPTION,
                message=_l("The description must be between %(min)d and %(max)d characters."),
            ),
        ],
        description=_l("What happens, since when, who is affected, what would help."),
    )
    category = SelectField(
        _l("Category"),
        coerce=coerce_id,
        validate_choice=False,  # checked below, with our own translated message
    )
    area = area_field()
    place = StringField(
        _l("Place (optional)"),
        filters=[clean_text],
        validators=[
            Optional(),
            Within(rules.PLACE, message=_l("The place must be at most %(max)d characters.")),
        ],
        description=_l("Street, building or area, if it helps. No private address needed."),
    )
    photos = photos_field()
    email = StringField(
        _l("E-mail (optional)"),
        filters=[clean_text],
        validators=[
            Optional(),
            Within(rules.EMAIL, message=_l("The e-mail address is too long.")),
            Satisfies(rules.email_is_valid, _l("Please enter a valid e-mail address.")),
        ],
        description=_l("To receive the tracking link and updates. Never shown publicly."),
    )
    consent = BooleanField(
        _l("I have read the privacy notice and agree that my submission is processed."),
        validators=[DataRequired(_l("Please agree to the privacy notice to submit."))],
    )
    idempotency_key = HiddenField(
        validators=[
            DataRequired(_l("The form is incomplete. Please reload the page.")),
            Regexp(IDEMPOTENCY_KEY, message=_l("The form is incomplete. Please reload the page.")),
        ]
    )

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice("0", _l("Choose a category…"))] + [
            SelectChoice(str(c.id), c.name) for c in categories
        ]
        self._category_ids = {c.id for c in categories}

    def validate_category(self, field):
        if field.data not in self._category_ids:
            raise ValidationError(_l("Please choose a category."))

    def submission(self, key: str, *, locale: str, answers, photos) -> Submission:
        """What the form says, for `portal.needs.submission.submit`: `key` is the
        form's idempotency key bound to the session (`bind_form_key`), `answers`
        the checked answers to the category's questions, `photos` the batch the
        form received."""
        return Submission(
            title=self.title.data,
            body=self.body.data,
            category_id=self.category.data,
            place=self.place.data or "",
            lat=self.lat.data,
            lon=self.lon.data,
            area_id=self.area.data.id if self.area.data is not None else None,
            email=self.email.data or "",
            idempotency_key=key,
            locale=locale,
            answers=answers,
            photos=photos,
        )
