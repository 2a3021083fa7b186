"""The forms of the category admin pages: a category, and one of its extra
questions (an Open311 service attribute). Rules that need the database (unique
codes) live in categories.services and categories.questions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.categories.models import QUESTION_KIND_LABELS, QuestionKind
from portal.categories.questions import LIST_KINDS, QuestionError, parse_choices
from portal.core.params import coerce_id
from portal.forms import WholeNumberField, clean_text, lower_case, too_long


class CategoryForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("Short and unique: lower-case letters, digits, - and _."),
        filters=[clean_text, lower_case],
        validators=[
            DataRequired(_l("Please give a code.")),
            too_long(40),
            Regexp(
                r"^[a-z0-9_-]+$",
                message=_l("Only lower-case letters, digits, - and _ please."),
            ),
        ],
    )
    name_zh = StringField(
        _l("Name (Chinese)"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please give the Chinese name.")), too_long(100)],
    )
    name_en = StringField(_l("Name (English)"), filters=[clean_text], validators=[too_long(100)])
    description_zh = TextAreaField(
        _l("Description (Chinese)"), filters=[clean_text], validators=[too_long(4000)]
    )
    description_en = TextAreaField(
        _l("Description (English)"), filters=[clean_text], validators=[too_long(4000)]
    )
    response_sla_days = WholeNumberField(
        _l("Days to first response (working days)"),
        default=3,
        validators=[
            InputRequired(_l("Please give a number of days.")),
            NumberRange(min=1, max=365, message=_l("Between %(min)s and %(max)s days.")),
        ],
    )
    resolution_sla_days = WholeNumberField(
        _l("Days to resolution (working days)"),
        default=15,
        validators=[
            InputRequired(_l("Please give a number of days.")),
            NumberRange(min=1, max=365, message=_l("Between %(min)s and %(max)s days.")),
        ],
    )
    default_partner = SelectField(
        _l("Default partner (routing rule)"), coerce=coerce_id, choices=[]
    )
    is_active = BooleanField(_l("Active (offered to people who submit)"), default=True)
    position = WholeNumberField(
        _l("Position in lists"),
        default=0,
        validators=[
            InputRequired(_l("Please give a number.")),
            NumberRange(min=0, max=10000, message=_l("Between %(min)s and %(max)s.")),
        ],
    )

    def __init__(self, *args, partners=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.default_partner.choices = [SelectChoice("0", _l("None"))] + [
            SelectChoice(str(o.id), o.name) for o in partners
        ]

    def validate_resolution_sla_days(self, field):
        response = self.response_sla_days.data
        if isinstance(response, int) and isinstance(field.data, int) and field.data < response:
            raise ValidationError(
                _l("The time to resolution cannot be shorter than the time to first response.")
            )


class QuestionForm(FlaskForm):
    """On edit (`editing=True`) the code and kind are shown, not posted: they stay
    as created."""

    code = StringField(
        _l("Code"),
        filters=[lambda v: clean_text(v).lower() if v else v],
        validators=[
            DataRequired(_l("Please give a code.")),
            Regexp(
                r"^[a-z0-9_]{1,40}$",
                message=_l("Only lower-case letters, digits and _ please (at most 40)."),
            ),
        ],
        description=_l("Used by API clients as attribute[code]; it cannot change later."),
    )
    kind = SelectField(
        _l("Kind of answer"),
        choices=[SelectChoice(k.value, label) for k, label in QUESTION_KIND_LABELS.items()],
        validate_choice=False,
    )
    prompt_zh = StringField(
        _l("Question (Chinese)"),
        filters=[clean_text],
        validators=[DataRequired(_l("Please write the question in Chinese.")), too_long(200)],
    )
    prompt_en = StringField(
        _l("Question (English)"), filters=[clean_text], validators=[Optional(), too_long(200)]
    )
    help_zh = StringField(
        _l("Help (Chinese, optional)"),
        filters=[clean_text],
        validators=[Optional(), too_long(300)],
    )
    help_en = StringField(
        _l("Help (English, optional)"),
        filters=[clean_text],
        validators=[Optional(), too_long(300)],
    )
    required = BooleanField(_l("An answer is required"))
    choices = TextAreaField(
        _l("Possible answers (for the choice kinds)"),
        filters=[clean_text],
        validators=[Optional(), too_long(10000)],
        description=_l("One per line: key | 中文名 | English name, e.g. “deep | 很深 | Deep”."),
    )

    def __init__(self, *args, editing: bool = False, fixed_kind: QuestionKind | None = None, **kw):
        super().__init__(*args, **kw)
        self.editing = editing
        self.fixed_kind = fixed_kind
        self.parsed_choices: list[dict] = []
        if editing:
            del self.code
            del self.kind

    @property
    def chosen_kind(self) -> QuestionKind:
        if self.fixed_kind is not None:
            return self.fixed_kind
        try:
            return QuestionKind(self.kind.data)
        except ValueError:
            return QuestionKind.TEXT

    def validate_kind(self, field):
        if field.data not in {k.value for k in QuestionKind}:
            raise ValidationError(_l("Please choose a kind of answer."))

    def validate_choices(self, field):
        if self.chosen_kind not in LIST_KINDS:
            return
        try:
            self.parsed_choices = parse_choices(field.data or "")
        except QuestionError as error:
            raise ValidationError(str(error)) from error
        if not self.parsed_choices:
            raise ValidationError(_l("Please give the possible answers, one per line."))

    def values(self) -> dict:
        return {
            "prompt_zh": self.prompt_zh.data,
            "prompt_en": self.prompt_en.data or "",
            "help_zh": self.help_zh.data or "",
            "help_en": self.help_en.data or "",
            "required": bool(self.required.data),
            "choices": self.parsed_choices,
        }
