"""The numbers of the admin dashboard: needs by state, what waits longest, and
the assignments overdue or escalated. A constant number of queries."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.partners.models import OPEN_ASSIGNMENT_STATES, Assignment
from portal.triage.services import QUEUE_STATUSES


def state_counts() -> dict[NeedStatus, int]:
    """How many needs are in each state: one grouped query."""
    rows = db.session.execute(sa.select(Need.status, sa.func.count()).group_by(Need.status))
    counts = dict.fromkeys(NeedStatus, 0)
    counts.update({status: n for status, n in rows})
    return counts


def _assignments_with_needs(*conditions, limit: int) -> list[tuple[Assignment, Need]]:
    stmt = (
        sa.select(Assignment, Need)
        .join(Need, Need.id == Assignment.need_id)
        .options(joinedload(Assignment.organisation))
        .where(Assignment.state.in_(OPEN_ASSIGNMENT_STATES), *conditions)
        .order_by(Assignment.due_at, Assignment.id)
        .limit(limit)
    )
    return [(a, n) for a, n in db.session.execute(stmt)]


def overdue_assignments(now: datetime | None = None, limit: int = 20):
    return _assignments_with_needs(Assignment.due_at < (now or utcnow()), limit=limit)


def escalated_assignments(limit: int = 20):
    return _assignments_with_needs(Assignment.escalated_at.is_not(None), limit=limit)


def needs_by_id(ids) -> dict[int, Need]:
    ids = set(ids)
    if not ids:
        return {}
    return {n.id: n for n in db.session.scalars(sa.select(Need).where(Need.id.in_(ids)))}


def oldest_waiting(limit: int = 5) -> list[Need]:
    return list(
        db.session.scalars(
            sa.select(Need)
            .options(joinedload(Need.category))
            .where(Need.status.in_(QUEUE_STATUSES))
            .order_by(Need.created_at, Need.id)
            .limit(limit)
        )
    )
