"""Admin triage: the queue, and the moves an admin makes
on a need (publish, correct, reject, merge, route), plus staff-assisted intake.

Status changes go through portal.workflow.transition(), which writes the
timeline, the audit rows and the notifications; corrections that do not move
the status go through record_event(). Nothing here commits: the view commits
once, so a failed step leaves nothing half-saved."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.areas.models import any_area_exists
from portal.audit.services import record
from portal.auth.models import User
from portal.categories.models import Category
from portal.core.params import bounded_int, bounded_text
from portal.core.settings import ROUTE_ON_PUBLISH, get_flag
from portal.extensions import db
from portal.i18n import current_locale_code
from portal.models_base import dialect_insert, utcnow
from portal.moderation.services import need_flags
from portal.needs.location import Point, exact_point
from portal.needs.models import Channel, Need, NeedStatus
from portal.needs.services import similar_needs
from portal.notify.models import Follow
from portal.partners import cohandlers
from portal.partners.models import (
    Assignment,
    AssignmentRequest,
    AssignmentState,
    Organisation,
    RequestState,
)
from portal.routing.services import partner_for
from portal.voting.models import Support
from portal.workdays.models import CalendarDay
from portal.workdays.services import add_working_days, is_working_day, local_zone
from portal.workflow.models import TimelineEvent
from portal.workflow.services import (
    Actor,
    WorkflowError,
    allowed_moves,
    record_event,
    transition,
)
from portal.workflow.statuses import in_order, with_trait

#: What the triage queue holds: new needs, and published ones that no partner
#: holds (never routed, or returned by a partner's decline).
QUEUE_STATUSES = tuple(in_order(with_trait("in_triage")))
QUEUE_PER_PAGE = 25
#: How far ahead an admin may set a due date.
MAX_DUE_DAYS = 366


class TriageError(WorkflowError):
    """A triage step that cannot be made (`field`: the form field it is about)."""


def _actor(admin: User) -> Actor:
    return Actor.staff(admin)


# --- reading --------------------------------------------------------------


def admin_need(ref: str) -> Need | None:
    return db.session.scalar(
        sa.select(Need)
        .options(
            joinedload(Need.category).joinedload(Category.default_partner),
            joinedload(Need.contact),
            joinedload(Need.submitter),
            joinedload(Need.duplicate_of),
            joinedload(Need.assigned_organisation),
        )
        .where(Need.ref == ref)
    )


@dataclass
class QueueFilters:
    q: str = ""
    status: NeedStatus | None = None
    category_id: int | None = None
    channel: Channel | None = None

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        q = bounded_text(args.get("q"), 100)
        status = args.get("status", "")
        status = NeedStatus(status) if status in {s.value for s in QUEUE_STATUSES} else None
        channel = args.get("channel", "")
        channel = Channel(channel) if channel in {c.value for c in Channel} else None
        return cls(
            q=q,
            status=status,
            category_id=bounded_int(args.get("category")),
            channel=channel,
        )

    def as_args(self) -> dict[str, str]:
        args = {}
        if self.q:
            args["q"] = self.q
        if self.status:
            args["status"] = self.status.value
        if self.category_id:
            args["category"] = str(self.category_id)
        if self.channel:
            args["channel"] = self.channel.value
        return args


@dataclass
class QueuePage:
    needs: list[Need]
    next_cursor: int | None  # pass as ?after= for the next page
    is_first: bool


def _search_terms(q: str) -> list[str]:
    return [t for t in q.split(" ") if t][:5]


def queue_page(filters: QueueFilters, *, after: int | None = None) -> QueuePage:
    """Needs waiting for triage, oldest first, by keyset on the id (ids grow with
    the submission time), so every page costs the same."""
    stmt = (
        sa.select(Need)
        .options(joinedload(Need.category).joinedload(Category.default_partner))
        .where(Need.status.in_([filters.status] if filters.status else QUEUE_STATUSES))
    )
    if filters.category_id:
        stmt = stmt.where(Need.category_id == filters.category_id)
    if filters.channel:
        stmt = stmt.where(Need.channel == filters.channel)
    for term in _search_terms(filters.q):
        stmt = stmt.where(
            sa.or_(
                Need.ref.icontains(term, autoescape=True),
                Need.title.icontains(term, autoescape=True),
                Need.body.icontains(term, autoescape=True),
            )
        )
    if after is not None:
        stmt = stmt.where(Need.id > after)
    rows = list(db.session.scalars(stmt.order_by(Need.id).limit(QUEUE_PER_PAGE + 1)))
    needs = rows[:QUEUE_PER_PAGE]
    return QueuePage(
        needs=needs,
        next_cursor=needs[-1].id if len(rows) > QUEUE_PER_PAGE else None,
        is_first=after is None,
    )


def last_declines(need_ids: list[int]) -> dict[int, Assignment]:
    """The latest declined assignment of each need (why it came back), one query."""
    if not need_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Assignment)
        .options(joinedload(Assignment.organisation))
        .where(Assignment.need_id.in_(need_ids), Assignment.state == AssignmentState.DECLINED)
        .order_by(Assignment.id)
    )
    return {a.need_id: a for a in rows}  # later rows win


def active_organisations() -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation).where(Organisation.is_active).order_by(Organisation.name_zh)
        )
    )


def categories() -> list[Category]:
    return list(
        db.session.scalars(
            sa.select(Category).where(Category.is_active).order_by(Category.position, Category.id)
        )
    )


def need_assignments(need: Need) -> list[Assignment]:
    return list(
        db.session.scalars(
            sa.select(Assignment)
            .options(joinedload(Assignment.organisation))
            .where(Assignment.need_id == need.id)
            .order_by(Assignment.id)
        )
    )


def need_requests(need: Need) -> list[AssignmentRequest]:
    return list(
        db.session.scalars(
            sa.select(AssignmentRequest)
            .join(Assignment, Assignment.id == AssignmentRequest.assignment_id)
            .options(
                joinedload(AssignmentRequest.assignment).joinedload(Assignment.organisation),
                joinedload(AssignmentRequest.to_organisation),
            )
            .where(Assignment.need_id == need.id, AssignmentRequest.state == RequestState.PENDING)
            .order_by(AssignmentRequest.id)
        )
    )


def full_timeline(need: Need) -> list[TimelineEvent]:
    """Every step, internal notes included: for admins only."""
    return list(
        db.session.scalars(
            sa.select(TimelineEvent)
            .options(joinedload(TimelineEvent.organisation), joinedload(TimelineEvent.actor))
            .where(TimelineEvent.need_id == need.id)
            .order_by(TimelineEvent.id)
        )
    )


def need_by_ref(ref: str) -> Need | None:
    ref = (ref or "").strip().upper()
    if not ref or len(ref) > 20:
        return None
    return db.session.scalar(sa.select(Need).where(Need.ref == ref))


def duplicate_candidates(need: Need, q: str = "", limit: int = 8) -> list[Need]:
    """Published needs this one may duplicate: by reference or title words, or
    the ones with similar titles when nothing is typed."""
    q = bounded_text(q, 100)
    if not q:
        return [n for n in similar_needs(need.title, limit + 1) if n.id != need.id][:limit]
    stmt = (
        sa.select(Need).options(joinedload(Need.category)).where(Need.is_listed, Need.id != need.id)
    )
    for term in _search_terms(q):
        stmt = stmt.where(
            sa.or_(
                Need.ref.icontains(term, autoescape=True),
                Need.title.icontains(term, autoescape=True),
            )
        )
    return list(db.session.scalars(stmt.order_by(Need.id.desc()).limit(limit)))


# --- due dates --------------------------------------------------------------


def default_due_dates(sla_days: set[int], now: datetime | None = None) -> dict[int, date]:
    """The local date of the default resolution due date for each SLA length,
    with one calendar query whatever the number of rows (the same rule as
    portal.workdays.add_working_days: the n-th working day after today)."""
    sla_days = {d for d in sla_days if d and d > 0}
    if not sla_days:
        return {}
    today = (now or utcnow()).astimezone(local_zone()).date()
    horizon = today + timedelta(days=max(sla_days) * 3 + 60)
    overrides = dict(
        db.session.execute(
            sa.select(CalendarDay.day, CalendarDay.kind).where(
                CalendarDay.day > today, CalendarDay.day <= horizon
            )
        ).all()
    )
    result: dict[int, date] = {}
    day, counted = today, 0
    while len(result) < len(sla_days) and day < horizon:
        day += timedelta(days=1)
        if is_working_day(day, overrides):
            counted += 1
            if counted in sla_days:
                result[counted] = day
    for days in sla_days - result.keys():  # a calendar with very long holidays
        result[days] = add_working_days(now or utcnow(), days).astimezone(local_zone()).date()
    return result


def due_at_from_local_date(day: date) -> datetime:
    """The end of that day in local time, in UTC (as the workflow's defaults)."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=local_zone()).astimezone(UTC)


def check_due_date(day: date | None, now: datetime | None = None) -> datetime | None:
    if day is None:
        return None
    today = (now or utcnow()).astimezone(local_zone()).date()
    if day < today:
        raise TriageError(_("The due date cannot be in the past."), "due_date")
    if day > today + timedelta(days=MAX_DUE_DAYS):
        raise TriageError(_("The due date must be within a year."), "due_date")
    return due_at_from_local_date(day)


# --- moves ---------------------------------------------------------------------


def _active_partner(organisation: Organisation | None) -> Organisation:
    if organisation is None or not organisation.is_active:
        raise TriageError(_("Choose an active partner organisation."), "organisation")
    return organisation


def auto_route_partner(need: Need) -> Organisation | None:
    """The partner a publish routes to when automatic routing is on: the best
    routing rule's, else the category's default partner (portal.routing)."""
    if not get_flag(ROUTE_ON_PUBLISH):
        return None
    return partner_for(need)


def publish_need(need: Need, admin: User, *, auto_route: bool = True) -> Organisation | None:
    """Publish; with the ROUTE_ON_PUBLISH rule on and an active default partner,
    route at once with the default due date. Returns that partner, if any."""
    transition(need, "publish", _actor(admin))
    partner = auto_route_partner(need) if auto_route else None
    if partner is not None:
        transition(need, "route", _actor(admin), organisation=partner)
    return partner


def route_need(
    need: Need,
    admin: User,
    organisation: Organisation | None,
    *,
    due_at: datetime | None = None,
    note: str = "",
    supporters: list[Organisation] = (),
) -> None:
    """Send the need to a lead partner, with supporting partners if named; a
    need not yet published is published first."""
    organisation = _active_partner(organisation)
    if need.status == NeedStatus.SUBMITTED:
        transition(need, "publish", _actor(admin))
    transition(need, "route", _actor(admin), organisation=organisation, due_at=due_at, text=note)
    cohandlers.add_co_handlers(need, list(supporters), admin)


def transfer_need(
    need: Need,
    admin: User,
    organisation: Organisation | None,
    *,
    reason: str,
    due_at: datetime | None = None,
) -> None:
    organisation = _active_partner(organisation)
    transition(
        need, "transfer", _actor(admin), organisation=organisation, text=reason, due_at=due_at
    )


def make_move(need: Need, admin: User, move: str, text: str = "") -> None:
    """A move of the workflow's table that no triage function describes."""
    transition(need, move, _actor(admin), text=text)


def reject_need(need: Need, admin: User, reason: str) -> None:
    transition(need, "reject", _actor(admin), text=reason)


def close_unresolved(need: Need, admin: User, reason: str) -> None:
    transition(need, "close_unresolved", _actor(admin), text=reason)


def _check_editable(need: Need) -> None:
    if not need.status.is_editable:
        raise TriageError(_("This need can no longer be edited."))


def correct_title(need: Need, admin: User, title: str) -> None:
    """The old title stays on the timeline."""
    _check_editable(need)
    title = (title or "").strip()
    old = need.title
    if title == old:
        raise TriageError(_("The title is unchanged."), "title")
    need.title = title
    record_event(need, "title_corrected", _actor(admin), text=f"{old} → {title}")


def change_category(need: Need, admin: User, category: Category | None) -> None:
    _check_editable(need)
    if category is None or not category.is_active:
        raise TriageError(_("Please choose a category."), "category")
    if category.id == need.category_id:
        raise TriageError(_("The need is already in this category."), "category")
    old = need.category
    need.category = category
    record_event(need, "category_changed", _actor(admin), text=f"{old.name} → {category.name}")


def correct_position(need: Need, admin: User, point: Point | None) -> None:
    """Place, move or remove the need's pin. Not on the timeline, which is
    public: the audit log keeps the exact points before and after."""
    _check_editable(need)
    before = exact_point(need)
    if point == before:
        raise TriageError(_("The position is unchanged."), "lat")
    need.lat, need.lon = (point.lat, point.lon) if point else (None, None)
    record(
        admin,
        "need.position_corrected",
        need,
        before={"lat": before.lat if before else None, "lon": before.lon if before else None},
        after={"lat": need.lat, "lon": need.lon},
    )


def add_note(need: Need, admin: User, text: str) -> None:
    record_event(need, "note", _actor(admin), text=text)


def _insert_from_select(model, select, columns):
    return dialect_insert(model).from_select(columns, select).on_conflict_do_nothing()


def _move_member_rows(model, from_id: int, to_id: int) -> None:
    """Copy the rows (one per member) the kept need lacks, then delete the
    duplicate's: a member who had both ends with one."""
    already = sa.select(model.user_id).where(model.need_id == to_id)
    rows = sa.select(model.user_id, sa.literal(to_id, sa.Integer), model.created_at).where(
        model.need_id == from_id, model.user_id.not_in(already)
    )
    db.session.execute(_insert_from_select(model, rows, ["user_id", "need_id", "created_at"]))
    db.session.execute(sa.delete(model).where(model.need_id == from_id))


def merge_duplicate(need: Need, kept: Need | None, admin: User) -> None:
    """Mark `need` as a duplicate of `kept`; its supports and followers move to
    `kept` (without doubles) and both support counts are recounted in SQL."""
    if kept is None:
        raise TriageError(_("No need has this reference."), "duplicate_of")
    if kept.id == need.id:
        raise TriageError(_("A need cannot duplicate itself."), "duplicate_of")
    if kept.status == NeedStatus.DUPLICATE:
        raise TriageError(
            _("That need is itself a duplicate; choose the one it was merged into."),
            "duplicate_of",
        )
    transition(need, "mark_duplicate", _actor(admin), duplicate_of=kept, text=kept.ref or "")
    db.session.flush()
    _move_member_rows(Support, need.id, kept.id)
    _move_member_rows(Follow, need.id, kept.id)
    recount = (
        sa.select(sa.func.count(Support.id)).where(Support.need_id == Need.id).scalar_subquery()
    )
    db.session.execute(
        sa.update(Need)
        .where(Need.id.in_([need.id, kept.id]))
        .values(support_count=recount)
        .execution_options(synchronize_session=False)
    )
    db.session.expire(need, ["support_count"])
    db.session.expire(kept, ["support_count"])


# --- bulk ------------------------------------------------------------------------


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (ref, reason)


def bulk_apply(
    action: str,
    refs: list[str],
    admin: User,
    *,
    organisation: Organisation | None = None,
    due_at: datetime | None = None,
    note: str = "",
) -> BulkResult:
    """Publish or route every selected need that can be; report the others.
    Each need is checked before it is changed, so a refusal changes nothing.
    A flagged need that is not yet published is refused here."""
    if action == "route":
        organisation = _active_partner(organisation)
    result = BulkResult()
    found = {
        n.ref: n
        for n in db.session.scalars(
            sa.select(Need)
            .options(joinedload(Need.category).joinedload(Category.default_partner))
            .where(Need.ref.in_(refs))
        )
    }
    actor = _actor(admin)
    # Needs the screening flags (a listed term, too many links) are published
    # one by one, on the page that shows why (portal.moderation).
    flagged_needs = need_flags(found.values())
    # Once areas are in use, a need is routed only with its area (the
    # workflow's check): refused here first, so that publishing with the
    # routing rule on does not publish a need it cannot route.
    area_required = any_area_exists()
    for ref in refs:
        need = found.get(ref)
        if need is None:
            result.failed.append((ref, _("No need has this reference.")))
            continue
        moves = allowed_moves(need, actor)
        if "publish" in moves and flagged_needs.get(need.id):
            message = _("Flagged: publish it from its own page after reading it.")
            result.failed.append((ref, message))
            continue
        if action == "publish" and "publish" not in moves:
            result.failed.append((ref, _("Only needs awaiting review can be published.")))
            continue
        if action == "route" and "publish" not in moves and "route" not in moves:
            result.failed.append((ref, _("Only needs in triage can be routed.")))
            continue
        if (
            area_required
            and need.area_id is None
            and (action == "route" or auto_route_partner(need) is not None)
        ):
            result.failed.append((ref, _("Choose the need's area before sending it to a partner.")))
            continue
        try:
            if action == "publish":
                publish_need(need, admin)
            else:
                route_need(need, admin, organisation, due_at=due_at, note=note)
        except WorkflowError as error:  # checked above; kept as a safety net
            result.failed.append((ref, str(error)))
            continue
        result.done.append(ref)
    return result


# --- staff-assisted intake ---------------------------------------------------------


def intake_locale() -> str:
    return current_locale_code() or current_app.config["BABEL_DEFAULT_LOCALE"]
