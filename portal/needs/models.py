from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.areas.models import Area
from portal.auth.models import User
from portal.categories.models import Category
from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow
from portal.partners.models import Organisation
from portal.workflow.statuses import NeedStatus, StatusType  # noqa: F401 — the status of a need, with its traits


class Visibility(enum.StrEnum):
    PUBLIC = "public"
    PRIVATE = "private"  # handled, but never listed (e.g. personal matters)


class Channel(enum.StrEnum):
    WEB = "web"
    PHONE = "phone"
    WALK_IN = "walk_in"
    API = "api"
    STAFF = "staff"


class Outcome(enum.StrEnum):
    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"


class Need(db.Model):
    """A problem, request or suggestion from the public. Its status moves only
    through portal.workflow; `is_listed` is kept in step there so the public list
    is one indexed range scan."""

    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(sa.String(20), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text)
    category_id: Mapped[int] = mapped_column(sa.ForeignKey("categories.id"))
    place: Mapped[str] = mapped_column(sa.String(200), default="")
    #: Where the need is, in the admins' tree of areas (portal.areas): optional
    #: for the person who submits, required before routing once areas exist.
    #: The free-text `place` stays beside it.
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"))
    #: Optional position (WGS 84): the pin of the web form or staff intake, or
    #: an Open311 client's lat/long. Exact only for admins and the assigned
    #: partner; everything public shows `portal.needs.location.public_point()`.
    lat: Mapped[float | None] = mapped_column(sa.Float)
    lon: Mapped[float | None] = mapped_column(sa.Float)
    status: Mapped[NeedStatus] = mapped_column(StatusType(), default=NeedStatus.SUBMITTED)
    outcome: Mapped[Outcome | None] = mapped_column(enum_column(Outcome))
    visibility: Mapped[Visibility] = mapped_column(
        enum_column(Visibility), default=Visibility.PUBLIC
    )
    is_listed: Mapped[bool] = mapped_column(default=False)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel), default=Channel.WEB)
    support_count: Mapped[int] = mapped_column(default=0)
    duplicate_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("needs.id"))
    #: The partner answerable now; set and cleared only by the workflow.
    assigned_organisation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("organisations.id"), index=True
    )
    submitter_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    tracking_token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the current answer was given; `close-stale` closes 14 days later.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: How many times the need was resolved (feedback is given once per answer).
    resolution_count: Mapped[int] = mapped_column(default=0)
    #: When it entered a terminal status; set by the workflow.
    #: The contact details are erased CONTACT_RETENTION_DAYS later.
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the submitter's personal data was erased: the contact record's
    #: personal fields and the exact position (on request, with the account, or
    #: by the retention period). Kept here, beside `ended_at`, so the retention
    #: run reads exactly the needs still to do from one index.
    contact_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    category: Mapped[Category] = relationship()
    area: Mapped[Area | None] = relationship()
    submitter: Mapped[User | None] = relationship()
    assigned_organisation: Mapped[Organisation | None] = relationship()
    duplicate_of: Mapped[Need | None] = relationship(remote_side=[id])
    contact: Mapped[NeedContact | None] = relationship(
        back_populates="need", uselist=False, cascade="all, delete-orphan"
    )

    __table_args__ = (
        # The public list: newest first, optionally by category or status.
        sa.Index("ix_needs_listed_id", "is_listed", "id"),
        sa.Index("ix_needs_listed_category_id", "is_listed", "category_id", "id"),
        sa.Index("ix_needs_listed_status_id", "is_listed", "status", "id"),
        # /needs?area=: the listed needs of each area of a subtree, newest first.
        sa.Index("ix_needs_listed_area_id", "is_listed", "area_id", "id"),
        # An area's needs by state (open needs nearby, figures per area, and
        # the foreign key's lookups).
        sa.Index("ix_needs_area_status", "area_id", "status"),
        # /priorities ranks by support.
        sa.Index("ix_needs_listed_support", "is_listed", "support_count", "id"),
        # Staff queues filter by state.
        sa.Index("ix_needs_status_created", "status", "created_at"),
        sa.Index("ix_needs_listed_created", "is_listed", "created_at"),
        sa.Index("ix_needs_status_resolved", "status", "resolved_at"),
        # The nearby hint: published needs in a bounding box of positions.
        sa.Index("ix_needs_listed_position", "is_listed", "lat", "lon"),
        # Retention: contacts not erased yet (NULL), by the end of their need.
        sa.Index("ix_needs_contact_retention", "contact_erased_at", "ended_at"),
        sa.CheckConstraint("support_count >= 0", name="support_count_not_negative"),
    )


class NeedContact(db.Model):
    """How to reach the submitter: kept apart from the public fields of a need."""

    __tablename__ = "need_contacts"

    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"), primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), default="")
    #: Taken by staff at a phone or walk-in intake (and by the Open311 API), so
    #: the partner can call back; never shown publicly.
    name: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    phone: Mapped[str] = mapped_column(sa.String(40), default="", server_default="")
    #: What an Open311 client said about itself and its user; never shown publicly.
    device_id: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    account_id: Mapped[str] = mapped_column(sa.String(100), default="", server_default="")
    media_url: Mapped[str] = mapped_column(sa.String(500), default="", server_default="")
    #: The language the submitter used, for the e-mails we send them.
    locale: Mapped[str] = mapped_column(sa.String(10), default="zh_CN")
    #: The privacy notice the submitter agreed to, and when; empty and None when
    #: no consent was given here (an Open311 client that did not send `consent`).
    consent_notice_version: Mapped[str] = mapped_column(sa.String(20))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    need: Mapped[Need] = relationship(back_populates="contact")
