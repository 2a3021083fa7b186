"""Open311 GeoReport v2: API keys issued by admins and the tokens given for
requests that wait for moderation. The extra questions a category asks (service
attributes) and their answers are in portal/categories/models.py."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow


class ApiKey(db.Model):
    """A key for a client system. Only its SHA-256 hash is stored; the key is
    shown once when issued. Revoked keys stay for the audit trail."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    prefix: Mapped[str] = mapped_column(sa.String(12))  # shown to tell keys apart
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    rate_limit: Mapped[str] = mapped_column(sa.String(100), default="100 per hour")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: From the issue form, so a double submit issues one key.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(32), unique=True)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class RequestToken(db.Model):
    """Given to an Open311 client instead of an id while the request waits for
    moderation; `tokens/<token>` tells the service_request_id once published."""

    __tablename__ = "open311_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"), index=True)
    api_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
