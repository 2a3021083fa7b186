"""The queries of the public partner pages (/partners, /partners/<id>): the
directory by kind, a partner with its categories and resources, its projects,
its response metrics and the needs it holds now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from portal.areas.models import Area, organisation_areas
from portal.areas.served import serving
from portal.extensions import db
from portal.metrics.services import compute, compute_public
from portal.partners.models import (
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    Organisation,
    OrganisationKind,
)
from portal.projects.models import Project, ProjectStatus, project_supporters
from portal.transparency.services import Period

PARTNER_PROJECTS = 50
DIRECTORY_LIMIT = 500


def directory(
    kind: OrganisationKind | None, area: Area | None = None
) -> list[tuple[OrganisationKind, list[Organisation]]]:
    """Active partners grouped by kind (in the kinds' order), names sorted in
    the reader's language; with an area, those serving it (from above it or
    within it) and those that name no area (they serve everywhere)."""
    stmt = (
        sa.select(Organisation)
        .options(selectinload(Organisation.categories))
        .where(Organisation.is_active)
        .order_by(Organisation.id)
        .limit(DIRECTORY_LIMIT)
    )
    if kind is not None:
        stmt = stmt.where(Organisation.kind == kind)
    if area is not None:
        names_an_area = (
            sa.select(organisation_areas.c.organisation_id)
            .where(organisation_areas.c.organisation_id == Organisation.id)
            .exists()
        )
        stmt = stmt.where(sa.or_(Organisation.id.in_(serving(area)), ~names_an_area))
    organisations = list(db.session.scalars(stmt))
    groups = []
    for each in OrganisationKind:
        members = sorted((o for o in organisations if o.kind == each), key=lambda o: o.name)
        if members:
            groups.append((each, members))
    return groups


def kind_counts() -> dict[OrganisationKind, int]:
    stmt = (
        sa.select(Organisation.kind, sa.func.count(Organisation.id))
        .where(Organisation.is_active)
        .group_by(Organisation.kind)
    )
    return dict(db.session.execute(stmt).all())


def public_partner(organisation_id: int) -> Organisation | None:
    """An active partner with its categories and resources; None otherwise."""
    return db.session.scalar(
        sa.select(Organisation)
        .options(selectinload(Organisation.categories), selectinload(Organisation.resources))
        .where(Organisation.id == organisation_id, Organisation.is_active)
    )


@dataclass
class PartnerProject:
    project: Project
    is_lead: bool


def partner_projects(organisation: Organisation) -> list[PartnerProject]:
    """Projects the partner leads or supports: under way first, then planned,
    paused and completed; furthest along first."""
    supports = sa.select(project_supporters.c.project_id).where(
        project_supporters.c.organisation_id == organisation.id
    )
    order = sa.case(
        {status: i for i, status in enumerate(PROJECT_ORDER)}, value=Project.status, else_=9
    )
    stmt = (
        sa.select(Project)
        .options(joinedload(Project.lead_organisation))
        .where(sa.or_(Project.lead_organisation_id == organisation.id, Project.id.in_(supports)))
        .order_by(order, Project.progress.desc(), Project.id)
        .limit(PARTNER_PROJECTS)
    )
    return [
        PartnerProject(p, p.lead_organisation_id == organisation.id)
        for p in db.session.scalars(stmt)
    ]


PROJECT_ORDER = (
    ProjectStatus.IN_PROGRESS,
    ProjectStatus.PLANNED,
    ProjectStatus.PAUSED,
    ProjectStatus.COMPLETED,
)


def partner_metrics(organisation: Organisation, period: Period, now: datetime | None = None):
    if now is None:  # as of now: shared by every visitor for a few minutes (cache)
        return compute_public(organisation_id=organisation.id, start=period.start, end=period.end)
    return compute(organisation_id=organisation.id, start=period.start, end=period.end, now=now)


def open_assignments(organisation: Organisation) -> int:
    """Needs the partner holds now (pending an answer or accepted)."""
    stmt = sa.select(sa.func.count(Assignment.id)).where(
        Assignment.organisation_id == organisation.id,
        Assignment.state.in_(OPEN_ASSIGNMENT_STATES),
    )
    return db.session.scalar(stmt) or 0
