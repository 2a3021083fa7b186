"""Projects: proposals and their review, partners, linked needs, milestones,
progress, resource commitments, updates and followers. Services flush and
audit; the view commits once."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.needs.models import Need
from portal.projects.models import Project, ProjectNeed


def projects_for_need(need: Need) -> list[Project]:
    """The projects carrying a need ("part of project X" on the need's page)."""
    stmt = (
        sa.select(Project)
        .join(ProjectNeed, ProjectNeed.project_id == Project.id)
        .where(ProjectNeed.need_id == need.id)
        .order_by(Project.id)
    )
    return list(db.session.scalars(stmt))
