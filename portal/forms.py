"""Form helpers shared by every area."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from typing import TypeVar

from flask import Response, abort, current_app, session
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeLocalField, DecimalField, IntegerField, SelectChoice
from wtforms.validators import Length

from portal.core.params import bounded_date
from portal.domain import DomainError
from portal.extensions import db

T = TypeVar("T")

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None) -> str | None:
    """Normalise newlines and drop control characters (PostgreSQL refuses NUL).
    Anything but text (a JSON body's numbers or lists, were one to reach a form)
    counts as nothing typed."""
    if not isinstance(value, str):
        return None
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL_CHARS.sub("", value).strip()


def lower_case(value: str | None) -> str | None:
    """A filter for e-mail addresses and codes."""
    return value.lower() if value else value


def too_long(limit: int) -> Length:
    return Length(max=limit, message=_l("At most %(max)d characters, please."))


def label_choices(labels: dict) -> list[SelectChoice]:
    """The choices of a select from {enum member or value: lazy label}."""
    return [SelectChoice(str(getattr(key, "value", key)), label) for key, label in labels.items()]


class EmptyForm(FlaskForm):
    """Just the CSRF token, for button-only POSTs."""


def require_token() -> None:
    """A button-only POST without a valid CSRF token is a 400."""
    if not EmptyForm().validate():
        abort(400)


#: A random value per browser session that one-time form keys are bound to.
FORM_NONCE = "form_nonce"


def new_form_key() -> str:
    """The one-time key a form that creates something carries (a need at
    /needs/new or at staff intake). Rendering it gives the session its nonce, so
    two quick submits of the form bind to the same one."""
    session.setdefault(FORM_NONCE, secrets.token_hex(16))
    return secrets.token_hex(16)


def bind_form_key(form_key: str) -> str:
    """The idempotency key stored with the created row: the form's key bound to
    this browser session with the secret key. A repeated submit from the same
    session finds its row and confirmation again; the same form key sent from any
    other session (or guessed, or derived from an API request) is a different key,
    so it can never show someone else's confirmation or tracking link."""
    nonce = session.setdefault(FORM_NONCE, secrets.token_hex(16))
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, f"form:{nonce}:{form_key}".encode(), hashlib.sha256).hexdigest()


class FiniteDecimalField(DecimalField):
    """A DecimalField that reads "NaN", "sNaN" and "Infinity" as no number (with
    `invalid_message`): WTForms' NumberRange cannot compare them."""

    def __init__(self, *args, invalid_message=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.invalid_message = invalid_message or _l("Please give a number.")

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(str(self.invalid_message))


def check_day_in_range(field: DateField | DateTimeLocalField, message) -> None:
    """After a date field parsed its value: a day outside the years any record
    can have (see `bounded_date`) is refused with `message`, before a time zone
    conversion overflows on it."""
    if field.data is not None and bounded_date(field.data) is None:
        field.data = None
        raise ValueError(str(message))


class DayField(DateField):
    """A date field whose parse error is translated and which refuses days
    outside the years any record can have."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("Please give a date as YYYY-MM-DD."))) from error
        check_day_in_range(self, _l("Please give a date as YYYY-MM-DD."))


class WholeNumberField(IntegerField):
    """An integer field whose parse error is translated."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as error:
            raise ValueError(str(_l("Please give a whole number."))) from error


def show_domain_error(form: FlaskForm, error: DomainError) -> None:
    """Next to its field when the form has it, else above the form."""
    message = str(error)
    if error.field and error.field in form:
        field = form[error.field]
        field.errors = [*field.errors, message]
    else:
        form.form_errors.append(message)


def submit_form(
    form: FlaskForm,
    apply: Callable[[], T],
    *,
    done: Callable[[T], Response],
    again: Callable[[FlaskForm], Response],
    valid: bool | None = None,
) -> Response:
    """The one way a form post is handled: validate (or take `valid`, when the
    caller checked more, e.g. photos), call the service through `apply()`,
    commit once, and answer `done(result)`. Invalid input, or a DomainError from
    the service (rolled back: nothing half-saved), answers `again(form)`, which
    shows the form with what was typed and the errors in place (see
    `portal.htmx.render_invalid`: 422, or 200 for htmx). A form without its CSRF
    token is a 400, never a form error."""
    if valid is None:
        valid = form.validate()
    if not valid:
        if "csrf_token" in form.errors:
            abort(400)
        return again(form)
    try:
        result = apply()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        show_domain_error(form, error)
        return again(form)
    return done(result)
