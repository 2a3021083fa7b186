from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow
from portal.needs.models import Need
from portal.workflow.models import TimelineEvent


class Photo(db.Model):
    """One photo of a need: from the submitter (no event), or an "after" photo a
    partner attached to a progress update or an answer (its timeline event).
    The files are `<key>-display.jpg` and `<key>-thumb.jpg` in PHOTO_FOLDER;
    the uploaded file name is never kept."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"))
    event_id: Mapped[int | None] = mapped_column(sa.ForeignKey("timeline_events.id"), index=True)
    #: The generated storage name (128 random bits, hex).
    key: Mapped[str] = mapped_column(sa.String(32), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    thumb_width: Mapped[int]
    thumb_height: Mapped[int]
    display_bytes: Mapped[int]
    thumb_bytes: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    #: Hidden from the public by an administrator (faces, plates, private details);
    #: staff still see it. The file is kept.
    is_hidden: Mapped[bool] = mapped_column(default=False)
    hidden_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    hidden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    need: Mapped[Need] = relationship()
    event: Mapped[TimelineEvent | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship(foreign_keys=[uploaded_by_id])

    __table_args__ = (
        # A need's photos in upload order; the first public one for Open311.
        sa.Index("ix_photos_need_id_id", "need_id", "id"),
        sa.CheckConstraint("width > 0 AND height > 0", name="photo_size_positive"),
    )
