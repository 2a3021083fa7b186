"""The open data sets: one schema per data set, the single source for the /data
page and for the columns of both exports, and the queries that read the rows.

Rows are read in keyset batches on the primary key (`WHERE id > last ORDER BY
id LIMIT n`), as plain column tuples rather than ORM objects, so a download of a
million needs holds one batch in memory and each batch is one indexed query
(plus one per batch for the lists nested in a row). Only public rows and public
columns are ever selected: the submitter, contact details, tracking and
idempotency keys, internal notes and actors are not in any query here."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased

from portal.areas.models import Area, subtree_ids
from portal.areas.services import received_by_area
from portal.auth.models import Role, User
from portal.categories.models import Category
from portal.extensions import db
from portal.metrics.services import Metrics, compute_grouped
from portal.models_base import UTCDateTime, utcnow
from portal.needs.location import public_point
from portal.needs.models import Need
from portal.partners.models import Organisation
from portal.projects.models import Milestone, Project, ProjectNeed, project_supporters
from portal.voting.models import PriorityRound, RoundItem
from portal.workflow.models import TimelineEvent

Row = dict[str, object]


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # one of TYPE_LABELS
    meaning: LazyString


TYPE_LABELS = {
    "string": _l("text"),
    "integer": _l("whole number"),
    "number": _l("number"),
    "decimal": _l("decimal number"),
    "boolean": _l("true or false"),
    "datetime": _l("date and time, ISO 8601, UTC"),
    "date": _l("date, ISO 8601"),
    "list": _l("list of texts (in CSV joined by “ | ”)"),
}


@dataclass(frozen=True)
class Period:
    """What a download is narrowed to: an optional date range (`end` is
    exclusive) and, for the data sets that take one, an area with everything
    under it (its materialised path)."""

    start: datetime | None = None
    end: datetime | None = None
    area_path: str | None = None


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: LazyString
    description: LazyString
    fields: tuple[Field, ...]
    #: rows(batch_size, period) yields batches (lists) of rows, keys in field order.
    rows: Callable[[int, Period], Iterator[list[Row]]]
    #: In JSON each row also carries a list of rows of another data set.
    nested: tuple[str, str] | None = None  # (key in the row, slug of the data set)
    takes_period: bool = False
    #: ?area=CODE narrows the rows to that area and everything under it.
    takes_area: bool = False

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


def _batches(stmt, key, batch_size: int) -> Iterator[list[sa.Row]]:
    """Keyset pagination on `key` (a unique, indexed, increasing column)."""
    last = None
    while True:
        page = stmt if last is None else stmt.where(key > last)
        rows = db.session.execute(page.order_by(key).limit(batch_size)).all()
        if not rows:
            return
        yield rows
        if len(rows) < batch_size:
            return
        last = rows[-1][0]


def _in_period(stmt, column, period: Period):
    if period.start is not None:
        stmt = stmt.where(column >= period.start)
    if period.end is not None:
        stmt = stmt.where(column < period.end)
    return stmt


def _in_area(stmt, period: Period):
    """The needs (joined) of the download's area and everything under it."""
    if period.area_path is None:
        return stmt
    return stmt.where(Need.area_id.in_(subtree_ids(period.area_path)))


# --- needs -------------------------------------------------------------------

NEED_FIELDS = (
    Field("ref", "string", _l("Public reference of the need, e.g. N-2026-000123.")),
    Field("title", "string", _l("Title, as published.")),
    Field("body", "string", _l("Description, as published.")),
    Field("category_code", "string", _l("Code of the category (Open311 service code).")),
    Field("category_name_zh", "string", _l("Name of the category in Chinese.")),
    Field("category_name_en", "string", _l("Name of the category in English.")),
    Field("place", "string", _l("Place as the submitter described it (free text), or empty.")),
    Field(
        "lat",
        "number",
        _l("Latitude of the need's position rounded to three decimals (about 100 m), or empty."),
    ),
    Field(
        "lon",
        "number",
        _l("Longitude of the need's position rounded to three decimals (about 100 m), or empty."),
    ),
    Field(
        "area_code",
        "string",
        _l("Code of the need's area (see the areas data set), or empty."),
    ),
    Field(
        "status",
        "string",
        _l("Current status: open, routed, accepted, in_progress, resolved or closed."),
    ),
    Field("outcome", "string", _l("For closed needs: resolved or not_resolved; empty otherwise.")),
    Field("channel", "string", _l("How the need came in: web, phone, walk_in, api or staff.")),
    Field("support_count", "integer", _l("Number of members who support the need.")),
    Field("created_at", "datetime", _l("When the need was submitted.")),
    Field("published_at", "datetime", _l("When the need was published after review.")),
    Field("resolved_at", "datetime", _l("When the current answer was given, or empty.")),
    Field("partner_name_zh", "string", _l("Partner answerable now (Chinese name), or empty.")),
    Field("partner_name_en", "string", _l("Partner answerable now (English name), or empty.")),
)


def need_rows(batch_size: int, period: Period) -> Iterator[list[Row]]:
    stmt = (
        sa.select(
            Need.id,
            Need.ref,
            Need.title,
            Need.body,
            Category.code,
            Category.name_zh,
            Category.name_en,
            Need.place,
            Need.lat,
            Need.lon,
            Area.code,
            Need.status,
            Need.outcome,
            Need.channel,
            Need.support_count,
            Need.created_at,
            Need.published_at,
            Need.resolved_at,
            Organisation.name_zh,
            Organisation.name_en,
        )
        .join(Category, Category.id == Need.category_id)
        .outerjoin(Area, Area.id == Need.area_id)
        .outerjoin(Organisation, Organisation.id == Need.assigned_organisation_id)
        .where(Need.is_listed)
    )
    stmt = _in_area(_in_period(stmt, Need.created_at, period), period)
    names = [f.name for f in NEED_FIELDS]
    for batch in _batches(stmt, Need.id, batch_size):
        rows = []
        for row in batch:
            values = dict(zip(names, row[1:], strict=True))
            # Never the exact point: rounded to about 100 m (portal.needs.location).
            point = public_point(row)
            values["lat"], values["lon"] = (point.lat, point.lon) if point else (None, None)
            rows.append(values)
        yield rows


# --- timeline events -----------------------------------------------------------

EVENT_FIELDS = (
    Field("event_id", "integer", _l("Number of the event (increasing with time).")),
    Field("need_ref", "string", _l("Public reference of the need.")),
    Field(
        "kind",
        "string",
        _l(
            "The step: a move of the workflow (publish, route, accept, resolve…) "
            "or an update (update, feedback, extension_granted…)."
        ),
    ),
    Field("from_status", "string", _l("Status before the step, or empty.")),
    Field("to_status", "string", _l("Status after the step.")),
    Field("text", "string", _l("Public text of the step (reason, update, answer), or empty.")),
    Field("partner_name_zh", "string", _l("Partner the step concerns (Chinese name), or empty.")),
    Field("partner_name_en", "string", _l("Partner the step concerns (English name), or empty.")),
    Field("created_at", "datetime", _l("When the step happened.")),
)


def event_rows(batch_size: int, period: Period) -> Iterator[list[Row]]:
    """The public timeline of every listed need: what /needs/<ref> shows."""
    stmt = (
        sa.select(
            TimelineEvent.id,
            Need.ref,
            TimelineEvent.move,
            TimelineEvent.from_status,
            TimelineEvent.to_status,
            TimelineEvent.text,
            Organisation.name_zh,
            Organisation.name_en,
            TimelineEvent.created_at,
        )
        .join(Need, Need.id == TimelineEvent.need_id)
        .outerjoin(Organisation, Organisation.id == TimelineEvent.organisation_id)
        .where(Need.is_listed, TimelineEvent.internal.is_(False))
    )
    stmt = _in_area(_in_period(stmt, TimelineEvent.created_at, period), period)
    names = [f.name for f in EVENT_FIELDS]
    for batch in _batches(stmt, TimelineEvent.id, batch_size):
        yield [dict(zip(names, row, strict=True)) for row in batch]


# --- projects and milestones ---------------------------------------------------

MILESTONE_FIELDS = (
    Field("milestone_id", "integer", _l("Number of the milestone.")),
    Field("project_id", "integer", _l("Number of the project (see the projects data set).")),
    Field("title", "string", _l("What the milestone is.")),
    Field("due_on", "date", _l("When it is due.")),
    Field("done_on", "date", _l("When it was done, or empty.")),
    Field(
        "late",
        "boolean",
        _l("Done after its due date, or not done and past it (on the day of the download)."),
    ),
    Field("position", "integer", _l("Order of the milestone within the project.")),
)

PROJECT_FIELDS = (
    Field(
        "project_id",
        "integer",
        _l("Number of the project; its page is /projects/ followed by this number."),
    ),
    Field("title", "string", _l("Title of the project.")),
    Field("background", "string", _l("Why the project exists.")),
    Field("goal", "string", _l("What the project wants to achieve.")),
    Field("expected_result", "string", _l("The expected result.")),
    Field("target", "string", _l("The measurable target, in words.")),
    Field("target_value", "integer", _l("The target as a number, or empty.")),
    Field("achieved_value", "integer", _l("How much of the target is achieved, or empty.")),
    Field("status", "string", _l("planned, in_progress, paused or completed.")),
    Field("progress", "integer", _l("Progress in percent (0–100).")),
    Field(
        "progress_mode",
        "string",
        _l("milestones (done ÷ all milestones) or manual (set by the lead partner)."),
    ),
    Field("budget", "decimal", _l("Budget, or empty.")),
    Field("budget_currency", "string", _l("Currency of the budget (ISO 4217), e.g. CNY.")),
    Field("lead_partner_name_zh", "string", _l("Lead partner (主责), Chinese name.")),
    Field("lead_partner_name_en", "string", _l("Lead partner (主责), English name.")),
    Field("supporting_partner_names_zh", "list", _l("Supporting partners (辅责), Chinese names.")),
    Field("supporting_partner_names_en", "list", _l("Supporting partners (辅责), English names.")),
    Field("need_refs", "list", _l("References of the published needs the project carries.")),
    Field("follower_count", "integer", _l("Number of members following the project.")),
    Field("created_at", "datetime", _l("When the project was created.")),
    Field("started_at", "datetime", _l("When work started, or empty.")),
    Field("completed_at", "datetime", _l("When the project was completed, or empty.")),
)


def _milestone_row(row, today: date) -> Row:
    milestone_id, project_id, title, due_on, done_on, position = row
    return {
        "milestone_id": milestone_id,
        "project_id": project_id,
        "title": title,
        "due_on": due_on,
        "done_on": done_on,
        "late": (done_on or today) > due_on,
        "position": position,
    }


_MILESTONE_COLUMNS = (
    Milestone.id,
    Milestone.project_id,
    Milestone.title,
    Milestone.due_on,
    Milestone.done_on,
    Milestone.position,
)


def milestone_rows(batch_size: int, period: Period) -> Iterator[list[Row]]:
    today = utcnow().date()
    stmt = sa.select(*_MILESTONE_COLUMNS)
    for batch in _batches(stmt, Milestone.id, batch_size):
        yield [_milestone_row(row, today) for row in batch]


def project_rows(batch_size: int, period: Period) -> Iterator[list[Row]]:
    """Projects with their partners and listed needs; each row also carries its
    milestones under "milestones" (the JSON export nests them, CSV leaves them
    to the milestones data set). Three queries per batch."""
    today = utcnow().date()
    lead = aliased(Organisation)
    stmt = sa.select(
        Project.id,
        Project.title,
        Project.background,
        Project.goal,
        Project.expected_result,
        Project.target,
        Project.target_value,
        Project.achieved_value,
        Project.status,
        Project.progress,
        Project.progress_mode,
        Project.budget,
        Project.budget_currency,
        lead.name_zh,
        lead.name_en,
        Project.follower_count,
        Project.created_at,
        Project.started_at,
        Project.completed_at,
    ).join(lead, lead.id == Project.lead_organisation_id)
    for batch in _batches(stmt, Project.id, batch_size):
        ids = [row[0] for row in batch]
        supporters: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for project_id, name_zh, name_en in db.session.execute(
            sa.select(project_supporters.c.project_id, Organisation.name_zh, Organisation.name_en)
            .join(Organisation, Organisation.id == project_supporters.c.organisation_id)
            .where(project_supporters.c.project_id.in_(ids))
            .order_by(project_supporters.c.project_id, Organisation.id)
        ):
            supporters[project_id].append((name_zh, name_en))
        needs: dict[int, list[str]] = defaultdict(list)
        for project_id, ref in db.session.execute(
            sa.select(ProjectNeed.project_id, Need.ref)
            .join(Need, Need.id == ProjectNeed.need_id)
            .where(ProjectNeed.project_id.in_(ids), Need.is_listed)
            .order_by(ProjectNeed.project_id, Need.id)
        ):
            needs[project_id].append(ref)
        milestones: dict[int, list[Row]] = defaultdict(list)
        for row in db.session.execute(
            sa.select(*_MILESTONE_COLUMNS)
            .where(Milestone.project_id.in_(ids))
            .order_by(Milestone.project_id, Milestone.position, Milestone.id)
        ):
            milestones[row[1]].append(_milestone_row(row, today))
        rows = []
        for row in batch:
            (pid, title, background, goal, expected, target, target_value, achieved) = row[:8]
            (status, progress, mode, budget, currency, lead_zh, lead_en) = row[8:15]
            (followers, created_at, started_at, completed_at) = row[15:]
            rows.append(
                {
                    "project_id": pid,
                    "title": title,
                    "background": background,
                    "goal": goal,
                    "expected_result": expected,
                    "target": target,
                    "target_value": target_value,
                    "achieved_value": achieved,
                    "status": status,
                    "progress": progress,
                    "progress_mode": mode,
                    "budget": budget,
                    "budget_currency": currency,
                    "lead_partner_name_zh": lead_zh,
                    "lead_partner_name_en": lead_en,
                    "supporting_partner_names_zh": [zh for zh, _ in supporters[pid]],
                    "supporting_partner_names_en": [en or zh for zh, en in supporters[pid]],
                    "need_refs": needs[pid],
                    "follower_count": followers,
                    "created_at": created_at,
                    "started_at": started_at,
                    "completed_at": completed_at,
                    "milestones": milestones[pid],
                }
            )
        yield rows


# --- priority rounds -----------------------------------------------------------

ROUND_FIELDS = (
    Field(
        "round_id",
        "integer",
        _l("Number of the round; its page is /rounds/ followed by this number."),
    ),
    Field("title", "string", _l("Title of the round.")),
    Field("description", "string", _l("Description of the round.")),
    Field("votes_per_member", "integer", _l("How many votes each member has.")),
    Field("starts_at", "datetime", _l("When voting opens.")),
    Field("ends_at", "datetime", _l("When voting closes.")),
    Field("state", "string", _l("open or ended (rounds that have not started are not listed).")),
    Field("voter_count", "integer", _l("Members who voted (after the end; empty before).")),
    Field(
        "eligible_members",
        "integer",
        _l(
            "Members with a confirmed e-mail address who had an account when "
            "the round ended (after the end; empty before)."
        ),
    ),
    Field(
        "turnout",
        "number",
        _l("voter_count ÷ eligible_members, between 0 and 1 (after the end; empty before)."),
    ),
)

ROUND_ITEM_FIELDS = (
    Field("round_id", "integer", _l("Number of the round (see the rounds data set).")),
    Field("position", "integer", _l("Place of the need on the ballot.")),
    Field("rank", "integer", _l("Rank by votes after the end (1 = most votes), empty before.")),
    Field(
        "need_ref", "string", _l("Public reference of the need (empty if it is no longer public).")
    ),
    Field("need_title", "string", _l("Title of the need (empty if it is no longer public).")),
    Field("category_code", "string", _l("Code of the need's category.")),
    Field(
        "vote_count",
        "integer",
        _l(
            "Votes received: after the end, or live when the round shows live "
            "counts; empty otherwise."
        ),
    ),
)


def _round_items(round_ids: list[int], counts_shown: dict[int, bool], ended: set[int]):
    items: dict[int, list[Row]] = defaultdict(list)
    stmt = (
        sa.select(
            RoundItem.round_id,
            RoundItem.position,
            RoundItem.vote_count,
            RoundItem.id,
            Need.is_listed,
            Need.ref,
            Need.title,
            Category.code,
        )
        .join(Need, Need.id == RoundItem.need_id)
        .join(Category, Category.id == Need.category_id)
        .where(RoundItem.round_id.in_(round_ids))
        .order_by(RoundItem.round_id, RoundItem.position, RoundItem.id)
    )
    for round_id, position, votes, _id, listed, ref, title, code in db.session.execute(stmt):
        items[round_id].append(
            {
                "round_id": round_id,
                "position": position,
                "rank": None,
                "need_ref": ref if listed else "",
                "need_title": title if listed else "",
                "category_code": code,
                "vote_count": votes if counts_shown[round_id] else None,
            }
        )
    for round_id in ended:
        ranked = sorted(items[round_id], key=lambda i: (-i["vote_count"], i["position"]))
        for rank, item in enumerate(ranked, start=1):
            item["rank"] = rank
    return items


def _eligible_members(now: datetime):
    """Members eligible to vote in each round, as a correlated subquery (the
    same rule as portal.voting.services.eligible_members)."""
    cutoff = sa.case(
        (PriorityRound.ends_at < now, PriorityRound.ends_at),
        else_=sa.literal(now, UTCDateTime),
    )
    return (
        sa.select(sa.func.count(User.id))
        .where(
            User.role == Role.MEMBER,
            User.active,
            User.email_verified_at.is_not(None),
            User.created_at <= cutoff,
        )
        .correlate(PriorityRound)
        .scalar_subquery()
    )


def _round_batches(batch_size: int) -> Iterator[tuple[list[Row], dict[int, list[Row]]]]:
    now = utcnow()
    stmt = sa.select(
        PriorityRound.id,
        PriorityRound.title,
        PriorityRound.description,
        PriorityRound.votes_per_member,
        PriorityRound.starts_at,
        PriorityRound.ends_at,
        PriorityRound.show_live_counts,
        PriorityRound.voter_count,
        _eligible_members(now),
    ).where(PriorityRound.starts_at <= now)
    for batch in _batches(stmt, PriorityRound.id, batch_size):
        rounds = []
        counts_shown, ended = {}, set()
        for rid, title, description, votes, starts, ends, live, voters, eligible in batch:
            has_ended = ends <= now
            counts_shown[rid] = has_ended or live
            if has_ended:
                ended.add(rid)
            rounds.append(
                {
                    "round_id": rid,
                    "title": title,
                    "description": description,
                    "votes_per_member": votes,
                    "starts_at": starts,
                    "ends_at": ends,
                    "state": "ended" if has_ended else "open",
                    "voter_count": voters if has_ended else None,
                    "eligible_members": eligible if has_ended else None,
                    "turnout": (
                        (round(voters / eligible, 4) if eligible else 0.0) if has_ended else None
                    ),
                }
            )
        yield rounds, _round_items([r["round_id"] for r in rounds], counts_shown, ended)


def round_rows(batch_size: int, period: Period) -> Iterator[list[Row]]:
    for rounds, items in _round_batches(batch_size):
        for row in rounds:
            row["items"] = items[row["round_id"]]
        yield rounds


def round_item_rows(batch_size: int, period: Period) -> Iterator[list[Row]]:
    for rounds, items in _round_batches(batch_size):
        yield [item for row in rounds for item in items[row["round_id"]]]


# --- partner metrics ---------------------------------------------------------------

METRICS_DAYS = 365

METRIC_FIELDS = (
    Field(
        "organisation_id",
        "integer",
        _l("Number of the partner; its page is /partners/ followed by this number."),
    ),
    Field("name_zh", "string", _l("Name of the partner in Chinese.")),
    Field("name_en", "string", _l("Name of the partner in English.")),
    Field("kind", "string", _l("Kind of organisation, e.g. union, youth_league, ngo.")),
    Field("period_start", "datetime", _l("Start of the period counted (included).")),
    Field("period_end", "datetime", _l("End of the period counted (excluded).")),
    Field("routed", "integer", _l("Needs routed to the partner in the period.")),
    Field("response_due", "integer", _l("Routings whose time to respond has passed.")),
    Field("responded_in_time", "integer", _l("Of those, answered (accepted or declined) in time.")),
    Field("response_rate", "number", _l("responded_in_time ÷ response_due (0–1), or empty.")),
    Field("accepted", "integer", _l("Needs the partner accepted.")),
    Field("resolved", "integer", _l("Of those, resolved (and not closed as not resolved).")),
    Field("resolution_rate", "number", _l("resolved ÷ accepted (0–1), or empty.")),
    Field("feedback", "integer", _l("Feedback received on the partner's answers.")),
    Field("satisfied", "integer", _l("Feedback with a satisfaction of 4 or 5 out of 5.")),
    Field("satisfaction_rate", "number", _l("satisfied ÷ feedback (0–1), or empty.")),
    Field("median_days_to_response", "number", _l("Median days from routing to the first answer.")),
    Field("median_days_to_resolution", "number", _l("Median days from routing to resolution.")),
    Field("overdue_now", "integer", _l("Open assignments past their due date now.")),
)


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def metric_rows(batch_size: int, period: Period) -> Iterator[list[Row]]:
    """The response metrics of every active partner, computed from the
    timeline (portal.metrics) for the period: by default the last 365 days."""
    now = utcnow()
    end = period.end or now
    start = period.start or (end - timedelta(days=METRICS_DAYS))
    grouped = compute_grouped("organisation", start=start, end=end, now=now)
    stmt = sa.select(
        Organisation.id, Organisation.name_zh, Organisation.name_en, Organisation.kind
    ).where(Organisation.is_active)
    for batch in _batches(stmt, Organisation.id, batch_size):
        rows = []
        for org_id, name_zh, name_en, kind in batch:
            m = grouped.get(org_id) or Metrics(start=start, end=end)
            rows.append(
                {
                    "organisation_id": org_id,
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "kind": kind,
                    "period_start": start,
                    "period_end": end,
                    "routed": m.routed,
                    "response_due": m.response_due,
                    "responded_in_time": m.responded_in_time,
                    "response_rate": _rate(m.response_rate),
                    "accepted": m.accepted,
                    "resolved": m.resolved,
                    "resolution_rate": _rate(m.resolution_rate),
                    "feedback": m.feedback,
                    "satisfied": m.satisfied,
                    "satisfaction_rate": _rate(m.satisfaction_rate),
                    "median_days_to_response": m.median_days_to_response,
                    "median_days_to_resolution": m.median_days_to_resolution,
                    "overdue_now": m.overdue_now,
                }
            )
        yield rows


# --- areas and their figures --------------------------------------------------------

AREA_FIELDS = (
    Field(
        "area_code", "string", _l("Code of the area; /needs?area= followed by it lists its needs.")
    ),
    Field(
        "parent_code", "string", _l("Code of the area it lies in, or empty for a top-level area.")
    ),
    Field("name_zh", "string", _l("Name of the area in Chinese.")),
    Field("name_en", "string", _l("Name of the area in English.")),
    Field("level", "integer", _l("0 for a top-level area (e.g. the city), 1 for the areas in it…")),
    Field("lat", "number", _l("Latitude of the area's centre (WGS 84), or empty.")),
    Field("lon", "number", _l("Longitude of the area's centre (WGS 84), or empty.")),
    Field("period_start", "datetime", _l("Start of the period counted (included).")),
    Field("period_end", "datetime", _l("End of the period counted (excluded).")),
    Field(
        "needs_received",
        "integer",
        _l("Needs submitted in the period in the area or any area under it."),
    ),
    Field(
        "accepted", "integer", _l("Of the needs routed in the period, those a partner accepted.")
    ),
    Field("resolved", "integer", _l("Of those, resolved (and not closed as not resolved).")),
    Field("resolution_rate", "number", _l("resolved ÷ accepted (0–1), or empty.")),
    Field("median_days_to_resolution", "number", _l("Median days from routing to resolution.")),
)


def area_rows(batch_size: int, period: Period) -> Iterator[list[Row]]:
    """Every area (or those of ?area= and under it) with the figures of its
    whole subtree for the period (by default the last 365 days), computed once
    for all areas (portal.metrics, grouped by area)."""
    now = utcnow()
    end = period.end or now
    start = period.start or (end - timedelta(days=METRICS_DAYS))
    scope = {"start": start, "end": end, "area_path": period.area_path}
    grouped = compute_grouped("area", now=now, **scope)
    received = received_by_area(**scope)
    parent = aliased(Area)
    stmt = sa.select(
        Area.id,
        Area.code,
        parent.code,
        Area.name_zh,
        Area.name_en,
        Area.depth,
        Area.lat,
        Area.lon,
    ).outerjoin(parent, parent.id == Area.parent_id)
    if period.area_path is not None:
        stmt = stmt.where(Area.id.in_(subtree_ids(period.area_path)))
    for batch in _batches(stmt, Area.id, batch_size):
        rows = []
        for area_id, code, parent_code, name_zh, name_en, depth, lat, lon in batch:
            m = grouped.get(area_id) or Metrics(start=start, end=end)
            rows.append(
                {
                    "area_code": code,
                    "parent_code": parent_code or "",
                    "name_zh": name_zh,
                    "name_en": name_en,
                    "level": depth,
                    "lat": lat,
                    "lon": lon,
                    "period_start": start,
                    "period_end": end,
                    "needs_received": received.get(area_id, 0),
                    "accepted": m.accepted,
                    "resolved": m.resolved,
                    "resolution_rate": _rate(m.resolution_rate),
                    "median_days_to_resolution": m.median_days_to_resolution,
                }
            )
        yield rows


# --- the catalogue ---------------------------------------------------------------

DATASETS: dict[str, Dataset] = {
    d.slug: d
    for d in (
        Dataset(
            "needs",
            _l("Needs"),
            _l("Every published need on the public list, oldest first."),
            NEED_FIELDS,
            need_rows,
            takes_period=True,
            takes_area=True,
        ),
        Dataset(
            "events",
            _l("Timeline events"),
            _l("The public timeline of every published need: each step and public update."),
            EVENT_FIELDS,
            event_rows,
            takes_period=True,
            takes_area=True,
        ),
        Dataset(
            "projects",
            _l("Projects"),
            _l("Collaborative projects with their partners, progress and budget."),
            PROJECT_FIELDS,
            project_rows,
            nested=("milestones", "milestones"),
        ),
        Dataset(
            "milestones",
            _l("Project milestones"),
            _l("The milestones of every project."),
            MILESTONE_FIELDS,
            milestone_rows,
        ),
        Dataset(
            "rounds",
            _l("Priority rounds"),
            _l("Priority rounds that have started, with turnout after the end."),
            ROUND_FIELDS,
            round_rows,
            nested=("items", "round-items"),
        ),
        Dataset(
            "round-items",
            _l("Priority round results"),
            _l("The needs on each round's ballot and their votes."),
            ROUND_ITEM_FIELDS,
            round_item_rows,
        ),
        Dataset(
            "partner-metrics",
            _l("Partner response metrics"),
            _l(
                "Response, resolution and satisfaction rates, medians and overdue "
                "assignments of every active partner, for the needs routed in the period "
                "(by default the last 365 days)."
            ),
            METRIC_FIELDS,
            metric_rows,
            takes_period=True,
        ),
        Dataset(
            "areas",
            _l("Areas and their figures"),
            _l(
                "The tree of areas needs are placed in, with each area's needs received, "
                "resolution rate and median days to resolution (everything under it "
                "included) for the period (by default the last 365 days)."
            ),
            AREA_FIELDS,
            area_rows,
            takes_period=True,
            takes_area=True,
        ),
    )
}


def json_value(value):
    """Values as they appear in the JSON export (and, joined, in CSV)."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if hasattr(value, "value") and isinstance(getattr(value, "value", None), str):
        return value.value  # enums
    return value
