from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """Who did what to which object, with what changed. Never updated or
    deleted: the ORM refuses it, and PostgreSQL has a trigger that refuses it."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    action: Mapped[str] = mapped_column(sa.String(50))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[str] = mapped_column(sa.String(40))
    before: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    after: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    client_address: Mapped[str] = mapped_column(sa.String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.Index("ix_audit_entries_created", "created_at"),
        sa.Index("ix_audit_entries_actor_created", "actor_id", "created_at"),
        sa.Index("ix_audit_entries_object", "object_type", "object_id"),
        sa.Index("ix_audit_entries_action_created", "action", "created_at"),
    )


@sa.event.listens_for(AuditEntry, "before_update")
@sa.event.listens_for(AuditEntry, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("audit entries are append-only")


#: Outcomes of a quality check, with their lazy labels.
CONFIRMED = "confirmed"
NOT_CONFIRMED = "not_confirmed"
CHECK_OUTCOMES = {CONFIRMED: _l("Confirmed resolved"), NOT_CONFIRMED: _l("Not confirmed")}


class QualityCheck(db.Model):
    """A spot check of a resolved need drawn at random by an admin, against
    gaming the numbers: was it really resolved?"""

    __tablename__ = "quality_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"), index=True)
    sample: Mapped[str] = mapped_column(sa.String(40))  # groups the needs drawn together
    drawn_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(sa.String(20), default="")  # confirmed / not_confirmed
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_quality_checks_sample", "sample", "id"),)
