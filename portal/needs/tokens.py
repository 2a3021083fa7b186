"""The private tracking token of a need: derived, never stored in clear.

It sits below the needs services and notify (both need it: the services to
create and find a need by its link, notify to put the link in its e-mails), so
neither has to import the other for it. It depends on the configuration and the model only.
"""

from __future__ import annotations

import hashlib
import hmac
from base64 import urlsafe_b64encode

from flask import current_app

from portal.needs.models import Need


def hash_token(token: str) -> str:
    """What the database keeps of a token: a lookup by link compares hashes."""
    return hashlib.sha256(token.encode()).hexdigest()


def derive_tracking_token(idempotency_key: str) -> str:
    """The private tracking token is derived from the form's one-time key, so a
    repeated submission of the same form can show the same link again, while no
    one without the server's secret can compute it."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, b"track:" + idempotency_key.encode(), hashlib.sha256).digest()
    return urlsafe_b64encode(digest).decode().rstrip("=")


def tracking_token_for(need: Need) -> str | None:
    """The need's tracking token, or None when it can no longer be derived
    (for instance after the secret key was rotated)."""
    token = derive_tracking_token(need.idempotency_key)
    return token if hmac.compare_digest(hash_token(token), need.tracking_token_hash) else None
