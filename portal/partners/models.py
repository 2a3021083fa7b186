from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.attributes import set_committed_value

from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow


class OrganisationKind(enum.StrEnum):
    UNION = "union"
    YOUTH_LEAGUE = "youth_league"
    WOMENS_FEDERATION = "womens_federation"
    SCIENCE_ASSOCIATION = "science_association"
    COMPANY = "company"
    UNIVERSITY = "university"
    NGO = "ngo"
    GOVERNMENT = "government"
    COMMUNITY = "community"
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(KIND_LABELS[self])


KIND_LABELS = {
    OrganisationKind.UNION: _l("Trade union"),
    OrganisationKind.YOUTH_LEAGUE: _l("Youth league"),
    OrganisationKind.WOMENS_FEDERATION: _l("Women's federation"),
    OrganisationKind.SCIENCE_ASSOCIATION: _l("Science association"),
    OrganisationKind.COMPANY: _l("Company"),
    OrganisationKind.UNIVERSITY: _l("University"),
    OrganisationKind.NGO: _l("NGO"),
    OrganisationKind.GOVERNMENT: _l("Government department"),
    OrganisationKind.COMMUNITY: _l("Community"),
    OrganisationKind.OTHER: _l("Other"),
}


def pick_language(zh: str, en: str) -> str:
    """The text in the reader's language, falling back to the other one."""
    locale = get_locale()
    if locale is not None and locale.language == "en":
        return en or zh
    return zh or en


#: Compared byte by byte on PostgreSQL whatever the database's collation, so a
#: range of paths is a prefix and its btree index serves it (SQLite compares bytes).
PATH_TYPE = sa.String(200).with_variant(sa.String(200, collation="C"), "postgresql")


class Organisation(db.Model):
    """A partner organisation that needs are routed to.

    Organisations form a tree (a city federation → its district unions → their
    street unions): `parent_id`, and `path`, the ids from the top down to this
    one ("/1/7/12/"), so "this organisation and everything under it" is one
    indexed range of paths (`portal.partners.hierarchy`). The path is set when
    the row is inserted and rewritten, for the whole subtree, only by
    `hierarchy.move_organisation`."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    path: Mapped[str] = mapped_column(PATH_TYPE, default="", index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200), default="")
    kind: Mapped[OrganisationKind] = mapped_column(enum_column(OrganisationKind, 30))
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    contact_email: Mapped[str] = mapped_column(sa.String(254), default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(40), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Organisation | None] = relationship(remote_side=[id])
    resources: Mapped[list[OrganisationResource]] = relationship(
        order_by="OrganisationResource.id", cascade="all, delete-orphan"
    )
    categories: Mapped[list[Category]] = relationship(  # noqa: F821 — categories.models
        "Category", secondary="organisation_categories", order_by="Category.position"
    )

    @property
    def name(self) -> str:
        return pick_language(self.name_zh, self.name_en)

    @property
    def description(self) -> str:
        return pick_language(self.description_zh, self.description_en)

    @property
    def lineage_ids(self) -> list[int]:
        """The ids from the top-level organisation down to this one."""
        return lineage(self.path)

    def is_below(self, organisation_id: int | None) -> bool:
        """Whether that organisation is one of this one's ancestors (not itself)."""
        return organisation_id is not None and organisation_id in self.lineage_ids[:-1]

    def is_within(self, organisation_id: int | None) -> bool:
        """Whether this organisation is that one or lies under it."""
        return organisation_id is not None and organisation_id in self.lineage_ids


def lineage(path: str | None) -> list[int]:
    """The ids a materialised path names, top-level organisation first."""
    return [int(part) for part in (path or "").split("/") if part]


@sa.event.listens_for(Organisation, "after_insert")
def _place_new_organisation(mapper, connection, target: Organisation) -> None:
    """A new organisation's path: its parent's and its own id, which exists only
    now. Here, so that every way of creating one (admin page, demo, tests) gets
    it right; moves go through `hierarchy.move_organisation`."""
    parent_path = "/"
    if target.parent_id is not None:
        parent_path = connection.scalar(
            sa.select(Organisation.path).where(Organisation.id == target.parent_id)
        )
    path = f"{parent_path}{target.id}/"
    connection.execute(
        sa.update(Organisation.__table__)
        .where(Organisation.__table__.c.id == target.id)
        .values(path=path)
    )
    set_committed_value(target, "path", path)


organisation_categories = sa.Table(
    "organisation_categories",
    db.metadata,
    sa.Column("organisation_id", sa.ForeignKey("organisations.id"), primary_key=True),
    sa.Column("category_id", sa.ForeignKey("categories.id"), primary_key=True),
)


class ResourceKind(enum.StrEnum):
    EXPERTS = "experts"
    VENUES = "venues"
    EQUIPMENT = "equipment"
    FUNDS = "funds"
    TRAINING = "training"
    VOLUNTEERS = "volunteers"

    @property
    def label(self) -> str:
        return str(RESOURCE_LABELS[self])


RESOURCE_LABELS = {
    ResourceKind.EXPERTS: _l("Experts"),
    ResourceKind.VENUES: _l("Venues"),
    ResourceKind.EQUIPMENT: _l("Equipment"),
    ResourceKind.FUNDS: _l("Funds"),
    ResourceKind.TRAINING: _l("Training"),
    ResourceKind.VOLUNTEERS: _l("Volunteers"),
}


class OrganisationResource(db.Model):
    """Something a partner offers to the shared pool (the resource map)."""

    __tablename__ = "organisation_resources"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    kind: Mapped[ResourceKind] = mapped_column(enum_column(ResourceKind))
    description: Mapped[str] = mapped_column(sa.String(300))


class AssignmentState(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    COMPLETED = "completed"
    TRANSFERRED = "transferred"  # handed on to another partner who accepted
    CANCELLED = "cancelled"  # the need was withdrawn or closed meanwhile


OPEN_ASSIGNMENT_STATES = frozenset({AssignmentState.PENDING, AssignmentState.ACCEPTED})


class Assignment(db.Model):
    """A need routed to a partner: by whom, when, and the two deadlines (first
    response and resolution, in working days from the category's SLA)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    state: Mapped[AssignmentState] = mapped_column(
        enum_column(AssignmentState), default=AssignmentState.PENDING
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    response_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(sa.Text, default="")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.Index("ix_assignments_org_state_due", "organisation_id", "state", "due_at"),
        sa.Index("ix_assignments_state_due", "state", "due_at"),
        sa.Index("ix_assignments_need", "need_id", "id"),
    )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_ASSIGNMENT_STATES

    def is_overdue(self, now: datetime | None = None) -> bool:
        return self.is_open and (now or utcnow()) > self.due_at


class CoHandler(db.Model):
    """A supporting partner on a need (协办), beside the lead of its Assignment
    (主办). It sees the need, posts progress updates and internal notes, and
    may be asked for its input by a due date; the lead alone accepts, answers
    and resolves, and only the lead's times count in the response metrics."""

    __tablename__ = "co_handlers"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"))
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"))
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The latest request for its input: what is asked, when, by when.
    input_question: Mapped[str] = mapped_column(sa.Text, default="")
    input_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    input_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When it answered that request (empty while the answer is awaited).
    input_given_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("need_id", "organisation_id", name="uq_co_handlers_need_org"),
        # The supporter's inbox, and the reminders of inputs not yet given.
        sa.Index("ix_co_handlers_org_need", "organisation_id", "need_id"),
        sa.Index("ix_co_handlers_awaited", "input_given_at", "input_due_at"),
    )

    @property
    def input_awaited(self) -> bool:
        return self.input_asked_at is not None and self.input_given_at is None

    def input_overdue(self, now: datetime | None = None) -> bool:
        return (
            self.input_awaited
            and self.input_due_at is not None
            and (now or utcnow()) > self.input_due_at
        )


class RequestKind(enum.StrEnum):
    EXTENSION = "extension"
    TRANSFER = "transfer"


class RequestState(enum.StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    REFUSED = "refused"


class AssignmentRequest(db.Model):
    """A partner asks an admin: more time (extension) or another partner (transfer)."""

    __tablename__ = "assignment_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), index=True)
    kind: Mapped[RequestKind] = mapped_column(enum_column(RequestKind))
    state: Mapped[RequestState] = mapped_column(
        enum_column(RequestState), default=RequestState.PENDING
    )
    reason: Mapped[str] = mapped_column(sa.Text)
    requested_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    to_organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    requested_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    assignment: Mapped[Assignment] = relationship()
    to_organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (sa.Index("ix_assignment_requests_state", "state", "created_at"),)
