"""Forms of the project area: the proposal (立项申请), the admin's project form
(approval and direct creation), the review decisions and the partners' actions.
The partner forms carry a prefix so several live on one page with distinct ids."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.areas.forms import area_field
from portal.core.params import coerce_id, optional_id
from portal.forms import FiniteDecimalField, check_day_in_range, clean_text
from portal.partners.models import ResourceKind
from portal.projects.models import PROJECT_STATUS_LABELS, ProgressMode, ProjectStatus

REF = re.compile(r"N-\d{4}-\d{6}")
_SEPARATORS = re.compile(r"[\s,，;；、]+")
MAX_LINKED_NEEDS = 50

TOO_LONG = _l("At most %(max)d characters, please.")


def _text(label, *, required=None, max_length=4000, description=None) -> TextAreaField:
    validators = [Length(max=max_length, message=TOO_LONG)]
    validators.insert(0, DataRequired(required) if required else Optional())
    return TextAreaField(
        label, description=description, filters=[clean_text], validators=validators
    )


def _line(label, *, required, max_length=200, description=None) -> StringField:
    return StringField(
        label,
        description=description,
        filters=[clean_text],
        validators=[DataRequired(required), Length(max=max_length, message=TOO_LONG)],
    )


def _org_choices(organisations) -> list[SelectChoice]:
    return [SelectChoice(str(o.id), o.name) for o in organisations]


class _Date(DateField):
    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("Please give a date."))) from error
        check_day_in_range(self, _l("Please give a date."))


class _NeedRefsMixin:
    """A text box of need references (N-2026-000123), one per line or separated
    by commas; each must look like a reference (whether it is a public need is
    checked against the database by the view)."""

    def refs(self) -> list[str]:
        tokens = [t for t in _SEPARATORS.split((self.need_refs.data or "").upper()) if t]
        return list(dict.fromkeys(tokens))

    def validate_need_refs(self, field):
        refs = self.refs()
        bad = [t for t in refs if not REF.fullmatch(t)]
        if bad:
            raise ValidationError(
                _l("Not a need reference: %(refs)s (like N-2026-000123)", refs=", ".join(bad))
            )
        if len(refs) > MAX_LINKED_NEEDS:
            raise ValidationError(_l("At most %(n)d needs.", n=MAX_LINKED_NEEDS))


def _need_refs(required=None) -> TextAreaField:
    return TextAreaField(
        _l("Linked needs"),
        description=_l("References of published needs, e.g. N-2026-000123, one per line."),
        validators=[DataRequired(required)] if required else [Optional()],
    )


def _target_value() -> IntegerField:
    return IntegerField(
        _l("Target number (optional)"),
        description=_l("For example 200 when the target is “train 200 workers”."),
        validators=[
            Optional(),
            NumberRange(min=0, max=1_000_000_000, message=_l("Please give a whole number.")),
        ],
    )


KEY = re.compile(r"[0-9a-f]{32}")
OUT_OF_DATE = _l("This form is out of date; please send it again.")


class _IdempotencyKeyMixin:
    """A hidden key made when the form is shown (secrets.token_hex(16)): the
    same form sent twice creates one row (see portal.models_base.commit_once)."""

    idempotency_key = HiddenField()

    def validate_idempotency_key(self, field):
        if not KEY.fullmatch(field.data or ""):
            raise ValidationError(OUT_OF_DATE)


class _ClientTokenMixin:
    """A hidden token made when the form is shown: the database's unique
    (project_id, client_token) turns a double submit into one row."""

    client_token = HiddenField()

    def validate_client_token(self, field):
        if not KEY.fullmatch(field.data or ""):
            raise ValidationError(OUT_OF_DATE)


class ProposalForm(_IdempotencyKeyMixin, _NeedRefsMixin, FlaskForm):
    title = _line(_l("Title"), required=_l("Please give the proposal a title."))
    background = _text(_l("Background"), required=_l("Please describe the background."))
    goal = _text(_l("Goal"), required=_l("Please state the goal."))
    expected_result = _text(
        _l("Expected result"), required=_l("Please describe the expected result.")
    )
    target = _line(
        _l("Measurable target"),
        required=_l("Please give a measurable target."),
        description=_l("What can be counted at the end, e.g. “200 workers trained”."),
    )
    target_value = _target_value()
    resources_needed = _text(_l("Resources needed"))
    suggested_partners = SelectMultipleField(_l("Suggested partners"), coerce=coerce_id, choices=[])
    need_refs = _need_refs()

    def set_partner_choices(self, organisations) -> None:
        self.suggested_partners.choices = [SelectChoice(str(o.id), o.name) for o in organisations]


class ProjectForm(_IdempotencyKeyMixin, _NeedRefsMixin, FlaskForm):
    """The project an admin creates, from a proposal or from prioritised needs."""

    title = _line(_l("Title"), required=_l("Please give the project a title."))
    background = _text(_l("Background"))
    goal = _text(_l("Goal"), required=_l("Please state the goal."))
    expected_result = _text(_l("Expected result"))
    target = _line(_l("Measurable target"), required=_l("Please give a measurable target."))
    target_value = _target_value()
    budget = FiniteDecimalField(
        _l("Budget in CNY (optional)"),
        places=2,
        invalid_message=_l("Please give an amount."),
        validators=[
            Optional(),
            NumberRange(min=0, max=999_999_999_999, message=_l("Please give an amount.")),
        ],
    )
    lead = SelectField(
        _l("Lead partner (主责)"),
        coerce=optional_id,
        choices=[],
        validators=[InputRequired(_l("Please choose the lead partner."))],
    )
    supporters = SelectMultipleField(_l("Supporting partners (辅责)"), coerce=coerce_id, choices=[])
    area = area_field(
        _l("Area (optional)"), _l("Where the project works: a district, a street or a community.")
    )
    need_refs = _need_refs()
    round_id = HiddenField()

    def set_partner_choices(self, organisations, placeholder) -> None:
        self.lead.choices = [SelectChoice("", placeholder)] + _org_choices(organisations)
        self.supporters.choices = _org_choices(organisations)

    def validate_lead(self, field):
        if not field.data:
            raise ValidationError(_l("Please choose the lead partner."))


class ReviewNoteForm(FlaskForm):
    note = _text(_l("What should the proposer change?"), required=_l("Please say what to change."))


class DeclineForm(FlaskForm):
    reason = _text(
        _l("Why is the proposal declined? (the proposer reads this)"),
        required=_l("Please give a reason."),
    )


# --- partner actions ---------------------------------------------------------------


class UpdateForm(_ClientTokenMixin, FlaskForm):
    body = _text(
        _l("Public update"),
        required=_l("Please write something."),
        max_length=10000,
        description=_l("Markdown: **bold**, *italic*, lists and links."),
    )


class UpdateDecisionForm(FlaskForm):
    """A moderator's decision on a held update; the note is optional."""

    reason = _text(_l("Note (optional)"), max_length=1000)


class MilestoneForm(_ClientTokenMixin, FlaskForm):
    title = _line(_l("Milestone"), required=_l("Please name the milestone."))
    due_on = _Date(_l("Due on"), validators=[InputRequired(_l("Please give a date."))])


class LinkNeedsForm(_NeedRefsMixin, FlaskForm):
    need_refs = _need_refs(required=_l("Please give at least one need reference."))


class ProgressForm(FlaskForm):
    mode = SelectField(
        _l("Progress is"),
        choices=[
            SelectChoice(ProgressMode.MILESTONES.value, _l("counted from the milestones")),
            SelectChoice(ProgressMode.MANUAL.value, _l("set by hand")),
        ],
    )
    value = IntegerField(
        _l("Progress in %"),
        validators=[
            Optional(),
            NumberRange(min=0, max=100, message=_l("Between %(min)s and %(max)s, please.")),
        ],
    )
    reason = _text(_l("Why (required when set by hand)"), max_length=1000)

    def validate_value(self, field):
        if self.mode.data == ProgressMode.MANUAL and field.data is None:
            raise ValidationError(_l("Please give a progress between 0 and 100."))

    def validate_reason(self, field):
        if self.mode.data == ProgressMode.MANUAL and not field.data:
            raise ValidationError(_l("Please say why the progress is set by hand."))


class AchievedForm(FlaskForm):
    value = IntegerField(
        _l("Achieved so far"),
        description=_l("How much of the target number is reached, e.g. 120 workers trained."),
        validators=[
            InputRequired(_l("Please give a whole number of 0 or more.")),
            NumberRange(
                min=0, max=1_000_000_000, message=_l("Please give a whole number of 0 or more.")
            ),
        ],
    )


class StatusForm(FlaskForm):
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice(s.value, PROJECT_STATUS_LABELS[s]) for s in ProjectStatus],
    )


class CommitmentForm(_ClientTokenMixin, FlaskForm):
    organisation = SelectField(_l("Partner"), coerce=optional_id, choices=[])
    resource = SelectField(_l("From its offered resources"), coerce=optional_id, choices=[])
    kind = SelectField(_l("Or describe it: kind"), choices=[], default="")
    description = StringField(
        _l("Description"),
        filters=[clean_text],
        validators=[Length(max=300, message=TOO_LONG)],
    )
    quantity = IntegerField(
        _l("Quantity (optional)"),
        validators=[
            Optional(),
            NumberRange(min=1, max=1_000_000, message=_l("Please give a number.")),
        ],
    )
    amount = FiniteDecimalField(
        _l("Amount in CNY (optional)"),
        places=2,
        invalid_message=_l("Please give an amount."),
        validators=[
            Optional(),
            NumberRange(min=0, max=999_999_999_999, message=_l("Please give an amount.")),
        ],
    )

    def set_choices(self, organisations, resources, none_label) -> None:
        self.organisation.choices = _org_choices(organisations)
        self.resource.choices = [SelectChoice("", none_label)] + [
            SelectChoice(str(r.id), f"{r.kind.label}: {r.description}") for r in resources
        ]
        self.kind.choices = [SelectChoice("", none_label)] + [
            SelectChoice(k.value, k.label) for k in ResourceKind
        ]

    def validate_organisation(self, field):
        if not field.data:
            raise ValidationError(_l("Please choose the partner."))

    def validate_description(self, field):
        if not self.resource.data and not (self.kind.data and field.data):
            raise ValidationError(_l("Pick an offered resource, or give a kind and a description."))
