from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow
from portal.needs.models import Need, NeedStatus
from portal.partners.models import Organisation
from portal.workflow.statuses import StatusType


class TimelineEvent(db.Model):
    """Append-only history of a need: every move and every public update.
    The public timeline and every response metric are computed from these rows."""

    __tablename__ = "timeline_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"))
    move: Mapped[str] = mapped_column(sa.String(30))
    from_status: Mapped[NeedStatus | None] = mapped_column(StatusType())
    to_status: Mapped[NeedStatus] = mapped_column(StatusType())
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_role: Mapped[str] = mapped_column(sa.String(20))
    #: The partner the step concerns: routed to, or acting.
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    text: Mapped[str] = mapped_column(sa.Text, default="")
    internal: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    need: Mapped[Need] = relationship()
    actor: Mapped[User | None] = relationship()
    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        sa.Index("ix_timeline_events_need_id_id", "need_id", "id"),
        sa.Index("ix_timeline_events_move_created", "move", "created_at"),
        sa.Index("ix_timeline_events_org_move", "organisation_id", "move", "created_at"),
        sa.Index("ix_timeline_events_created", "created_at"),  # open-data date filter
    )
