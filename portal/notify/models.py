from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry
    CANCELLED = "cancelled"  # its recipient's data was erased before it was sent


class OutboxChannel(enum.StrEnum):
    """How a message of the outbox travels. Each channel has one sender
    (`portal/notify/channels.py`); a row of a channel without a sender waits.
    A new channel needs no migration: the column is a plain string."""

    EMAIL = "email"


class OutboxEmail(db.Model):
    """A message waiting for delivery (an e-mail today; the table keeps its name).
    It is written in the same transaction as the change it reports, so it is
    never lost when the mail server is down."""

    __tablename__ = "outbox_emails"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body_text: Mapped[str] = mapped_column(sa.Text)
    locale: Mapped[str] = mapped_column(sa.String(10))
    #: The sender of this channel delivers the row; `to_address` is an address
    #: on that channel (a mailbox for e-mail).
    channel: Mapped[OutboxChannel] = mapped_column(
        enum_column(OutboxChannel), default=OutboxChannel.EMAIL, server_default="email"
    )
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The need the mail is about, if any: erasing a submitter's contact
    #: cancels and blanks the mails of that need to that address only.
    need_id: Mapped[int | None] = mapped_column(sa.ForeignKey("needs.id"))

    __table_args__ = (
        # Each channel's sender takes its due rows, the longest due first.
        sa.Index("ix_outbox_emails_status_channel_next", "status", "channel", "next_attempt_at"),
        # Erasing someone's data finds the mails to their address.
        sa.Index("ix_outbox_emails_to_address", "to_address"),
    )


class Follow(db.Model):
    """A member follows a need: they hear when its status changes."""

    __tablename__ = "follows"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "need_id", name="uq_follows_user_need"),
        sa.Index("ix_follows_user_created", "user_id", "created_at"),
    )


class DigestRun(db.Model):
    """One daily digest per member and day: the unique row makes
    `flask portal send-digests` safe to run again."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    day: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.UniqueConstraint("user_id", "day", name="uq_digest_runs_user_day"),)
