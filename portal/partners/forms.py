"""The short forms of the partner workspace. Each is built with a prefix (its
action's name) so that several of them live on one page with distinct ids.
Below them, the forms of the partners' admin pages (portal/partners/admin.py)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from portal.core.params import coerce_id, optional_id
from portal.forms import check_day_in_range, clean_text, label_choices, lower_case, too_long
from portal.partners.models import KIND_LABELS, RESOURCE_LABELS
from portal.photos.forms import photos_field

#: The "after" photos a partner may add to a public update or answer.
AFTER_PHOTOS_LABEL = _l("Photos of the work (public, optional, up to 3)")


def _reason(label, required=None) -> TextAreaField:
    return TextAreaField(
        label,
        filters=[clean_text],
        validators=[
            DataRequired(required or _l("Please give a reason.")),
            Length(max=2000, message=_l("At most %(max)d characters, please.")),
        ],
        render_kw={"rows": 3, "maxlength": 2000},
    )


class _LocalDate(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("Please give a date."))) from error
        check_day_in_range(self, _l("Please give a date."))


class DeclineForm(FlaskForm):
    reason = _reason(_l("Why can your organisation not take this need?"))


class DeclineTransferForm(FlaskForm):
    reason = _reason(_l("Why can your organisation not take over this need?"))


class UpdateForm(FlaskForm):
    text = _reason(_l("Progress update (public)"), required=_l("Please write something."))
    photos = photos_field(AFTER_PHOTOS_LABEL)


class ResolveForm(FlaskForm):
    text = TextAreaField(
        _l("Your answer (public)"),
        description=_l("What was done, or why it cannot be done. The submitter reads this."),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give a reason or an answer.")),
            Length(max=4000, message=_l("At most %(max)d characters, please.")),
        ],
        render_kw={"rows": 5, "maxlength": 4000},
    )
    photos = photos_field(AFTER_PHOTOS_LABEL)


class NoteForm(FlaskForm):
    text = _reason(
        _l("Internal note (only your organisation and the administrators)"),
        required=_l("Please write something."),
    )


class ExtensionForm(FlaskForm):
    new_due = _LocalDate(
        _l("New due date"),
        validators=[InputRequired(_l("Please give a date."))],
    )
    reason = _reason(_l("Why do you need more time?"))

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._today = today
        self.new_due.render_kw = {"type": "date"}
        if today is not None:
            self.new_due.render_kw["min"] = (today + timedelta(days=1)).isoformat()
        self.new_due.description = _l(
            "Due at the end of that day (%(zone)s). An administrator grants or refuses it; "
            "both are shown on the public timeline.",
            zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
        )

    def validate_new_due(self, field):
        if field.data is not None and self._today is not None and field.data <= self._today:
            raise ValidationError(_l("The new due date must be in the future."))


class TransferForm(FlaskForm):
    organisation = SelectField(
        _l("Partner organisation better placed to answer"),
        coerce=coerce_id,
        validate_choice=False,  # checked below, with our own translated message
    )
    reason = _reason(_l("Why is the other organisation better placed?"))

    def set_choices(self, choices: list[tuple[int, str]], placeholder: str) -> None:
        self.organisation.choices = [("", placeholder), *choices]

    def validate_organisation(self, field):
        valid = {value for value, _label in field.choices if value != ""}
        if field.data not in valid:
            raise ValidationError(_l("Choose another, active partner organisation."))


class ReassignForm(FlaskForm):
    """An organisation above the lead moves the need to another organisation
    of its own subtree (itself included)."""

    organisation = SelectField(
        _l("Organisation that takes the need over"),
        coerce=coerce_id,
        validate_choice=False,  # checked below, with our own translated message
    )
    reason = _reason(_l("Why this organisation? (public, on the need's timeline)"))

    def set_choices(self, choices: list[tuple[int, str]], placeholder: str) -> None:
        self.organisation.choices = [("", placeholder), *choices]

    def validate_organisation(self, field):
        valid = {value for value, _label in field.choices if value != ""}
        if field.data not in valid:
            raise ValidationError(_l("Choose one of your organisations."))


class InputForm(FlaskForm):
    text = _reason(
        _l("Your input (the lead partner and the administrators read it)"),
        required=_l("Please write something."),
    )


class AskInputForm(FlaskForm):
    """Ask one supporting partner for its input by a date (the lead or an admin)."""

    supporter = SelectField(_l("Supporting partner"), coerce=coerce_id, validate_choice=False)
    question = _reason(_l("What do you need from them?"), required=_l("Please write something."))
    due_date = _LocalDate(
        _l("Input due by"),
        validators=[InputRequired(_l("Please give a date."))],
        render_kw={"type": "date"},
    )

    def __init__(self, *args, co_handlers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.supporter.choices = [(c.organisation_id, c.organisation.name) for c in co_handlers]

    def validate_supporter(self, field):
        if field.data not in {value for value, _label in field.choices}:
            raise ValidationError(_l("Choose one of the supporting partners."))


# --- the admin pages of the partners ------------------------------------------------


class OrganisationForm(FlaskForm):
    name_zh = StringField(
        _l("Name (Chinese)"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please give the Chinese name.")), too_long(200)],
    )
    name_en = StringField(_l("Name (English)"), filters=[clean_text], validators=[too_long(200)])
    kind = SelectField(
        _l("Kind"),
        choices=label_choices(KIND_LABELS),
        validators=[DataRequired(_l("Please choose a kind."))],
    )
    description_zh = TextAreaField(
        _l("Description (Chinese)"), filters=[clean_text], validators=[too_long(4000)]
    )
    description_en = TextAreaField(
        _l("Description (English)"), filters=[clean_text], validators=[too_long(4000)]
    )
    contact_email = StringField(
        _l("Contact e-mail"),
        filters=[clean_text, lower_case],
        validators=[
            Optional(),
            too_long(254),
            Email(_l("Please enter a valid e-mail address."), check_deliverability=False),
        ],
    )
    contact_phone = StringField(
        _l("Contact phone"),
        filters=[clean_text],
        validators=[
            too_long(40),
            Regexp(r"^[0-9+()\- ]*$", message=_l("Digits, spaces, + - ( ) only.")),
        ],
    )
    parent = SelectField(
        _l("Part of"),
        description=_l(
            "The organisation above this one, e.g. the city federation of a district union: "
            "its staff read the needs this one handles and may reassign them."
        ),
        coerce=optional_id,
        validate_choice=False,  # the service checks the choice (not itself, not one below it)
    )
    is_active = BooleanField(_l("Active (receives needs and is listed)"), default=True)
    categories = SelectMultipleField(_l("Categories it handles"), coerce=coerce_id, choices=[])

    def __init__(self, *args, categories=(), parents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.categories.choices = [SelectChoice(str(c.id), c.name) for c in categories]
        self.parent.choices = [("", _l("None: a top-level organisation")), *parents]


class ResourceForm(FlaskForm):
    kind = SelectField(
        _l("Kind of resource"),
        choices=label_choices(RESOURCE_LABELS),
        validators=[DataRequired(_l("Please choose a kind."))],
    )
    description = StringField(
        _l("Short description"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please describe the resource.")), too_long(300)],
    )


class InviteStaffForm(FlaskForm):
    email = StringField(
        _l("E-mail"),
        filters=[clean_text, lower_case],
        validators=[
            DataRequired(_l("Please enter an e-mail address.")),
            too_long(254),
            Email(_l("Please enter a valid e-mail address."), check_deliverability=False),
        ],
    )
    display_name = StringField(
        _l("Display name"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give a display name.")),
            Length(min=2, max=40, message=_l("Use between %(min)d and %(max)d characters.")),
        ],
    )
