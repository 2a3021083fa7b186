"""The partner workspace: the inbox of a partner organisation, what its staff
may do on a need now, and the reminders (催办) for missed due dates.

Every read here is scoped to one organisation and the organisations under it
(`portal.partners.hierarchy`): a partner never sees another partner's need,
nor its parent's or a sibling's, whatever URL it asks for; an organisation
above reads what those under it handle, and may reassign it within its
subtree. Status changes go through the workflow; these functions only choose
which moves to offer and check them again when a form comes back (the page
may be stale)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, joinedload

from portal.auth.models import Role, User
from portal.core.params import bounded_text, page_number
from portal.core.settings import ESCALATE_AFTER_DAYS, get_int
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.location import Point, exact_point, public_point
from portal.needs.models import Need
from portal.notify.services import public_url, queue_email
from portal.partners import cohandlers, hierarchy
from portal.partners import services as partner_services
from portal.partners.models import (
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    AssignmentRequest,
    AssignmentState,
    CoHandler,
    Organisation,
    RequestState,
)
from portal.workdays.services import (
    end_of_local_day,
    local_today,
    local_zone,
    start_of_local_day,
    working_days_between,
)
from portal.workflow.models import TimelineEvent
from portal.workflow.services import (
    MOVES,
    Actor,
    ActorRole,
    WorkflowError,
    allowed_moves,
    open_assignment,
    record_event,
    transition,
)

INBOX_PER_PAGE = 20
#: Offsets stay cheap: deeper pages are narrowed with the filters instead.
INBOX_MAX_PAGE = 50
REMINDER_BATCH = 100

ASSIGNMENT_STATE_LABELS = {
    AssignmentState.PENDING: _l("Waiting for your answer"),
    AssignmentState.ACCEPTED: _l("Accepted"),
    AssignmentState.DECLINED: _l("Declined"),
    AssignmentState.COMPLETED: _l("Answered"),
    AssignmentState.TRANSFERRED: _l("Transferred"),
    AssignmentState.CANCELLED: _l("Cancelled"),
}

#: The filters of the inbox (`?state=`).
INBOX_STATES = {
    "pending": _l("Waiting for your answer"),
    "accepted": _l("Accepted"),
    "overdue": _l("Overdue"),
}
#: Whose needs the inbox lists (`?scope=`): the organisation's own (""), or
#: those the organisations under it lead or support.
INBOX_SCOPES = {"": _l("Your organisation"), "below": _l("In your organisations")}


def assignment_state_label(state: AssignmentState) -> str:
    return str(ASSIGNMENT_STATE_LABELS[state])


def _due_now():
    """The deadline that matters now: the first response while the assignment
    waits for an answer, the resolution once it is accepted."""
    return sa.case(
        (Assignment.state == AssignmentState.PENDING, Assignment.response_due_at),
        else_=Assignment.due_at,
    )


def due_now(assignment: Assignment) -> datetime:
    if assignment.state == AssignmentState.PENDING:
        return assignment.response_due_at
    return assignment.due_at


def is_overdue(assignment: Assignment, now: datetime | None = None) -> bool:
    return assignment.is_open and (now or utcnow()) > due_now(assignment)


# --- the inbox ---------------------------------------------------------------


@dataclass
class InboxFilters:
    state: str = ""
    q: str = ""
    page: int = 1
    scope: str = ""

    @classmethod
    def from_args(cls, args) -> InboxFilters:
        state = args.get("state", "")
        scope = args.get("scope", "")
        return cls(
            state=state if state in INBOX_STATES else "",
            q=bounded_text(args.get("q"), 100),
            page=page_number(args.get("page"), INBOX_MAX_PAGE),
            scope=scope if scope in INBOX_SCOPES else "",
        )

    def as_args(self, **changes) -> dict[str, str]:
        values = {"state": self.state, "q": self.q, "scope": self.scope, **changes}
        return {k: str(v) for k, v in values.items() if v}


@dataclass
class InboxItem:
    assignment: Assignment
    need: Need
    due_at: datetime
    overdue: bool


@dataclass
class InboxPage:
    items: list[InboxItem]
    page: int
    has_next: bool


def _below(organisation: Organisation):
    """The open assignments of the needs the organisations under this one
    handle: theirs, and the lead's of the needs they support."""
    below = hierarchy.subtree_ids(organisation.path, strict=True)
    supported_below = (
        sa.select(CoHandler.id)
        .where(CoHandler.need_id == Need.id, CoHandler.organisation_id.in_(below))
        .exists()
    )
    return sa.and_(
        Assignment.organisation_id != organisation.id,
        sa.or_(
            Assignment.organisation_id.in_(below),
            sa.and_(Assignment.organisation_id == Need.assigned_organisation_id, supported_below),
        ),
    )


def inbox_page(
    organisation: Organisation, filters: InboxFilters, now: datetime | None = None
) -> InboxPage:
    """The organisation's open assignments (or, with the scope "below", those
    of the needs the organisations under it lead or support), overdue first,
    then the newest. One query, whatever the page holds."""
    now = now or utcnow()
    overdue = sa.case((_due_now() < now, 1), else_=0)
    stmt = (
        sa.select(Assignment, Need, overdue.label("overdue"))
        .join(Need, Need.id == Assignment.need_id)
        .options(joinedload(Need.category))
        .where(Assignment.state.in_(OPEN_ASSIGNMENT_STATES))
    )
    if filters.scope == "below":
        stmt = stmt.where(_below(organisation)).options(joinedload(Assignment.organisation))
    else:
        stmt = stmt.where(Assignment.organisation_id == organisation.id)
    if filters.state == "pending":
        stmt = stmt.where(Assignment.state == AssignmentState.PENDING)
    elif filters.state == "accepted":
        stmt = stmt.where(Assignment.state == AssignmentState.ACCEPTED)
    elif filters.state == "overdue":
        stmt = stmt.where(_due_now() < now)
    for term in [t for t in filters.q.split(" ") if t][:5]:
        stmt = stmt.where(
            sa.or_(
                Need.title.icontains(term, autoescape=True),
                Need.ref.icontains(term, autoescape=True),
            )
        )
    rows = db.session.execute(
        stmt.order_by(overdue.desc(), Assignment.id.desc())
        .offset((filters.page - 1) * INBOX_PER_PAGE)
        .limit(INBOX_PER_PAGE + 1)
    ).all()
    items = [
        InboxItem(assignment, need, due_now(assignment), bool(late))
        for assignment, need, late in rows[:INBOX_PER_PAGE]
    ]
    return InboxPage(
        items=items,
        page=filters.page,
        has_next=len(rows) > INBOX_PER_PAGE and filters.page < INBOX_MAX_PAGE,
    )


def inbox_counts(organisation_id: int, now: datetime | None = None) -> dict[str, int]:
    """Pending, accepted and overdue open assignments, in one grouped query."""
    now = now or utcnow()
    rows = db.session.execute(
        sa.select(
            Assignment.state,
            sa.func.count(Assignment.id),
            sa.func.sum(sa.case((_due_now() < now, 1), else_=0)),
        )
        .where(
            Assignment.organisation_id == organisation_id,
            Assignment.state.in_(OPEN_ASSIGNMENT_STATES),
        )
        .group_by(Assignment.state)
    ).all()
    counts = {"pending": 0, "accepted": 0, "overdue": 0}
    for state, count, late in rows:
        counts[AssignmentState(state).value] = count
        counts["overdue"] += int(late or 0)
    return counts


# --- one need ----------------------------------------------------------------


def _routed_here(need_id, organisation_id: int):
    """The need is (or was) routed to this organisation or one under it, or
    one of them supports it. Read from the need's few assignments and
    supporters: their organisation's path names this one."""
    return sa.or_(
        sa.select(Assignment.id)
        .join(Organisation, Organisation.id == Assignment.organisation_id)
        .where(Assignment.need_id == need_id, hierarchy.within(organisation_id))
        .exists(),
        sa.select(CoHandler.id)
        .join(Organisation, Organisation.id == CoHandler.organisation_id)
        .where(CoHandler.need_id == need_id, hierarchy.within(organisation_id))
        .exists(),
    )


def workspace_need(ref: str, organisation_id: int | None) -> Need | None:
    """The need, if it is (or was) routed to this organisation or one under
    it, or supported by one of them; else None."""
    if organisation_id is None:
        return None
    return db.session.scalar(
        sa.select(Need)
        .options(joinedload(Need.category), joinedload(Need.contact), joinedload(Need.submitter))
        .where(Need.ref == ref, _routed_here(Need.id, organisation_id))
    )


def is_routed_to(need_id: int, organisation_id: int | None) -> bool:
    """Whether this organisation may read the need (the same rule as its workspace)."""
    if organisation_id is None:
        return False
    return bool(db.session.scalar(sa.select(_routed_here(need_id, organisation_id))))


def latest_assignment(need: Need, organisation_id: int) -> Assignment | None:
    """This organisation's newest assignment for the need, open or not."""
    return db.session.scalar(
        sa.select(Assignment)
        .where(Assignment.need_id == need.id, Assignment.organisation_id == organisation_id)
        .order_by(Assignment.id.desc())
        .limit(1)
    )


#: The internal steps between the lead and its supporters, which the lead reads too.
CO_HANDLING_EVENTS = ("input_requested", "input_given")


def partner_timeline(need: Need, organisation_id: int) -> list[TimelineEvent]:
    """The public steps, plus the internal ones written by this organisation
    or one under it (or about them, e.g. reminders) and by the administrators;
    the lead, and the organisations above it, also read the supporters' inputs."""
    visible = [
        TimelineEvent.internal.is_(False),
        hierarchy.within(organisation_id),  # the event's organisation (outer join)
        TimelineEvent.actor_role == "admin",
    ]
    lead = need.assigned_organisation
    if lead is not None and lead.is_within(organisation_id):
        visible.append(TimelineEvent.move.in_(CO_HANDLING_EVENTS))
    return list(
        db.session.scalars(
            sa.select(TimelineEvent)
            .outerjoin(Organisation, Organisation.id == TimelineEvent.organisation_id)
            .options(contains_eager(TimelineEvent.organisation))
            .where(TimelineEvent.need_id == need.id, sa.or_(*visible))
            .order_by(TimelineEvent.id)
        )
    )


@dataclass
class Oversight:
    """What an organisation above sees of a need that one under it handles:
    which one, as lead or supporting, and that one's latest assignment."""

    organisation: Organisation
    assignment: Assignment | None
    leads: bool


def oversight(need: Need, organisation_id: int, co_handlers: list[CoHandler]) -> Oversight | None:
    """For an organisation that reads the need only because one under it
    handles it (it has no assignment of its own and does not support it):
    that organisation, the lead first. One query."""
    assignment = db.session.scalar(
        sa.select(Assignment)
        .join(Organisation, Organisation.id == Assignment.organisation_id)
        .options(contains_eager(Assignment.organisation))
        .where(
            Assignment.need_id == need.id,
            hierarchy.within(organisation_id),
            Organisation.id != organisation_id,
        )
        .order_by(
            (Assignment.organisation_id == need.assigned_organisation_id).desc(),
            Assignment.id.desc(),
        )
        .limit(1)
    )
    if assignment is not None:
        leads = assignment.organisation_id == need.assigned_organisation_id
        return Oversight(assignment.organisation, assignment, leads)
    supporter = next((c for c in co_handlers if c.organisation.is_below(organisation_id)), None)
    if supporter is not None:
        return Oversight(supporter.organisation, None, False)
    return None


def pending_request_kinds(assignment: Assignment | None) -> set[str]:
    if assignment is None:
        return set()
    return {
        kind.value
        for kind in db.session.scalars(
            sa.select(AssignmentRequest.kind).where(
                AssignmentRequest.assignment_id == assignment.id,
                AssignmentRequest.state == RequestState.PENDING,
            )
        )
    }


def partner_point(need: Need, staff: User) -> tuple[Point | None, bool]:
    """The need's position as this staff member may see it, and whether it is
    exact: exact for the partner the need is assigned to, rounded like on the
    public page for one it was only proposed to or that handed it on."""
    if need.assigned_organisation_id == staff.organisation_id:
        return exact_point(need), True
    return public_point(need), False


def contact_email(need: Need, staff: User) -> str:
    """The submitter's address, only while the need is open with this partner
    (to follow up); afterwards it is none of the partner's business."""
    if not need.status.is_with_partner:
        return ""
    if need.assigned_organisation_id != staff.organisation_id:
        return ""
    if open_assignment(need, staff.organisation_id) is None:
        return ""
    if need.contact is not None and need.contact.email:
        return need.contact.email
    return need.submitter.email if need.submitter is not None else ""


def available_actions(need: Need, staff: User) -> list[str]:
    """What this staff member may do on the need now: the workflow's moves for
    them, plus the steps that do not move the status. A partner proposed by a
    transfer may only accept, decline the transfer or write a note until it
    accepts; the first partner stays answerable meanwhile."""
    if staff.role != Role.PARTNER:
        return []
    moves = allowed_moves(need, Actor.staff(staff))
    # An organisation above the lead: reassign within its own subtree.
    from_above = [m for m in moves if MOVES[m].from_above]
    if open_assignment(need, staff.organisation_id) is None:
        return _supporter_actions(need, staff) + from_above
    if need.assigned_organisation_id != staff.organisation_id:
        return [m for m in moves if m in ("accept", "decline_transfer")] + ["note"] + from_above
    actions = [m for m in moves if m != "decline_transfer"]
    if need.status.is_in_work:
        actions.append("update")
    actions.append("note")
    if need.status.is_with_partner:
        actions.append("extension")
    if need.status in MOVES["transfer"].sources:
        # The admin confirms a transfer with the workflow's `transfer` move,
        # which only exists before the need is accepted.
        actions.append("transfer")
    if need.status.is_with_partner and cohandlers.co_handlers_of(need):
        actions.append("ask_input")
    return actions


def _supporter_actions(need: Need, staff: User) -> list[str]:
    """A supporting partner (协办): its input, progress updates and notes,
    while the need is with the partners."""
    supporter = cohandlers.co_handler(need, staff.organisation_id)
    if supporter is None or not need.status.is_with_partner:
        return []
    return ["input", "update", "note"]


def _check(need: Need, staff: User, action: str) -> None:
    if action not in available_actions(need, staff):
        raise WorkflowError(_("This action is not possible on this need now."))


def is_partner_move(name: str) -> bool:
    """A move of the workflow's table that partner staff make."""
    move = MOVES.get(name)
    return move is not None and ActorRole.PARTNER in move.roles


def make_move(need: Need, staff: User, move: str, text: str = "") -> TimelineEvent:
    if not is_partner_move(move):
        raise WorkflowError(_("Unknown action."))
    _check(need, staff, move)
    return transition(need, move, Actor.staff(staff), text=text)


def post_update(need: Need, staff: User, text: str) -> TimelineEvent:
    """A public progress update: the submitter and followers hear about it."""
    _check(need, staff, "update")
    return record_event(need, "update", Actor.staff(staff), text=text)


def add_note(need: Need, staff: User, text: str) -> TimelineEvent:
    """An internal note: only this organisation and the admins read it."""
    _check(need, staff, "note")
    return record_event(need, "note", Actor.staff(staff), text=text)


def ask_for_more_time(need: Need, staff: User, new_due: date, reason: str) -> AssignmentRequest:
    """The new due date is the end of that day, local time."""
    _check(need, staff, "extension")
    if new_due <= local_today():
        raise WorkflowError(_("The new due date must be in the future."))
    return partner_services.request_extension(need, staff, end_of_local_day(new_due), reason)


def ask_for_transfer(
    need: Need, staff: User, organisation_id: int | None, reason: str
) -> AssignmentRequest:
    _check(need, staff, "transfer")
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None:
        raise WorkflowError(_("Choose another, active partner organisation."))
    return partner_services.request_transfer(need, staff, organisation, reason)


def reassign(need: Need, staff: User, organisation_id: int | None, reason: str) -> TimelineEvent:
    """Move the need from the organisation under this one that leads it to
    another organisation of this one's subtree (itself included)."""
    _check(need, staff, "reassign")
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None:
        raise WorkflowError(_("Choose one of your organisations."), "organisation")
    return transition(need, "reassign", Actor.staff(staff), text=reason, organisation=organisation)


def reassign_choices(need: Need, staff: User) -> list[tuple[int, str]]:
    """The staff member's organisation and the active ones under it, but the
    need's lead, labelled with the way down to them."""
    organisations = hierarchy.subtree_organisations(staff.organisation)
    return hierarchy.choices(organisations, leave_out={need.assigned_organisation_id})


def transfer_choices(staff: User) -> list[tuple[int, str]]:
    """The other active organisations, by name."""
    organisations = db.session.scalars(
        sa.select(Organisation)
        .where(Organisation.is_active, Organisation.id != staff.organisation_id)
        .order_by(Organisation.name_zh, Organisation.id)
    )
    return [(o.id, o.name) for o in organisations]


# --- reminders (催办) and escalation ------------------------------------------


def _claim(assignment_id: int, column, now: datetime) -> bool:
    """Set the column if it is still empty. The database decides, so two runs
    at the same time cannot both send: the second one's UPDATE waits for the
    first one's row lock and then finds the column set."""
    result = db.session.execute(
        sa.update(Assignment)
        .where(
            Assignment.id == assignment_id,
            column.is_(None),
            Assignment.state.in_(OPEN_ASSIGNMENT_STATES),
        )
        .values({column.key: now})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def send_reminders(now: datetime | None = None) -> tuple[int, int]:
    """Remind the partner's staff from the day after a missed due date, then
    escalate to the admins after ESCALATE_AFTER_DAYS further working days.
    Each happens once per assignment; safe to run at any frequency. Commits
    after every batch. Returns (reminded, escalated)."""
    now = now or utcnow()
    return _remind(now), _escalate(now)


def _batches(stmt, batch: int = REMINDER_BATCH):
    """Candidate assignments by ascending id, one batch at a time."""
    last_id = 0
    while True:
        rows = list(
            db.session.scalars(
                stmt.where(Assignment.id > last_id).order_by(Assignment.id).limit(batch)
            )
        )
        if not rows:
            return
        last_id = rows[-1].id
        yield rows


def _remind(now: datetime) -> int:
    start_of_today = start_of_local_day(now)
    candidates = sa.select(Assignment).where(
        Assignment.state.in_(OPEN_ASSIGNMENT_STATES),
        Assignment.due_at < start_of_today,
        Assignment.reminded_at.is_(None),
    )
    reminded = 0
    for batch in _batches(candidates):
        needs = {
            n.id: n
            for n in db.session.scalars(
                sa.select(Need).where(Need.id.in_({a.need_id for a in batch}))
            )
        }
        staff: dict[int, list[User]] = {}
        for user in db.session.scalars(
            sa.select(User)
            .where(
                User.organisation_id.in_({a.organisation_id for a in batch}),
                User.role == Role.PARTNER,
                User.active,
            )
            .order_by(User.id)
        ):
            staff.setdefault(user.organisation_id, []).append(user)
        organisations = {
            o.id: o
            for o in db.session.scalars(
                sa.select(Organisation).where(
                    Organisation.id.in_({a.organisation_id for a in batch})
                )
            )
        }
        for assignment in batch:
            if not _claim(assignment.id, Assignment.reminded_at, now):
                continue
            need = needs[assignment.need_id]
            _queue_reminder_emails(
                need, assignment, organisations[assignment.organisation_id], staff
            )
            record_event(
                need, "reminder", Actor.system(), organisation_id=assignment.organisation_id
            )
            reminded += 1
        db.session.commit()
    return reminded


def _queue_reminder_emails(
    need: Need, assignment: Assignment, organisation: Organisation, staff: dict[int, list[User]]
) -> None:
    link = public_url("partner.need", ref=need.ref)
    for user in staff.get(assignment.organisation_id, []):
        queue_email(
            user.email,
            "partner_reminder",
            user.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
            need=need,
            organisation=organisation,
            due_at=assignment.due_at,
            need_url=link,
        )


def _escalate(now: datetime) -> int:
    after_days = get_int(ESCALATE_AFTER_DAYS)
    candidates = sa.select(Assignment).where(
        Assignment.state.in_(OPEN_ASSIGNMENT_STATES),
        Assignment.reminded_at.is_not(None),
        Assignment.escalated_at.is_(None),
        Assignment.due_at < now,
    )
    late_by: dict[date, int] = {}  # working days depend only on the due day
    escalated = 0
    for batch in _batches(candidates):
        needs = {
            n.id: n
            for n in db.session.scalars(
                sa.select(Need).where(Need.id.in_({a.need_id for a in batch}))
            )
        }
        for assignment in batch:
            due_day = assignment.due_at.astimezone(local_zone()).date()
            if due_day not in late_by:
                late_by[due_day] = working_days_between(assignment.due_at, now)
            if late_by[due_day] < after_days:
                continue
            if not _claim(assignment.id, Assignment.escalated_at, now):
                continue
            record_event(
                needs[assignment.need_id],
                "escalated",
                Actor.system(),
                organisation_id=assignment.organisation_id,
            )
            escalated += 1
        db.session.commit()
    return escalated
