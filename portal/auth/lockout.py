"""The per-account limit on failed logins (issue 12, item 2).

The per-address limit (Flask-Limiter, LOGIN_RATE_LIMIT) stops one client from
guessing fast; this one stops many clients from guessing one account's
password together. After LOGIN_ACCOUNT_MAX_FAILURES failures within
LOGIN_ACCOUNT_WINDOW_MINUTES the account is locked for LOGIN_LOCK_MINUTES.

The decisions, and why:
- During the lock every login of the account is refused *without checking the
  password*, from every address: if the right password still passed, the lock
  would remain an oracle that tells the guesser when a guess is right. The lock
  never blocks for long: it ends by itself after a few minutes, its owner gets
  one e-mail per lock with a reset link, and choosing a new password (which
  proves the mailbox) ends it at once.
- Addresses without an account are counted and locked exactly like the others
  and get the same message, so the lock tells nothing about who has an account.
- The counts live in the database (one small row per address, keyed by an
  HMAC of it), so several workers and instances share them with or without
  Redis, and rows of finished windows are deleted as new failures arrive.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from portal.auth.models import LoginThrottle, User, user_by_email
from portal.extensions import db
from portal.models_base import UTCDateTime, insert_if_absent, utcnow
from portal.notify.services import public_url, queue_email


def throttle_key(email: str) -> str:
    """The row's key: an HMAC, so the table lists no e-mail addresses. A new
    SECRET_KEY only starts the counts afresh."""
    secret = str(current_app.config["SECRET_KEY"]).encode()
    normalised = (email or "").strip().lower().encode()
    return hmac.new(secret, b"login-throttle:" + normalised, hashlib.sha256).hexdigest()


def locked_until(email: str, now: datetime | None = None) -> datetime | None:
    """When the lock on this address ends, or None when logins may be tried."""
    now = now or utcnow()
    until = db.session.scalar(
        sa.select(LoginThrottle.locked_until).where(LoginThrottle.key == throttle_key(email))
    )
    return until if until is not None and until > now else None


def minutes_left(until: datetime, now: datetime | None = None) -> int:
    """Whole minutes, rounded up, for the message ("try again in N minutes")."""
    seconds = (until - (now or utcnow())).total_seconds()
    return max(1, math.ceil(seconds / 60))


def record_failure(email: str, now: datetime | None = None) -> datetime | None:
    """Count one failed login for this address. Returns the end of the lock when
    this very failure locked the account (then, and only then, the owner is
    told by e-mail), else None.

    Two UPDATEs decide in the database, so simultaneous failures from several
    workers neither lose a count nor send two e-mails for one lock."""
    config = current_app.config
    now = now or utcnow()
    key = throttle_key(email)
    window_start = now - timedelta(minutes=config["LOGIN_ACCOUNT_WINDOW_MINUTES"])
    at_now = sa.literal(now, UTCDateTime())
    _forget_finished(window_start, now)
    insert_if_absent(LoginThrottle, key=key, failures=0, window_started_at=now)
    stale = LoginThrottle.window_started_at < window_start
    db.session.execute(
        sa.update(LoginThrottle)
        .where(LoginThrottle.key == key)
        .values(
            failures=sa.case((stale, 1), else_=LoginThrottle.failures + 1),
            window_started_at=sa.case((stale, at_now), else_=LoginThrottle.window_started_at),
        )
        .execution_options(synchronize_session=False)
    )
    until = now + timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    locked = db.session.execute(
        sa.update(LoginThrottle)
        .where(
            LoginThrottle.key == key,
            LoginThrottle.failures >= config["LOGIN_ACCOUNT_MAX_FAILURES"],
            sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
        # The count starts afresh when the lock ends.
        .values(locked_until=until, failures=0, window_started_at=now)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:
        return None
    _tell_the_owner(email, until, now)
    return until


def clear(email: str) -> None:
    """A successful login, or a new password, ends the count and any lock."""
    db.session.execute(
        sa.delete(LoginThrottle)
        .where(LoginThrottle.key == throttle_key(email))
        .execution_options(synchronize_session=False)
    )


def _forget_finished(window_start: datetime, now: datetime) -> None:
    """Rows whose window is over and that hold no lock count nothing any more."""
    db.session.execute(
        sa.delete(LoginThrottle)
        .where(
            LoginThrottle.window_started_at < window_start,
            sa.or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= now),
        )
        .execution_options(synchronize_session=False)
    )


def _tell_the_owner(email: str, until: datetime, now: datetime) -> None:
    user: User | None = user_by_email(email)
    if user is None or not user.active:
        return
    queue_email(
        user.email,
        "login_locked",
        user.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
        user=user,
        failures=current_app.config["LOGIN_ACCOUNT_MAX_FAILURES"],
        minutes=minutes_left(until, now),
        reset_url=public_url("auth.reset_request"),
    )
