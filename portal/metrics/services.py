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
number can be narrowed to a partner, a category, an intake channel and an
area (with everything under it), and grouped by partner, category or area (a
need counts in its area and in every area above it)."""

from __future__ import annotations

import dataclasses
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa

from portal.areas.models import Area, lineage, subtree_ids
from portal.categories.models import Category
from portal.core.cache import shared
from portal.extensions import db
from portal.feedback.models import Feedback
from portal.models_base import utcnow
from portal.needs.models import Channel, Need
from portal.partners.models import OPEN_ASSIGNMENT_STATES, Assignment
from portal.workdays.services import add_working_days, overrides_between
from portal.workflow.models import TimelineEvent

#: The moves that give a partner a need to answer, with its own deadlines (a
#: reassignment by an organisation above the lead counts as a routing).
ROUTING_MOVES = ("route", "transfer", "reassign")
LOOP_MOVES = (
    *ROUTING_MOVES,
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

    def compact(self) -> Metrics:
        """The same numbers with each list of days reduced to its median: what
        a cache keeps (a period at city scale has 100 000s of durations)."""
        return dataclasses.replace(
            self,
            response_days=[statistics.median(self.response_days)] if self.response_days else [],
            resolution_days=(
                [statistics.median(self.resolution_days)] if self.resolution_days else []
            ),
        )

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


GROUPINGS = ("organisation", "category", "area")


def _tally(
    *,
    groupings: tuple[str | None, ...],
    organisation_id: int | None,
    category_id: int | None,
    channel: Channel | None,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    area_path: str | None = None,
) -> dict[str | None, dict[int | None, Metrics]]:
    """Every number, in a constant number of queries and ONE pass over the loop
    events, into one bucket per group of each grouping (`None`: the single
    bucket `None` of the whole scope). The rules live here only: `compute()`,
    `compute_grouped()` and `compute_dashboard()` all read from it.

    `area_path` narrows to the needs of an area and everything under it. By
    area, a need counts in its own area and in each area above it (the ids its
    path names), so each area's numbers are those of its whole subtree."""
    tables: dict[str | None, dict[int | None, Metrics]] = {g: {} for g in groupings}

    def buckets_for(
        organisation: int | None, need_category: int, need_area_path: str | None
    ) -> list[Metrics]:
        found = []
        for grouping, table in tables.items():
            if grouping == "area":
                keys = lineage(need_area_path)
            else:
                keys = [
                    {None: None, "organisation": organisation, "category": need_category}[grouping]
                ]
            for key in keys:
                if key not in table:
                    table[key] = Metrics(start=start, end=end)
                found.append(table[key])
        return found

    # Needs with a routing in the period (and scope), then their whole loop
    # history — as plain rows: building ORM objects cost most of the time.
    routed_needs = sa.select(TimelineEvent.need_id).where(TimelineEvent.move.in_(ROUTING_MOVES))
    if organisation_id is not None:
        routed_needs = routed_needs.where(TimelineEvent.organisation_id == organisation_id)
    if start is not None:
        routed_needs = routed_needs.where(TimelineEvent.created_at >= start)
    if end is not None:
        routed_needs = routed_needs.where(TimelineEvent.created_at < end)
    stmt = (
        sa.select(
            TimelineEvent.id,
            TimelineEvent.need_id,
            TimelineEvent.move,
            TimelineEvent.organisation_id,
            TimelineEvent.created_at,
            Category.response_sla_days,
            Need.category_id,
            (Area.path if "area" in groupings else sa.null()).label("area_path"),
        )
        .join(Need, Need.id == TimelineEvent.need_id)
        .join(Category, Category.id == Need.category_id)
        .where(TimelineEvent.need_id.in_(routed_needs), TimelineEvent.move.in_(LOOP_MOVES))
        .order_by(TimelineEvent.need_id, TimelineEvent.id)
    )
    if "area" in groupings:
        stmt = stmt.outerjoin(Area, Area.id == Need.area_id)
    if category_id is not None:
        stmt = stmt.where(Need.category_id == category_id)
    if channel is not None:
        stmt = stmt.where(Need.channel == channel)
    if area_path is not None:
        stmt = stmt.where(Need.area_id.in_(subtree_ids(area_path)))
    rows = db.session.execute(stmt).all()
    history: dict[int, list] = defaultdict(list)
    for row in rows:
        history[row.need_id].append(row)

    overrides = overrides_between(start or (rows[0].created_at if rows else now), now)

    def in_period(moment: datetime) -> bool:
        return (start is None or moment >= start) and (end is None or moment < end)

    for events in history.values():
        pending: dict[int, datetime] = {}  # organisation → routed at, awaiting an answer
        accepted_at: dict[int, datetime] = {}
        first_routed: dict[int, datetime] = {}
        for event in events:
            org = event.organisation_id
            if event.move in ROUTING_MOVES:
                in_scope = organisation_id is None or org == organisation_id
                if in_scope and in_period(event.created_at):
                    pending[org] = event.created_at
                    first_routed.setdefault(org, event.created_at)
                    due = add_working_days(event.created_at, event.response_sla_days, overrides)
                    answer = next(
                        (
                            e
                            for e in events
                            if e.id > event.id
                            and e.organisation_id == org
                            and e.move in ("accept", "decline", "decline_transfer")
                        ),
                        None,
                    )
                    for result in buckets_for(org, event.category_id, event.area_path):
                        result.routed += 1
                        if due <= now:
                            result.response_due += 1
                            if answer is not None and answer.created_at <= due:
                                result.responded_in_time += 1
                        if answer is not None:
                            result.response_days.append(_days(event.created_at, answer.created_at))
            elif event.move == "accept" and org in pending:
                accepted_at[org] = event.created_at
                for result in buckets_for(org, event.category_id, event.area_path):
                    result.accepted += 1
            elif event.move == "resolve" and org in accepted_at:
                closed_unresolved = any(
                    e.move == "close_unresolved" and e.id > event.id for e in events
                )
                if not closed_unresolved:
                    days = _days(first_routed[org], event.created_at)
                    for result in buckets_for(org, event.category_id, event.area_path):
                        result.resolved += 1
                        result.resolution_days.append(days)
                accepted_at.pop(org)  # a later resolve after a reopen counts once
                pending.pop(org, None)

    scope = _Scope(organisation_id, category_id, channel, area_path)
    for grouping, table in tables.items():
        _add_feedback_and_overdue(table, grouping, scope, start, end, now)
    return tables


class _Scope(NamedTuple):
    organisation_id: int | None
    category_id: int | None
    channel: Channel | None
    area_path: str | None

    def narrow(self, stmt, organisation_column):
        if self.organisation_id is not None:
            stmt = stmt.where(organisation_column == self.organisation_id)
        if self.category_id is not None:
            stmt = stmt.where(Need.category_id == self.category_id)
        if self.channel is not None:
            stmt = stmt.where(Need.channel == self.channel)
        if self.area_path is not None:
            stmt = stmt.where(Need.area_id.in_(subtree_ids(self.area_path)))
        return stmt


def _group_key(group_by: str, organisation_column):
    return {
        "organisation": organisation_column,
        "category": Need.category_id,
        "area": Area.path,
    }[group_by]


def _grouped_rows(stmt, group_by: str | None, organisation_column):
    """The counts of `stmt` (from needs) for the whole scope, or per group.
    Grouped by area, the rows are per area path (joined), for the caller to
    add into the area and each one above it."""
    if group_by is None:
        return stmt
    key = _group_key(group_by, organisation_column)
    stmt = stmt.add_columns(key).group_by(key)
    if group_by == "area":
        stmt = stmt.join(Area, Area.id == Need.area_id)
    return stmt


def _add_feedback_and_overdue(
    table: dict[int | None, Metrics],
    group_by: str | None,
    scope: _Scope,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> None:
    def buckets(key) -> list[Metrics]:
        keys = lineage(key) if group_by == "area" else [key]
        for one in keys:
            if one not in table:
                table[one] = Metrics(start=start, end=end)
        return [table[one] for one in keys]

    # Satisfaction: the feedback given in the period on needs in scope, credited
    # to the partner the need is assigned to.
    counts = (
        sa.func.count(Feedback.id),
        sa.func.count(Feedback.id).filter(Feedback.satisfaction >= SATISFIED),
    )
    feedback = _grouped_rows(
        sa.select(*counts).select_from(Feedback).join(Need, Need.id == Feedback.need_id),
        group_by,
        Need.assigned_organisation_id,
    )
    feedback = scope.narrow(feedback, Need.assigned_organisation_id)
    if start is not None:
        feedback = feedback.where(Feedback.created_at >= start)
    if end is not None:
        feedback = feedback.where(Feedback.created_at < end)
    for received, satisfied, *key in db.session.execute(feedback):
        key = key[0] if key else None
        if group_by is not None and key is None:
            continue  # feedback on a need no partner holds: in no partner's numbers
        for result in buckets(key):
            result.feedback += received
            result.satisfied += satisfied

    overdue = _grouped_rows(
        sa.select(sa.func.count(Assignment.id))
        .select_from(Assignment)
        .join(Need, Need.id == Assignment.need_id)
        .where(Assignment.state.in_(OPEN_ASSIGNMENT_STATES), Assignment.due_at < now),
        group_by,
        Assignment.organisation_id,
    )
    overdue = scope.narrow(overdue, Assignment.organisation_id)
    for count, *key in db.session.execute(overdue):
        for result in buckets(key[0] if key else None):
            result.overdue_now += count


def compute(
    *,
    organisation_id: int | None = None,
    category_id: int | None = None,
    channel: Channel | None = None,
    area_path: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
) -> Metrics:
    tables = _tally(
        groupings=(None,),
        organisation_id=organisation_id,
        category_id=category_id,
        channel=channel,
        start=start,
        end=end,
        now=now or utcnow(),
        area_path=area_path,
    )
    return tables[None].get(None) or Metrics(start=start, end=end)


def compute_grouped(
    by: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
    category_id: int | None = None,
    area_path: str | None = None,
) -> dict[int, Metrics]:
    """The numbers of `compute()` for every partner (`by="organisation"`),
    every category (`by="category"`) or every area with its subtree
    (`by="area"`) at once, in the same few queries whatever the number of
    groups. A group with nothing to count is absent: use `.get(id)` and treat
    a missing group as "no data"."""
    if by not in GROUPINGS:
        raise ValueError(f"cannot group metrics by {by!r}")
    tables = _tally(
        groupings=(by,),
        organisation_id=None,
        category_id=category_id,
        channel=None,
        start=start,
        end=end,
        now=now or utcnow(),
        area_path=area_path,
    )
    return {key: metrics for key, metrics in tables[by].items() if key is not None}


class DashboardMetrics(NamedTuple):
    overall: Metrics
    per_category: dict[int, Metrics]
    per_partner: dict[int, Metrics]
    #: By area id, each area with everything under it.
    per_area: dict[int, Metrics]

    def compact(self) -> DashboardMetrics:
        return DashboardMetrics(
            self.overall.compact(),
            *({k: m.compact() for k, m in table.items()} for table in self[1:]),
        )


def compute_dashboard(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    now: datetime | None = None,
    category_id: int | None = None,
    area_path: str | None = None,
) -> DashboardMetrics:
    """Overall, per category, per partner and per area in one pass over the
    events (the transparency dashboard needs all four)."""
    tables = _tally(
        groupings=(None, "category", "organisation", "area"),
        organisation_id=None,
        category_id=category_id,
        channel=None,
        start=start,
        end=end,
        now=now or utcnow(),
        area_path=area_path,
    )

    def groups(grouping: str) -> dict[int, Metrics]:
        return {k: m for k, m in tables[grouping].items() if k is not None}

    return DashboardMetrics(
        overall=tables[None].get(None) or Metrics(start=start, end=end),
        per_category=groups("category"),
        per_partner=groups("organisation"),
        per_area=groups("area"),
    )


def compute_public(
    *,
    organisation_id: int | None = None,
    category_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Metrics:
    """`compute()` for public pages, as of now, shared through the cache."""
    scope = {"organisation_id": organisation_id, "category_id": category_id}
    return shared(
        ("one", tuple(sorted(scope.items())), start, end),
        lambda: compute(start=start, end=end, **scope).compact(),
    )


def compute_dashboard_public(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    category_id: int | None = None,
    area_path: str | None = None,
) -> DashboardMetrics:
    """`compute_dashboard()` as of now, shared through the cache."""
    return shared(
        ("dashboard", category_id, area_path, start, end),
        lambda: compute_dashboard(
            start=start, end=end, category_id=category_id, area_path=area_path
        ).compact(),
    )
