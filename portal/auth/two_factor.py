"""Two-factor sign-in for staff (issue 12, item 6): TOTP codes from an
authenticator app, and ten single-use recovery codes for a lost phone.

Members never see any of this: their accounts reach nothing but their own data,
while one stolen staff password would open the triage queue or a partner's inbox.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import date, datetime, timedelta

import pyotp
import segno
import sqlalchemy as sa
from flask import current_app

from portal.audit.services import record
from portal.auth.models import RecoveryCode, Role, User
from portal.core.settings import STAFF_TWO_FACTOR_FROM, get_setting, set_setting
from portal.extensions import db
from portal.models_base import utcnow
from portal.workdays.services import local_today

RECOVERY_CODE_COUNT = 10
#: No 0/o, 1/l/i: the codes are read off paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_SIX_DIGITS = re.compile(r"\d{6}")
#: A code of the step before or after the current one passes too (clock drift).
_DRIFT_STEPS = 1
_INTERVAL = 30  # seconds per code, what every authenticator app assumes


# --- policy -----------------------------------------------------------------------


def required_from() -> date | None:
    """The day from which staff must use it, as the admin set it (None: not yet)."""
    try:
        return date.fromisoformat(get_setting(STAFF_TWO_FACTOR_FROM))
    except ValueError:
        return None


def required_now(today: date | None = None) -> bool:
    start = required_from()
    return start is not None and (today or local_today()) >= start


def set_required_from(day: date | None, actor: User) -> bool:
    """The admins' date (None: not required yet). Whether it changed (then one
    audit row, by set_setting)."""
    value = day.isoformat() if day else ""
    if get_setting(STAFF_TWO_FACTOR_FROM) == value:
        return False
    set_setting(STAFF_TWO_FACTOR_FROM, value, actor)
    db.session.flush()
    return True


def staff_counts() -> tuple[int, int]:
    """(staff accounts with two-factor sign-in, all active staff accounts)."""
    staff = sa.and_(User.role.in_([Role.ADMIN, Role.PARTNER]), User.active.is_(True))
    row = db.session.execute(
        sa.select(sa.func.count(User.totp_enabled_at), sa.func.count(User.id)).where(staff)
    ).one()
    return row[0], row[1]


def must_set_up(user: User) -> bool:
    """At login: a staff member without it is sent to set it up once the
    admins' date has come, and at once after an admin reset it (they had it).
    With no date set, after STAFF_TWO_FACTOR_GRACE_DAYS from the account's
    creation, so a deployment never stays without a second factor by default."""
    if not user.is_staff or user.has_two_factor:
        return False
    if user.totp_reset_at is not None:
        return True
    if required_from() is not None:
        return required_now()
    grace = timedelta(days=current_app.config["STAFF_TWO_FACTOR_GRACE_DAYS"])
    return user.created_at + grace <= utcnow()


# --- setting it up ----------------------------------------------------------------


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// link the QR code carries."""
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.email, issuer_name=current_app.config["TWO_FACTOR_ISSUER"]
    )


def qr_data_uri(uri: str) -> str:
    """The QR code as an SVG data: URI, for an <img> (the CSP allows img-src data:
    and forbids inline SVG styles and scripts)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped(secret: str) -> str:
    """The secret in groups of four, to type it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _time_step(now: datetime) -> int:
    return int(now.timestamp()) // _INTERVAL


def matching_step(secret: str, code: str, now: datetime | None = None) -> int | None:
    """The time step whose code this is (within the allowed drift), else None."""
    code = normalise(code)
    if not _SIX_DIGITS.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret)
    current = _time_step(now or utcnow())
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def enable(user: User, secret: str, step: int) -> list[str]:
    """Turn it on with a secret the user proved to hold (a code of `step`), and
    return the new recovery codes: the only time they exist in clear."""
    user.totp_secret = secret
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    user.totp_reset_at = None
    codes = _new_recovery_codes(user)
    db.session.flush()
    record(user, "user.two_factor_enable", user, after={"recovery_codes": len(codes)})
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash(raw)))
    return codes


def _hash(code: str) -> str:
    """The codes are random (about 50 bits), so a plain hash cannot be reversed
    by guessing, and checking one stays fast."""
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(
            RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
        )
    )


# --- at login -----------------------------------------------------------------------

TOTP = "totp"
RECOVERY = "recovery"


def check_second_factor(user: User, code: str, now: datetime | None = None) -> str | None:
    """TOTP or RECOVERY when the code lets this user in, else None. Each code
    counts once: the database takes a time step or a recovery code in one
    conditional UPDATE, so even two simultaneous requests cannot both use it."""
    if not user.has_two_factor:
        return None
    now = now or utcnow()
    step = matching_step(user.totp_secret, code, now)
    if step is not None:
        taken = db.session.execute(
            sa.update(User)
            .where(
                User.id == user.id,
                sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return TOTP if taken.rowcount == 1 else None
    if len(normalise(code)) != 10:
        return None
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _hash(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        return None
    record(user, "user.recovery_code_use", user, after={"left": recovery_codes_left(user)})
    return RECOVERY


# --- an admin's reset -----------------------------------------------------------------


def reset(user: User, actor: User) -> bool:
    """Forget the user's second factor (a lost phone and no recovery code): they
    are logged out everywhere and must set it up again at their next login.
    False when there was nothing to reset."""
    if not user.has_two_factor:
        return False
    user.totp_secret = ""
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.totp_reset_at = utcnow()
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    user.end_all_sessions()
    db.session.flush()
    record(actor, "user.two_factor_reset", user, before={"two_factor": True})
    return True
