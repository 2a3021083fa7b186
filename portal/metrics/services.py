"""Response, resolution and satisfaction rates, medians and overdue counts for
a partner, a category or the whole portal over a date range — all computed
from the timeline events (and feedback), as DESIGN.md defines them:

- response rate: routings answered (accepted or declined) within the
  category's response SLA (working days) ÷ routings whose SLA has passed;
- resolution rate: accepted needs that were resolved (and not closed as "not
  resolved") ÷ accepted needs;
- satisfaction rate: feedback with satisfaction ≥ 4 ÷ feedback received;
- median days from routing to the first response, and to resolution;
- overdue now: open assignments past their due date.

A routing or acceptance belongs to the period in which it happened. Every
number can be narrowed to a partner, a category and an intake channel."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from portal.extensions import db
from portal.feedback.models import Feedback
from portal.models_base import utcnow
from portal.needs.models import Category, Channel, Need
from portal.partners.models import OPEN_ASSIGNMENT_STATES, Assignment
from portal.workdays.services import add_working_days, overrides_between
from portal.workflow.models import TimelineEvent

LOOP_MOVES = (
    "route",
    "transfer",
    "accept",
    "decline",
    "decline_transfer",
    "resolve",
    "reopen",
    "close_unresolved",
)
SATISFIED = 4


@dataclass
class Metrics:
    start: datetime | None
    end: datetime | None
    routed: int = 0
    response_due: int = 0  # routings whose response SLA has passed
    responded_in_time: int = 0
    accepted: int = 0
    resolved: int = 0
    feedback: int = 0
    satisfied: int = 0
    overdue_now: int = 0
    response_days: list[float] = field(default_factory=list, repr=False)
    resolution_days: list[float] = field(default_factory=list, repr=False)

    @property
    def response_rate(self) -> float | None:
        return self.responded_in_time / self.response_due if self.response_due else None

    @property
    def resolution_rate(self) -> float | None:
        return self.resolved / self.accepted if self.accepted else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.feedback if self.feedback else None

    @property
    def median_days_to_response(self) -> float | None:
        return round(statistics.median(self.response_days), 1) if self.response_days else None

    @property
    def median_days_to_resolution(self) -> float | None:
        return round(statistics.median(self.resolution_days), 1) if self.resolution_days else None


def _days(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 86400


def compute(
    *,
    organisation_id: int | None = None,
    category_id: int | None = None,
    channel: Channel | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> Metrics:
    now = now or utcnow()
    result = Metrics(start=start, end=end)

    # Needs with a routing in the period (and scope), then their whole loop history.
    routed_needs = sa.select(TimelineEvent.need_id).where(
        TimelineEvent.move.in_(("route", "transfer"))
    )
    if organisation_id is not None:
        routed_needs = routed_needs.where(TimelineEvent.organisation_id == organisation_id)
    if start is not None:
        routed_needs = routed_needs.where(TimelineEvent.created_at >= start)
    if end is not None:
        routed_needs = routed_needs.where(TimelineEvent.created_at < end)
    stmt = (
        sa.select(TimelineEvent, Category.response_sla_days)
        .join(Need, Need.id == TimelineEvent.need_id)
        .join(Category, Category.id == Need.category_id)
        .where(TimelineEvent.need_id.in_(routed_needs), TimelineEvent.move.in_(LOOP_MOVES))
        .order_by(TimelineEvent.need_id, TimelineEvent.id)
    )
    if category_id is not None:
        stmt = stmt.where(Need.category_id == category_id)
    if channel is not None:
        stmt = stmt.where(Need.channel == channel)
    rows = db.session.execute(stmt).all()
    history: dict[int, list[tuple[TimelineEvent, int]]] = defaultdict(list)
    for event, sla in rows:
        history[event.need_id].append((event, sla))

    overrides = overrides_between(start or (rows[0][0].created_at if rows else now), now)

    def in_period(moment: datetime) -> bool:
        return (start is None or moment >= start) and (end is None or moment < end)

    def in_scope(event: TimelineEvent) -> bool:
        return organisation_id is None or event.organisation_id == organisation_id

    for events in history.values():
        pending: dict[int, datetime] = {}  # organisation → routed at, awaiting an answer
        accepted_at: dict[int, datetime] = {}
        first_routed: dict[int, datetime] = {}
        for event, sla in events:
            org = event.organisation_id
            if event.move in ("route", "transfer"):
                if in_scope(event) and in_period(event.created_at):
                    result.routed += 1
                    pending[org] = event.created_at
                    first_routed.setdefault(org, event.created_at)
                    due = add_working_days(event.created_at, sla, overrides)
                    answer = next(
                        (
                            e
                            for e, _ in events
                            if e.id > event.id
                            and e.organisation_id == org
                            and e.move in ("accept", "decline", "decline_transfer")
                        ),
                        None,
                    )
                    if due <= now:
                        result.response_due += 1
                        if answer is not None and answer.created_at <= due:
                            result.responded_in_time += 1
                    if answer is not None:
                        result.response_days.append(_days(event.created_at, answer.created_at))
            elif event.move == "accept" and org in pending:
                accepted_at[org] = event.created_at
                result.accepted += 1
            elif event.move == "resolve" and org in accepted_at:
                closed_unresolved = any(
                    e.move == "close_unresolved" and e.id > event.id for e, _ in events
                )
                if not closed_unresolved:
                    result.resolved += 1
                    result.resolution_days.append(_days(first_routed[org], event.created_at))
                accepted_at.pop(org)  # a later resolve after a reopen counts once
                pending.pop(org, None)

    # Satisfaction: the feedback given in the period on needs in scope.
    feedback = sa.select(
        sa.func.count(Feedback.id),
        sa.func.count(Feedback.id).filter(Feedback.satisfaction >= SATISFIED),
    ).join(Need, Need.id == Feedback.need_id)
    if organisation_id is not None:
        feedback = feedback.where(Need.assigned_organisation_id == organisation_id)
    if category_id is not None:
        feedback = feedback.where(Need.category_id == category_id)
    if channel is not None:
        feedback = feedback.where(Need.channel == channel)
    if start is not None:
        feedback = feedback.where(Feedback.created_at >= start)
    if end is not None:
        feedback = feedback.where(Feedback.created_at < end)
    result.feedback, result.satisfied = db.session.execute(feedback).one()

    overdue = (
        sa.select(sa.func.count(Assignment.id))
        .join(Need, Need.id == Assignment.need_id)
        .where(Assignment.state.in_(OPEN_ASSIGNMENT_STATES), Assignment.due_at < now)
    )
    if organisation_id is not None:
        overdue = overdue.where(Assignment.organisation_id == organisation_id)
    if category_id is not None:
        overdue = overdue.where(Need.category_id == category_id)
    if channel is not None:
        overdue = overdue.where(Need.channel == channel)
    result.overdue_now = db.session.scalar(overdue) or 0
    return result
