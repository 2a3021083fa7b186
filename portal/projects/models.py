"""Collaborative projects (协同项目): needs that many people share, carried by a
lead partner (主责) and supporting partners (辅责), with milestones, resource
commitments, public updates and their followers; and the proposals (立项申请)
that admins review before a project exists."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.areas.models import Area
from portal.extensions import db
from portal.models_base import UTCDateTime, enum_column, utcnow
from portal.partners.models import Organisation, OrganisationResource, ResourceKind


class ProjectStatus(enum.StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    COMPLETED = "completed"

    @property
    def label(self) -> str:
        return str(PROJECT_STATUS_LABELS[self])


PROJECT_STATUS_LABELS = {
    ProjectStatus.PLANNED: _l("Planned"),
    ProjectStatus.IN_PROGRESS: _l("In progress"),
    ProjectStatus.PAUSED: _l("Paused"),
    ProjectStatus.COMPLETED: _l("Completed"),
}


class ProposalState(enum.StrEnum):
    PENDING = "pending"  # waiting for an admin
    CHANGES_REQUESTED = "changes_requested"  # back with the proposer
    APPROVED = "approved"  # became a project
    DECLINED = "declined"

    @property
    def label(self) -> str:
        return str(PROPOSAL_STATE_LABELS[self])


PROPOSAL_STATE_LABELS = {
    ProposalState.PENDING: _l("Awaiting review"),
    ProposalState.CHANGES_REQUESTED: _l("Changes requested"),
    ProposalState.APPROVED: _l("Approved"),
    ProposalState.DECLINED: _l("Declined"),
}


class ProgressMode(enum.StrEnum):
    MILESTONES = "milestones"  # done milestones ÷ all milestones
    MANUAL = "manual"  # set by the lead partner or an admin, with a reason


proposal_partners = sa.Table(
    "project_proposal_partners",
    db.metadata,
    sa.Column("proposal_id", sa.ForeignKey("project_proposals.id"), primary_key=True),
    sa.Column("organisation_id", sa.ForeignKey("organisations.id"), primary_key=True),
)

proposal_needs = sa.Table(
    "project_proposal_needs",
    db.metadata,
    sa.Column("proposal_id", sa.ForeignKey("project_proposals.id"), primary_key=True),
    sa.Column("need_id", sa.ForeignKey("needs.id"), primary_key=True),
)


class ProjectProposal(db.Model):
    """A proposal (立项申请) by a member or partner staff; an admin approves it
    (which creates the project), asks for changes, or declines it with a reason."""

    __tablename__ = "project_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    background: Mapped[str] = mapped_column(sa.Text)
    goal: Mapped[str] = mapped_column(sa.Text)
    expected_result: Mapped[str] = mapped_column(sa.Text)
    target: Mapped[str] = mapped_column(sa.String(200))  # the measurable target, in words
    target_value: Mapped[int | None] = mapped_column()  # e.g. 200 (workers trained)
    resources_needed: Mapped[str] = mapped_column(sa.Text, default="")
    proposer_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    state: Mapped[ProposalState] = mapped_column(
        enum_column(ProposalState), default=ProposalState.PENDING
    )
    review_note: Mapped[str] = mapped_column(sa.Text, default="")
    reviewed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id])  # noqa: F821
    organisation: Mapped[Organisation | None] = relationship()
    suggested_partners: Mapped[list[Organisation]] = relationship(secondary=proposal_partners)
    needs: Mapped[list[Need]] = relationship(  # noqa: F821 — needs.models
        "Need", secondary=proposal_needs, order_by="Need.id"
    )

    __table_args__ = (sa.Index("ix_project_proposals_state_created", "state", "created_at"),)


project_supporters = sa.Table(
    "project_supporters",
    db.metadata,
    sa.Column("project_id", sa.ForeignKey("projects.id"), primary_key=True),
    sa.Column("organisation_id", sa.ForeignKey("organisations.id"), primary_key=True, index=True),
)


class ProjectNeed(db.Model):
    """A need carried by a project; the need's page says "part of project X"."""

    __tablename__ = "project_needs"

    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), primary_key=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"), primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    need: Mapped[Need] = relationship()  # noqa: F821
    project: Mapped[Project] = relationship(back_populates="need_links")


class Project(db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    background: Mapped[str] = mapped_column(sa.Text, default="")
    goal: Mapped[str] = mapped_column(sa.Text)
    expected_result: Mapped[str] = mapped_column(sa.Text, default="")
    target: Mapped[str] = mapped_column(sa.String(200))
    target_value: Mapped[int | None] = mapped_column()
    achieved_value: Mapped[int | None] = mapped_column()
    lead_organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    #: Where the project works (portal.areas): optional; /projects?area= lists a subtree.
    area_id: Mapped[int | None] = mapped_column(sa.ForeignKey("areas.id"))
    status: Mapped[ProjectStatus] = mapped_column(
        enum_column(ProjectStatus), default=ProjectStatus.PLANNED
    )
    progress_mode: Mapped[ProgressMode] = mapped_column(
        enum_column(ProgressMode), default=ProgressMode.MILESTONES
    )
    progress: Mapped[int] = mapped_column(default=0)  # 0–100, stored for lists and the dashboard
    progress_reason: Mapped[str] = mapped_column(sa.Text, default="")
    budget: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    budget_currency: Mapped[str] = mapped_column(sa.String(3), default="CNY")
    proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("project_proposals.id"))
    round_id: Mapped[int | None] = mapped_column(sa.ForeignKey("priority_rounds.id"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    follower_count: Mapped[int] = mapped_column(default=0)
    #: From the admin's "new project" form, so a double submit creates one project.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lead_organisation: Mapped[Organisation] = relationship()
    area: Mapped[Area | None] = relationship()
    supporting_organisations: Mapped[list[Organisation]] = relationship(
        secondary=project_supporters, order_by="Organisation.id"
    )
    need_links: Mapped[list[ProjectNeed]] = relationship(
        back_populates="project", order_by="ProjectNeed.need_id", cascade="all, delete-orphan"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        order_by="(Milestone.position, Milestone.id)", cascade="all, delete-orphan"
    )
    commitments: Mapped[list[ResourceCommitment]] = relationship(
        order_by="ResourceCommitment.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.Index("ix_projects_status_id", "status", "id"),
        # /projects?area=: the subtree's areas, newest first.
        sa.Index("ix_projects_area_id", "area_id", "id"),
    )

    def partner_ids(self) -> set[int]:
        return {self.lead_organisation_id} | {o.id for o in self.supporting_organisations}

    def can_update(self, user) -> bool:
        """Only the lead and supporting partners' staff (and admins) change a project."""
        if user is None or not getattr(user, "is_authenticated", False):
            return False
        if user.is_admin:
            return True
        return user.organisation_id is not None and user.organisation_id in self.partner_ids()


class Milestone(db.Model):
    __tablename__ = "project_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    due_on: Mapped[date] = mapped_column(sa.Date)
    done_on: Mapped[date | None] = mapped_column(sa.Date)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    position: Mapped[int] = mapped_column(default=0)
    client_token: Mapped[str | None] = mapped_column(sa.String(64))  # one row per form render
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("project_id", "client_token", name="uq_project_milestones_token"),
    )

    def is_late(self, today: date) -> bool:
        """Done after its due date, or not done and past it."""
        return (self.done_on or today) > self.due_on


class ResourceCommitment(db.Model):
    """A partner commits something from what it offers (a venue, five mentors,
    funds) and later marks it delivered."""

    __tablename__ = "project_commitments"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id"), index=True)
    resource_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisation_resources.id"))
    kind: Mapped[ResourceKind] = mapped_column(enum_column(ResourceKind))
    description: Mapped[str] = mapped_column(sa.String(300))
    quantity: Mapped[int | None] = mapped_column()  # e.g. 5 mentors
    amount: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))  # funds, in CNY
    committed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    client_token: Mapped[str | None] = mapped_column(sa.String(64))  # one row per form render

    organisation: Mapped[Organisation] = relationship()
    resource: Mapped[OrganisationResource | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("project_id", "client_token", name="uq_project_commitments_token"),
    )


class UpdateState(enum.StrEnum):
    PUBLISHED = "published"
    HELD = "held"  # the screening held it (portal.moderation); a moderator decides
    REJECTED = "rejected"


class ProjectUpdate(db.Model):
    """A public progress update by a lead or supporting partner: Markdown as
    written, and the sanitised HTML rendered once when it was posted. One the
    screening holds is shown to the public (and told to followers) only once
    a moderator approves it."""

    __tablename__ = "project_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"))
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id"))
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    body_markdown: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str] = mapped_column(sa.Text)
    client_token: Mapped[str | None] = mapped_column(sa.String(64))  # one row per form render
    state: Mapped[UpdateState] = mapped_column(
        enum_column(UpdateState), default=UpdateState.PUBLISHED
    )
    held_for: Mapped[list] = mapped_column(sa.JSON, default=list)  # Screening.reasons()
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    moderation_reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()

    __table_args__ = (
        sa.Index("ix_project_updates_project_state_id", "project_id", "state", "id"),
        sa.Index("ix_project_updates_state_id", "state", "id"),
        sa.UniqueConstraint("project_id", "client_token", name="uq_project_updates_token"),
    )

    @property
    def published_on(self) -> datetime:
        """When the public could first read it: approval time for a held one."""
        return self.moderated_at or self.created_at


class ProjectFollow(db.Model):
    """A member follows a project. People who asked for a linked need follow it
    automatically; when they stop, the row stays with `stopped_at`, so linking
    another need does not sign them up again."""

    __tablename__ = "project_follows"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    project_id: Mapped[int] = mapped_column(sa.ForeignKey("projects.id"), index=True)
    automatic: Mapped[bool] = mapped_column(default=False)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.UniqueConstraint("user_id", "project_id", name="uq_project_follows_user_project"),
    )
