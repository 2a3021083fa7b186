from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    AnyOf,
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
    ValidationError,
)

from portal.auth.models import ROLE_LABELS, Delivery, Role
from portal.auth.passwords import password_problems
from portal.core.params import coerce_id
from portal.forms import DayField, clean_text, label_choices


def _email_field(label=None):
    return StringField(
        label or _l("E-mail"),
        filters=[clean_text, lambda v: v.lower() if v else v],
        validators=[
            DataRequired(_l("Please enter your e-mail address.")),
            Length(max=254, message=_l("The e-mail address is too long.")),
            Email(_l("Please enter a valid e-mail address."), check_deliverability=False),
        ],
    )


class _NewPasswordMixin:
    def validate_password(self, field):
        email = self.email.data if hasattr(self, "email") else getattr(self, "_email", "")
        name = self.display_name.data if hasattr(self, "display_name") else ""
        problems = password_problems(field.data or "", email=email or "", name=name or "")
        if problems:
            raise ValidationError(problems[0])


def _password_field(label):
    return PasswordField(label, validators=[DataRequired(_l("Please enter a password."))])


def _confirm_field():
    return PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Please repeat the password.")),
            EqualTo("password", message=_l("The two passwords differ.")),
        ],
    )


class RegisterForm(_NewPasswordMixin, FlaskForm):
    display_name = StringField(
        _l("Display name"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please choose a display name.")),
            Length(min=2, max=40, message=_l("Use between %(min)d and %(max)d characters.")),
        ],
        description=_l("Shown next to your comments. It need not be your real name."),
    )
    email = _email_field()
    password = _password_field(_l("Password"))
    confirm = _confirm_field()
    consent = BooleanField(
        _l("I have read the privacy notice and agree to it."),
        validators=[DataRequired(_l("Please agree to the privacy notice to register."))],
    )


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Please enter your password."))]
    )
    remember = BooleanField(
        _l("Keep me logged in on this device for 14 days"),
        description=_l("For members only: staff accounts are never kept logged in."),
    )


def _code_field(label, description=None):
    return StringField(
        label,
        filters=[lambda v: " ".join(v.split()) if v else v],
        validators=[
            DataRequired(_l("Please type the code.")),
            Length(max=40, message=_l("This is not a code from the app or a recovery code.")),
        ],
        description=description,
    )


class SecondFactorForm(FlaskForm):
    code = _code_field(
        _l("Code"),
        _l("The six digits your authenticator app shows now, or one of your recovery codes."),
    )


class TwoFactorSetupForm(FlaskForm):
    code = _code_field(_l("The six-digit code the app shows now"))


class EmailOnlyForm(FlaskForm):
    email = _email_field()


class ResetPasswordForm(_NewPasswordMixin, FlaskForm):
    password = _password_field(_l("New password"))
    confirm = _confirm_field()

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._email = email


class ChangePasswordForm(_NewPasswordMixin, FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password."))],
    )
    password = _password_field(_l("New password"))
    confirm = _confirm_field()

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self._email = email


DELIVERY_CHOICES = [
    SelectChoice(Delivery.IMMEDIATE.value, _l("Immediately")),
    SelectChoice(Delivery.DAILY.value, _l("In a daily digest")),
    SelectChoice(Delivery.OFF.value, _l("Off")),
]


class NotificationSettingsForm(FlaskForm):
    notify_own = RadioField(
        _l("E-mail about needs I submitted"),
        choices=DELIVERY_CHOICES,
        validate_choice=False,
        validators=[AnyOf([d.value for d in Delivery], message=_l("Please choose an option."))],
    )
    notify_followed = RadioField(
        _l("E-mail about needs I follow"),
        choices=DELIVERY_CHOICES,
        validate_choice=False,
        validators=[AnyOf([d.value for d in Delivery], message=_l("Please choose an option."))],
    )


# --- the users' admin page --------------------------------------------------------


class RoleForm(FlaskForm):
    role = SelectField(
        _l("Role"),
        choices=label_choices(ROLE_LABELS),
        validate_choice=False,
    )
    organisation = SelectField(
        _l("Organisation"), coerce=coerce_id, choices=[], validate_choice=False
    )

    def validate_role(self, field):
        if field.data not in {r.value for r in Role}:
            raise ValidationError(_l("Please choose a role."))

    def validate_organisation(self, field):
        if self.role.data == Role.PARTNER.value and not field.data:
            raise ValidationError(_l("Partner staff must belong to an organisation."))


class TwoFactorPolicyForm(FlaskForm):
    required_from = DayField(
        _l("Staff must use two-factor sign-in from"),
        validators=[Optional()],
        description=_l(
            "From this day on, admins and partner staff without it are sent to set it up "
            "when they log in. Until then they are asked to. Leave empty: not required yet."
        ),
    )
