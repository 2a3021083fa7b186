"""Forms of the triage area. The queue rows and the need page render them with
the form macros; `portal.triage.offers.build_form` gives each field an id of
its own per row (`row-<need id>-<action>-<field>`)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from portal.core.params import coerce_id
from portal.forms import check_day_in_range, clean_text
from portal.needs import rules
from portal.needs.forms import NeedForm, PositionMixin, Satisfies, Within
from portal.needs.models import Channel
from portal.needs.services import Submission
from portal.partners import forms as partner_forms
from portal.partners.models import AssignmentState

CHANNEL_LABELS = {
    Channel.WEB: _l("Web"),
    Channel.PHONE: _l("Phone"),
    Channel.WALK_IN: _l("Walk-in"),
    Channel.API: _l("API"),
    Channel.STAFF: _l("Staff"),
}

ASSIGNMENT_LABELS = {
    AssignmentState.PENDING: _l("Waiting for the partner"),
    AssignmentState.ACCEPTED: _l("Accepted"),
    AssignmentState.DECLINED: _l("Declined"),
    AssignmentState.COMPLETED: _l("Completed"),
    AssignmentState.TRANSFERRED: _l("Transferred"),
    AssignmentState.CANCELLED: _l("Cancelled"),
}

REF = re.compile(r"^N-\d{4}-\d{6,}$")


def _upper(value: str | None) -> str | None:
    return value.strip().upper() if value else value


class _LocalDate(DateField):
    """A date input whose parse error is translated."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            self.data = None
            raise ValueError(str(_l("Please give a valid date."))) from error
        check_day_in_range(self, _l("Please give a valid date."))


class _NextMixin:
    """Where a plain (non-htmx) post goes back to, and which view sent it."""

    origin = HiddenField()
    next = HiddenField()


class ActionForm(_NextMixin, FlaskForm):
    """Button-only moves (publish)."""


def _reason(label, description=None) -> TextAreaField:
    return TextAreaField(
        label,
        description=description,
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give a reason.")),
            Length(max=2000, message=_l("At most %(max)d characters.")),
        ],
        render_kw={"rows": 3, "maxlength": 2000},
    )


class RejectForm(_NextMixin, FlaskForm):
    reason = _reason(_l("Reason (the submitter sees it)"))


class CloseForm(_NextMixin, FlaskForm):
    reason = _reason(
        _l("Reason (public)"),
        _l("For example: out of every partner's power. The need counts as not resolved."),
    )


class NoteForm(_NextMixin, FlaskForm):
    text = TextAreaField(
        _l("Internal note"),
        description=_l(
            "Seen only by administrators and the partner handling the need; never public."
        ),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please write something.")),
            Length(max=4000, message=_l("At most %(max)d characters.")),
        ],
        render_kw={"rows": 3, "maxlength": 4000},
    )


class TitleForm(_NextMixin, FlaskForm):
    title = StringField(
        _l("Corrected title"),
        description=_l("The original title stays on the timeline."),
        render_kw={"maxlength": 120, "autocomplete": "off"},
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give a title.")),
            Length(
                min=4,
                max=120,
                message=_l("The title must be between %(min)d and %(max)d characters."),
            ),
        ],
    )


class PositionForm(PositionMixin, _NextMixin, FlaskForm):
    """The admin's pin of a need: moved, placed, or removed (both empty)."""


class CategoryForm(_NextMixin, FlaskForm):
    category = SelectField(_l("Category"), coerce=coerce_id, validate_choice=False)

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.category.choices = [SelectChoice(str(c.id), c.name) for c in categories]
        self._categories = {c.id: c for c in categories}

    def validate_category(self, field):
        if field.data not in self._categories:
            raise ValidationError(_l("Please choose a category."))

    def chosen(self):
        return self._categories.get(self.category.data)


class DuplicateForm(_NextMixin, FlaskForm):
    duplicate_of = StringField(
        _l("Reference of the need to keep"),
        description=_l(
            "Supports and followers move to that need; the submitter is told. Type a "
            "reference or words of its title to see suggestions."
        ),
        render_kw={"maxlength": 100, "autocomplete": "off", "placeholder": "N-2026-000123"},
        filters=[_upper],
        validators=[
            DataRequired(_l("Give the reference of the need to keep, e.g. N-2026-000123."))
        ],
    )

    def validate_duplicate_of(self, field):
        if not REF.match(field.data or ""):
            raise ValidationError(_l("This is not a need reference (e.g. N-2026-000123)."))


class _PartnerChoice:
    def _set_partners(self, organisations, suggested=None):
        self.suggested = suggested  # the routing rules' choice, preselected
        self.organisation.choices = [SelectChoice("0", _l("Choose a partner…"))] + [
            SelectChoice(
                str(o.id),
                _l("%(partner)s (suggested)", partner=o.name) if o is suggested else o.name,
            )
            for o in organisations
        ]
        self._partners = {o.id: o for o in organisations}

    def validate_organisation(self, field):
        if field.data not in self._partners:
            raise ValidationError(_l("Choose an active partner organisation."))

    def chosen(self):
        return self._partners.get(self.organisation.data)


def _supporters_field() -> SelectMultipleField:
    return SelectMultipleField(
        _l("Supporting partners (optional)"),
        description=_l(
            "They see the need, post updates and can be asked for their input; the lead "
            "partner answers and resolves it."
        ),
        coerce=coerce_id,
        validate_choice=False,
        render_kw={"size": 4},
    )


class _Supporters:
    """Supporting partners (协办), chosen among the active partners."""

    def _set_supporters(self, organisations):
        if "supporters" not in self._fields:
            return
        self.supporters.choices = [SelectChoice(str(o.id), o.name) for o in organisations]
        self._supporters = {o.id: o for o in organisations}

    def validate_supporters(self, field):
        chosen = [value for value in field.data or [] if value]  # 0: an empty value sent
        if any(value not in self._supporters for value in chosen):
            raise ValidationError(_l("Choose active partner organisations."))
        if "organisation" in self and self.organisation.data in chosen:
            raise ValidationError(_l("The lead partner cannot also support the need."))

    def chosen_supporters(self):
        return [self._supporters[v] for v in self.supporters.data or [] if v in self._supporters]


class RouteForm(_Supporters, _PartnerChoice, _NextMixin, FlaskForm):
    organisation = SelectField(_l("Lead partner"), coerce=coerce_id, validate_choice=False)
    due_date = _LocalDate(
        _l("Due date"),
        description=_l("End of that day. The default counts the category's working days."),
        validators=[Optional()],
        render_kw={"type": "date"},
    )
    note = TextAreaField(
        _l("Note to the partner (public, optional)"),
        filters=[clean_text],
        validators=[Length(max=2000, message=_l("At most %(max)d characters."))],
        render_kw={"rows": 2, "maxlength": 2000},
    )
    supporters = _supporters_field()

    def __init__(self, *args, organisations=(), suggested=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_partners(organisations, suggested)
        self._set_supporters(organisations)


class SupportersForm(_Supporters, _NextMixin, FlaskForm):
    """Add supporting partners to a need already with its lead partner."""

    supporters = _supporters_field()

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._set_supporters(organisations)

    def validate_supporters(self, field):
        super().validate_supporters(field)
        if not field.data:
            raise ValidationError(_l("Choose at least one partner."))


class AskInputForm(_NextMixin, partner_forms.AskInputForm):
    """Ask one supporting partner for its input by a date."""


class TransferForm(RouteForm):
    note = TextAreaField(
        _l("Reason (public)"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please give a reason.")),
            Length(max=2000, message=_l("At most %(max)d characters.")),
        ],
        render_kw={"rows": 2, "maxlength": 2000},
    )
    supporters = None  # a transfer changes the lead only


class BulkForm(_PartnerChoice, _NextMixin, FlaskForm):
    action = SelectField(
        _l("With the selected needs"),
        choices=[
            SelectChoice("publish", _l("Publish")),
            SelectChoice("route", _l("Route to a partner")),
        ],
        validate_choice=False,
    )
    organisation = SelectField(_l("Partner"), coerce=coerce_id, validate_choice=False)
    due_date = _LocalDate(_l("Due date"), validators=[Optional()])
    note = TextAreaField(
        _l("Note to the partner (public)"),
        filters=[clean_text],
        validators=[Length(max=2000, message=_l("At most %(max)d characters."))],
    )

    def __init__(self, *args, organisations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self._set_partners(organisations)

    def validate_action(self, field):
        if field.data not in ("publish", "route"):
            raise ValidationError(_l("Choose what to do with the selected needs."))

    def validate_organisation(self, field):
        if self.action.data == "route":
            super().validate_organisation(field)


class DecisionForm(_NextMixin, FlaskForm):
    decision = HiddenField(validators=[InputRequired()])
    note = TextAreaField(
        _l("Note (public, optional)"),
        filters=[clean_text],
        validators=[Length(max=2000, message=_l("At most %(max)d characters."))],
    )

    def validate_decision(self, field):
        if field.data not in ("grant", "refuse"):
            raise ValidationError(_l("Grant or refuse the request."))


class IntakeForm(NeedForm):
    """The public form, filled in by staff for someone who phoned or came in."""

    channel = SelectField(_l("How did the need reach you?"), validate_choice=False)
    email = StringField(
        _l("The person's e-mail (optional)"),
        filters=[clean_text],
        validators=NeedForm.email.kwargs["validators"],
        description=_l("They receive the tracking link and updates there. Never shown publicly."),
    )
    contact_name = StringField(
        _l("The person's name (optional)"),
        filters=[clean_text],
        validators=[Within(rules.NAME)],
        description=_l("So the partner can call back. Never shown publicly."),
    )
    phone = StringField(
        _l("The person's phone number (optional)"),
        filters=[clean_text],
        validators=[
            Within(rules.PHONE),
            Satisfies(rules.phone_is_valid, _l("Use digits, spaces and + - ( ) only.")),
        ],
    )
    consent = BooleanField(
        _l("The person was told about the privacy notice and agrees that the need is processed."),
        validators=[DataRequired(_l("Please confirm that the person agreed."))],
    )

    def __init__(self, *args, categories=(), **kwargs):
        super().__init__(*args, categories=categories, **kwargs)
        self.channel.choices = [
            SelectChoice(c.value, CHANNEL_LABELS[c]) for c in rules.STAFF_CHANNELS
        ]

    def validate_channel(self, field):
        if field.data not in rules.STAFF_CHANNELS:
            raise ValidationError(_l("Choose how the need reached you."))

    def submission(self, key: str, **kwargs) -> Submission:
        data = super().submission(key, **kwargs)
        data.name = self.contact_name.data or ""
        data.phone = self.phone.data or ""
        data.channel = Channel(self.channel.data)
        return data
