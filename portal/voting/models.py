from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.auth.models import User
from portal.extensions import db
from portal.models_base import UTCDateTime, utcnow
from portal.needs.models import Need


class Support(db.Model):
    """A member's support for a need: one per member and need, enforced by the
    database. Need.support_count moves in the same transaction."""

    __tablename__ = "supports"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    need: Mapped[Need] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "need_id", name="uq_supports_user_need"),
        # The 7-day trend on /priorities counts recent supports per need.
        sa.Index("ix_supports_need_created", "need_id", "created_at"),
        sa.Index("ix_supports_user_created", "user_id", "created_at"),
    )


class PriorityRound(db.Model):
    """A time-boxed dot vote over a shortlist of needs."""

    __tablename__ = "priority_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    votes_per_member: Mapped[int] = mapped_column(default=3)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    show_live_counts: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Members who have given at least one vote (kept with the ballots).
    voter_count: Mapped[int] = mapped_column(default=0)

    items: Mapped[list[RoundItem]] = relationship(
        back_populates="round", order_by="RoundItem.position", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("votes_per_member > 0", name="votes_per_member_positive"),
        sa.CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        sa.Index("ix_priority_rounds_ends_at", "ends_at"),
    )

    def is_open(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        return self.starts_at <= now < self.ends_at

    def has_ended(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.ends_at

    def has_started(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) >= self.starts_at


class RoundItem(db.Model):
    """A need on a round's shortlist, with its stored vote count."""

    __tablename__ = "round_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("priority_rounds.id"))
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"))
    position: Mapped[int] = mapped_column(default=0)
    vote_count: Mapped[int] = mapped_column(default=0)

    round: Mapped[PriorityRound] = relationship(back_populates="items")
    need: Mapped[Need] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("round_id", "need_id", name="uq_round_items_round_need"),
        sa.CheckConstraint("vote_count >= 0", name="vote_count_not_negative"),
    )


class RoundBallot(db.Model):
    """One member's ballot in one round: how many of their N votes are used.
    The limit is a conditional UPDATE on this row, so simultaneous votes cannot
    exceed it."""

    __tablename__ = "round_ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("priority_rounds.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    votes_used: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("round_id", "user_id", name="uq_round_ballots_round_user"),
        sa.CheckConstraint("votes_used >= 0", name="votes_used_not_negative"),
    )


class RoundVote(db.Model):
    """One vote: at most one per member and need in a round."""

    __tablename__ = "round_votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("priority_rounds.id"))
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("round_items.id"))
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[RoundItem] = relationship()
    user: Mapped[User] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("item_id", "user_id", name="uq_round_votes_item_user"),
        sa.Index("ix_round_votes_user_round", "user_id", "round_id"),
    )
