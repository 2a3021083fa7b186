from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow


class Resolved(enum.StrEnum):
    YES = "yes"
    PARTLY = "partly"
    NO = "no"

    @property
    def label(self) -> str:
        return str(
            {"yes": _l("Resolved"), "partly": _l("Partly resolved"), "no": _l("Not resolved")}[
                self.value
            ]
        )


class Feedback(db.Model):
    """One answer per person and per resolution of a need: the submitter
    (`respondent` = "token") or a member ("user:<id>")."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"))
    cycle: Mapped[int] = mapped_column()
    respondent: Mapped[str] = mapped_column(sa.String(30))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    is_submitter: Mapped[bool] = mapped_column(default=False)
    resolved: Mapped[Resolved] = mapped_column(enum_column(Resolved))
    satisfaction: Mapped[int] = mapped_column()
    comment: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("need_id", "cycle", "respondent", name="uq_feedback_once"),
        sa.CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_range"),
        sa.Index("ix_feedback_created", "created_at"),
    )
