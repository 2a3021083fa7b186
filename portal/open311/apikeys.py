"""Open311 API keys: issued, renamed, rate-limited and revoked by admins.

Only the SHA-256 of a key is stored; the key itself exists in the response
that issues it and nowhere else (not in the database, the session, a flash
message or the log)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from limits import parse_many

from portal.audit.services import record
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.open311.models import ApiKey

DEFAULT_RATE_LIMIT = "100 per hour"
PREFIX_LENGTH = 8
NAME_MAX = 100
RATE_LIMIT_MAX = 100
#: last_used_at is a hint for admins: refreshing it at most once a minute spares
#: a write on every API call.
LAST_USED_STEP = timedelta(minutes=1)
#: A generous bound on what a client may send as a key (ours are 43 characters).
RAW_KEY_MAX = 200
#: The list of keys is short; it is still bounded.
LIST_MAX = 500


class ApiKeyError(DomainError):
    """A rule of the API keys refused the change."""


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def rate_limit_error(value: str) -> str | None:
    """Why a rate limit string would not work with Flask-Limiter, or None."""
    value = (value or "").strip()
    if not value:
        return _("Please give a rate limit, e.g. “100 per hour”.")
    if len(value) > RATE_LIMIT_MAX:
        return _("At most %(max)d characters, please.", max=RATE_LIMIT_MAX)
    try:
        limits = parse_many(value)
    except ValueError:
        limits = []
    if not limits or any(limit.amount < 1 for limit in limits):
        return _("Write a limit such as “100 per hour” or “10/minute”.")
    return None


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ApiKeyError(_("Please give the key a name."), "name")
    if len(name) > NAME_MAX:
        raise ApiKeyError(_("At most %(max)d characters, please.", max=NAME_MAX), "name")
    return name


def _clean_limit(rate_limit: str) -> str:
    error = rate_limit_error(rate_limit)
    if error:
        raise ApiKeyError(error, "rate_limit")
    return rate_limit.strip()


def authenticate(raw_key: str) -> ApiKey | None:
    """The active key whose hash matches `raw_key`, or None. Notes when it was
    used (at most once a minute); the caller's commit stores that."""
    if not raw_key or len(raw_key) > RAW_KEY_MAX:
        return None
    api_key = db.session.scalar(
        sa.select(ApiKey).where(ApiKey.key_hash == hash_key(raw_key), ApiKey.revoked_at.is_(None))
    )
    if api_key is None:
        return None
    now = utcnow()
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_STEP:
        api_key.last_used_at = now
    return api_key


def key_rate_limit(api_key: ApiKey) -> str:
    """The Flask-Limiter limit string of this key."""
    return api_key.rate_limit or DEFAULT_RATE_LIMIT


def key_issued_by_form(idempotency_key: str) -> ApiKey | None:
    """The key an issue form already made (a double submit)."""
    return db.session.scalar(sa.select(ApiKey).where(ApiKey.idempotency_key == idempotency_key))


def issue_key(
    name: str, rate_limit: str, admin, idempotency_key: str | None = None
) -> tuple[ApiKey, str]:
    """A new key and its raw value, which the caller shows once and forgets.
    `idempotency_key` (unique in the database) makes a repeated form one key."""
    raw_key = secrets.token_urlsafe(32)
    api_key = ApiKey(
        idempotency_key=idempotency_key,
        name=_clean_name(name),
        rate_limit=_clean_limit(rate_limit),
        prefix=raw_key[:PREFIX_LENGTH],
        key_hash=hash_key(raw_key),
        created_by_id=getattr(admin, "id", None),
    )
    db.session.add(api_key)
    db.session.flush()
    record(
        admin,
        "api_key.issue",
        api_key,
        after={"name": api_key.name, "prefix": api_key.prefix, "rate_limit": api_key.rate_limit},
    )
    return api_key, raw_key


def revoke_key(api_key: ApiKey, admin) -> bool:
    """Revoke once: a second call (a double click, two admins) changes nothing.
    The conditional UPDATE makes the database decide who was first."""
    now = utcnow()
    result = db.session.execute(
        sa.update(ApiKey)
        .where(ApiKey.id == api_key.id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(api_key, ["revoked_at"])
    if result.rowcount != 1:
        return False
    record(
        admin,
        "api_key.revoke",
        api_key,
        before={"revoked_at": None},
        after={"name": api_key.name, "prefix": api_key.prefix, "revoked_at": now},
    )
    return True


def rename_key(api_key: ApiKey, name: str, admin) -> bool:
    name = _clean_name(name)
    if name == api_key.name:
        return False
    record(admin, "api_key.rename", api_key, before={"name": api_key.name}, after={"name": name})
    api_key.name = name
    return True


def change_limit(api_key: ApiKey, rate_limit: str, admin) -> bool:
    rate_limit = _clean_limit(rate_limit)
    if rate_limit == api_key.rate_limit:
        return False
    record(
        admin,
        "api_key.change_limit",
        api_key,
        before={"rate_limit": api_key.rate_limit},
        after={"rate_limit": rate_limit},
    )
    api_key.rate_limit = rate_limit
    return True


def get_key(key_id: int) -> ApiKey | None:
    return db.session.get(ApiKey, key_id)


def all_keys() -> list[ApiKey]:
    """Active keys first, newest first; one query."""
    return list(
        db.session.scalars(
            sa.select(ApiKey)
            .order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id.desc())
            .limit(LIST_MAX)
        )
    )
