"""Single-use, expiring links for e-mail verification and password reset.

Stateless: each token is signed and carries a fingerprint of the account state
it may change (the unverified address; the current password hash). Once used,
that state changes and the same token no longer matches."""

from __future__ import annotations

import hashlib

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from portal.auth.models import User
from portal.extensions import db

VERIFY = "verify-email"
RESET = "reset-password"
INVITE = "staff-invitation"  # choosing a first password; like a reset, but lives longer
MAX_AGE = {VERIFY: 3 * 24 * 3600, RESET: 3600, INVITE: 7 * 24 * 3600}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"auth:{purpose}")


def _fingerprint(user: User, purpose: str) -> str:
    if purpose == VERIFY:
        state = f"{user.email}|{user.email_verified_at}"
    else:
        state = f"{user.password_hash}|{user.session_version}"
    return hashlib.sha256(state.encode()).hexdigest()[:20]


def make_token(user: User, purpose: str) -> str:
    return _serializer(purpose).dumps({"u": user.id, "f": _fingerprint(user, purpose)})


def read_password_token(token: str) -> User | None:
    """A reset link or a staff invitation: both let the holder set the password."""
    return read_token(token, RESET) or read_token(token, INVITE)


def read_token(token: str, purpose: str) -> User | None:
    """The account the token was made for, or None when it is forged, expired
    or already used."""
    try:
        data = _serializer(purpose).loads(token, max_age=MAX_AGE[purpose])
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        return None
    user = db.session.get(User, data["u"])
    if user is None or data.get("f") != _fingerprint(user, purpose):
        return None
    return user
