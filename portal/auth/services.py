"""Account rules: registration, verification, login, password changes."""

from __future__ import annotations

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from portal.auth import lockout, tokens
from portal.auth.models import Role, User, user_by_email
from portal.extensions import db
from portal.models_base import utcnow
from portal.notify.services import public_url, queue_email

# Verifying a made-up hash costs as much as a real one, so a login for an
# unknown address takes as long as one for a known address.
_DUMMY_HASH = None


def register(display_name: str, email: str, password: str, locale: str) -> User | None:
    """Create an unverified member and send the verification link. When the
    address already has an account, tell its owner by e-mail instead, so the
    form's answer never reveals which addresses are registered.

    Hashing the password (scrypt) is nearly all the cost of a new account, so
    the taken-address path hashes it too and throws the result away: both
    answers take the same time and the timing tells nothing either."""
    existing = user_by_email(email)
    if existing is not None:
        generate_password_hash(password)
        queue_email(
            existing.email,
            "account_exists",
            existing.locale or locale,
            user=existing,
            login_url=public_url("auth.login"),
            reset_url=public_url("auth.reset_request"),
        )
        return None
    user = User(
        email=email.strip().lower(),
        display_name=display_name,
        role=Role.MEMBER,
        locale=locale,
        consent_notice_version=current_app.config["PRIVACY_NOTICE_VERSION"],
        consent_at=utcnow(),
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    send_verification(user)
    return user


def send_verification(user: User) -> None:
    queue_email(
        user.email,
        "verify_email",
        user.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
        user=user,
        verify_url=public_url("auth.verify", token=tokens.make_token(user, tokens.VERIFY)),
    )


def verify_email(token: str) -> User | None:
    user = tokens.read_token(token, tokens.VERIFY)
    if user is None or user.is_verified:
        return None
    user.email_verified_at = utcnow()
    return user


def authenticate(email: str, password: str) -> User | None:
    global _DUMMY_HASH
    user = user_by_email(email)
    if user is None or not user.password_hash:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = generate_password_hash("not a real password, only for timing")
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def request_password_reset(email: str, locale: str) -> None:
    """Queue a reset link if the address has an account; the caller answers
    the same either way."""
    user = user_by_email(email)
    if user is None or not user.active:
        return
    queue_email(
        user.email,
        "reset_password",
        user.locale or locale,
        user=user,
        reset_url=public_url("auth.reset", token=tokens.make_token(user, tokens.RESET)),
    )


def set_password(user: User, password: str) -> None:
    """A new password ends every session of the account, everywhere, and any
    lock after failed logins (the reset link proved the mailbox)."""
    user.set_password(password)
    user.end_all_sessions()
    lockout.clear(user.email)
