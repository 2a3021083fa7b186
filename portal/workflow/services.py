"""The state machine of DESIGN.md as a table of allowed moves and who may make them.

Every move goes through `transition()`: it checks the table, changes the need,
appends a timeline event and announces it (`portal.workflow.signals`; notify
queues its e-mails) in the caller's transaction. Views and other services
never assign `need.status` themselves.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.areas.models import any_area_exists
from portal.audit.services import record
from portal.auth.models import Role, User
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import (
    Need,
    NeedStatus,
    Outcome,
    Visibility,
)
from portal.partners.models import (
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    AssignmentState,
    CoHandler,
    Organisation,
)
from portal.workdays.services import add_working_days
from portal.workflow.models import TimelineEvent
from portal.workflow.signals import need_event_recorded, need_moved
from portal.workflow.statuses import with_trait

S = NeedStatus


class ActorRole(enum.StrEnum):
    PUBLIC = "public"  # anyone, with or without an account, before a need exists
    SUBMITTER = "submitter"  # the person who asked: by account or tracking token
    PARTNER = "partner"  # staff of the organisation the need is routed to (or one above it)
    ADMIN = "admin"
    SYSTEM = "system"  # timers, e.g. closing 14 days after resolution


@dataclass(frozen=True)
class Actor:
    role: ActorRole
    user: User | None = None
    #: The caller checked the private tracking token of this need.
    token_verified: bool = False

    @classmethod
    def public(cls, user: User | None = None) -> Actor:
        return cls(ActorRole.PUBLIC, user)

    @classmethod
    def submitter(cls, user: User | None = None, *, token_verified: bool = False) -> Actor:
        return cls(ActorRole.SUBMITTER, user, token_verified)

    @classmethod
    def staff(cls, user: User) -> Actor:
        role = ActorRole.ADMIN if user.role == Role.ADMIN else ActorRole.PARTNER
        return cls(role, user)

    @classmethod
    def system(cls) -> Actor:
        return cls(ActorRole.SYSTEM)


@dataclass(frozen=True)
class MoveContext:
    """What one move works with, handed to its check and its effect."""

    need: Need
    actor: Actor
    now: datetime
    text: str
    organisation: Organisation | None
    due_at: datetime | None

    @property
    def acting_organisation_id(self) -> int | None:
        return self.actor.user.organisation_id if self.actor.role == ActorRole.PARTNER else None


def _no_check(ctx: MoveContext) -> None:
    return None


def _no_effect(ctx: MoveContext) -> int | None:
    return None


@dataclass(frozen=True)
class Move:
    """One row of the state machine: who may move a need from which statuses to
    which, what it requires, what else it changes (its effect on the
    assignments and the need's dates, returning the organisation the timeline
    event concerns) and whether followers hear of it."""

    name: str
    sources: frozenset[NeedStatus | None]
    target: NeedStatus
    roles: frozenset[ActorRole]
    label: object  # a lazy string shown on the timeline
    needs_text: bool = False
    outcome: Outcome | None = None
    extra: tuple[str, ...] = field(default=())
    check: Callable[[MoveContext], None] = _no_check
    effect: Callable[[MoveContext], int | None] = _no_effect
    #: The submitter and followers are told (unless the step is internal).
    notifies: bool = True
    #: Partner staff make it from an organisation above the lead in the
    #: organisations' hierarchy, not through an assignment of their own.
    from_above: bool = False


def _move(name, sources, target, roles, label, **kw) -> Move:
    return Move(name, frozenset(sources), target, frozenset(roles), label, **kw)


# --- what each move checks and changes besides the status ------------------------------


def _open_assignments(need: Need) -> list[Assignment]:
    return list(
        db.session.scalars(
            sa.select(Assignment).where(
                Assignment.need_id == need.id, Assignment.state.in_(OPEN_ASSIGNMENT_STATES)
            )
        )
    )


def _cancel_open_assignments(ctx: MoveContext) -> int | None:
    for other in _open_assignments(ctx.need):
        other.state = AssignmentState.CANCELLED
    return ctx.need.assigned_organisation_id


def _publish(ctx: MoveContext) -> None:
    ctx.need.published_at = ctx.now


def _check_transfer(ctx: MoveContext) -> None:
    if open_assignment(ctx.need, ctx.organisation.id) is not None:
        raise WorkflowError(_("The need is already with this partner."))


def _assign(ctx: MoveContext) -> int:
    """Route and transfer: a new assignment with both deadlines in working days."""
    need, category = ctx.need, ctx.need.category
    db.session.add(
        Assignment(
            need_id=need.id,
            organisation_id=ctx.organisation.id,
            assigned_by_id=ctx.actor.user.id if ctx.actor.user else None,
            note=ctx.text,
            created_at=ctx.now,
            response_due_at=add_working_days(ctx.now, category.response_sla_days),
            due_at=ctx.due_at or add_working_days(ctx.now, category.resolution_sla_days),
        )
    )
    return ctx.organisation.id


def _check_area(ctx: MoveContext) -> None:
    """A need is routed with its area once areas are in use (a portal without
    any routes as before)."""
    if ctx.need.area_id is None and any_area_exists():
        raise WorkflowError(_("Choose the need's area before sending it to a partner."), "area")


def _route(ctx: MoveContext) -> int:
    ctx.need.assigned_organisation_id = ctx.organisation.id
    return _assign(ctx)


def _accept(ctx: MoveContext) -> int | None:
    need, acting = ctx.need, ctx.acting_organisation_id
    mine = open_assignment(need, acting)
    mine.state = AssignmentState.ACCEPTED
    mine.responded_at = ctx.now
    transferred = acting != need.assigned_organisation_id
    for other in _open_assignments(need):
        if other.id != mine.id:
            # Accepting a transfer relieves the first receiver; the first
            # receiver accepting after all withdraws the proposed transfer.
            other.state = AssignmentState.TRANSFERRED if transferred else AssignmentState.CANCELLED
    need.assigned_organisation_id = acting
    return acting


def _check_reassign(ctx: MoveContext) -> None:
    """Within the organisations of the one that reassigns (itself included)."""
    if not ctx.organisation.is_within(ctx.acting_organisation_id):
        raise WorkflowError(_("Choose one of your organisations."))
    if ctx.organisation.id == ctx.need.assigned_organisation_id:
        raise WorkflowError(_("The need is already with this partner."))


def _reassign(ctx: MoveContext) -> int:
    """The lead's assignment is handed on (a proposed transfer withdrawn) and
    the chosen organisation gets its own, with fresh deadlines."""
    lead = ctx.need.assigned_organisation_id
    for other in _open_assignments(ctx.need):
        other.state = (
            AssignmentState.TRANSFERRED
            if other.organisation_id == lead
            else AssignmentState.CANCELLED
        )
    return _route(ctx)


def _check_decline(ctx: MoveContext) -> None:
    if ctx.actor.user.organisation_id != ctx.need.assigned_organisation_id:
        raise WorkflowError(_("Decline the proposed transfer instead."))


def _check_decline_transfer(ctx: MoveContext) -> None:
    if ctx.actor.user.organisation_id == ctx.need.assigned_organisation_id:
        raise WorkflowError(_("This need was routed to you, not proposed as a transfer."))


def _decline_mine(ctx: MoveContext):
    mine = open_assignment(ctx.need, ctx.acting_organisation_id)
    mine.state = AssignmentState.DECLINED
    mine.responded_at = ctx.now
    mine.decline_reason = ctx.text
    return mine


def _decline(ctx: MoveContext) -> int | None:
    """Back to triage: every open assignment ends with the decline."""
    _decline_mine(ctx)
    for other in _open_assignments(ctx.need):
        other.state = AssignmentState.CANCELLED
    ctx.need.assigned_organisation_id = None
    return ctx.acting_organisation_id


def _decline_transfer(ctx: MoveContext) -> int | None:
    _decline_mine(ctx)
    return ctx.acting_organisation_id


def _start(ctx: MoveContext) -> int | None:
    return ctx.acting_organisation_id


def _resolve(ctx: MoveContext) -> int | None:
    mine = open_assignment(ctx.need, ctx.acting_organisation_id)
    mine.state = AssignmentState.COMPLETED
    mine.resolved_at = ctx.now
    ctx.need.resolved_at = ctx.now
    ctx.need.resolution_count = (ctx.need.resolution_count or 0) + 1
    return ctx.acting_organisation_id


def _reopen(ctx: MoveContext) -> int | None:
    need = ctx.need
    last = db.session.scalar(
        sa.select(Assignment)
        .where(
            Assignment.need_id == need.id,
            Assignment.organisation_id == need.assigned_organisation_id,
            Assignment.state == AssignmentState.COMPLETED,
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )
    if last is not None:
        last.state = AssignmentState.ACCEPTED
        last.resolved_at = None
    need.resolved_at = None
    return need.assigned_organisation_id


R = ActorRole
MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        _move(
            "submit",
            {None},
            S.SUBMITTED,
            {R.PUBLIC, R.ADMIN, R.PARTNER},
            _l("Submitted"),
            notifies=False,  # the receipt is sent by the submission itself
        ),
        _move("publish", {S.SUBMITTED}, S.OPEN, {R.ADMIN}, _l("Published"), effect=_publish),
        _move("reject", {S.SUBMITTED}, S.REJECTED, {R.ADMIN}, _l("Rejected"), needs_text=True),
        _move(
            "mark_duplicate",
            {S.SUBMITTED, S.OPEN},
            S.DUPLICATE,
            {R.ADMIN},
            _l("Merged into another need"),
            extra=("duplicate_of",),
            effect=_cancel_open_assignments,
        ),
        _move(
            "route",
            {S.OPEN},
            S.ROUTED,
            {R.ADMIN},
            _l("Sent to a partner"),
            extra=("organisation",),
            check=_check_area,
            effect=_route,
        ),
        _move(
            "transfer",
            {S.ROUTED},
            S.ROUTED,
            {R.ADMIN},
            _l("Transferred to another partner"),
            needs_text=True,
            extra=("organisation",),
            check=_check_transfer,
            effect=_assign,
        ),
        _move(
            "accept",
            {S.ROUTED},
            S.ACCEPTED,
            {R.PARTNER},
            _l("Accepted by the partner"),
            effect=_accept,
        ),
        _move(
            "decline",
            {S.ROUTED},
            S.OPEN,
            {R.PARTNER},
            _l("Declined by the partner, back to triage"),
            needs_text=True,
            check=_check_decline,
            effect=_decline,
        ),
        _move("start", {S.ACCEPTED}, S.IN_PROGRESS, {R.PARTNER}, _l("Work started"), effect=_start),
        _move(
            "resolve",
            {S.ACCEPTED, S.IN_PROGRESS},
            S.RESOLVED,
            {R.PARTNER},
            _l("Resolved"),
            needs_text=True,
            effect=_resolve,
        ),
        _move(
            "close",
            {S.RESOLVED},
            S.CLOSED,
            {R.SUBMITTER, R.SYSTEM},
            _l("Closed as resolved"),
            outcome=Outcome.RESOLVED,
        ),
        _move(
            "reopen",
            {S.RESOLVED},
            S.IN_PROGRESS,
            {R.SUBMITTER},
            _l("Reopened: not resolved"),
            needs_text=True,
            effect=_reopen,
        ),
        _move(
            "decline_transfer",
            {S.ROUTED},
            S.ROUTED,
            {R.PARTNER},
            _l("Transfer declined by the proposed partner"),
            needs_text=True,
            check=_check_decline_transfer,
            effect=_decline_transfer,
        ),
        _move(
            "reassign",
            {S.ROUTED, S.ACCEPTED, S.IN_PROGRESS},
            S.ROUTED,
            {R.PARTNER},
            _l("Reassigned by the higher-level organisation"),
            needs_text=True,
            extra=("organisation",),
            check=_check_reassign,
            effect=_reassign,
            from_above=True,
        ),
        _move(
            "close_unresolved",
            {S.OPEN, S.ROUTED, S.ACCEPTED, S.IN_PROGRESS, S.RESOLVED},
            S.CLOSED,
            {R.ADMIN},
            _l("Closed without resolution"),
            needs_text=True,
            outcome=Outcome.NOT_RESOLVED,
            effect=_cancel_open_assignments,
        ),
        _move(
            "withdraw",
            with_trait("withdrawable"),
            S.WITHDRAWN,
            {R.SUBMITTER},
            _l("Withdrawn"),
            effect=_cancel_open_assignments,
        ),
    )
}

#: The usual moves from a new submission to each state (demo data and tests).
PATH_TO: dict[NeedStatus, list[str]] = {
    S.SUBMITTED: [],
    S.OPEN: ["publish"],
    S.ROUTED: ["publish", "route"],
    S.ACCEPTED: ["publish", "route", "accept"],
    S.IN_PROGRESS: ["publish", "route", "accept", "start"],
    S.RESOLVED: ["publish", "route", "accept", "start", "resolve"],
    S.CLOSED: ["publish", "route", "accept", "start", "resolve", "close"],
    S.REJECTED: ["reject"],
    S.WITHDRAWN: ["withdraw"],
    S.DUPLICATE: ["publish", "mark_duplicate"],
}


class WorkflowError(DomainError):
    """A move that the table does not allow; the message is translated."""


class ChangedMeanwhile(WorkflowError):
    """Another request moved the need first (its move won; this one changed nothing)."""


_in_transition: ContextVar[bool] = ContextVar("in_transition", default=False)


@sa.event.listens_for(Need.status, "set")
def _only_the_workflow_sets_status(target, value, oldvalue, initiator):
    """A guard at run time: any code path that assigns a need's status outside
    transition() fails loudly instead of skipping the timeline."""
    if not _in_transition.get():
        raise RuntimeError("a need's status changes only through portal.workflow.transition()")


def allowed_moves(need: Need, actor: Actor) -> list[str]:
    """The moves this actor may make on this need now (for buttons and menus)."""
    current = need.status
    return [
        m.name
        for m in MOVES.values()
        if current in m.sources and actor.role in m.roles and _actor_may_act(need, actor, m.name)
    ]


def _actor_may_act(need: Need, actor: Actor, move_name: str = "") -> bool:
    if move_name == "submit":  # anyone may submit; staff do so for callers too
        return actor.role != ActorRole.ADMIN or (
            actor.user is not None and actor.user.role == Role.ADMIN
        )
    if actor.role == ActorRole.SUBMITTER:
        if actor.token_verified:
            return True
        return actor.user is not None and (
            need.submitter is actor.user or need.submitter_id == actor.user.id
        )
    if actor.role == ActorRole.PARTNER:
        staff = actor.user
        if staff is None or staff.role != Role.PARTNER or staff.organisation_id is None:
            return False
        move = MOVES.get(move_name)
        if move is not None and move.from_above:
            lead = need.assigned_organisation
            return lead is not None and lead.is_below(staff.organisation_id)
        return open_assignment(need, staff.organisation_id) is not None
    if actor.role == ActorRole.ADMIN:
        return actor.user is not None and actor.user.role == Role.ADMIN
    return True


def _supports(need: Need, actor: Actor, kind: str) -> bool:
    """A supporting partner's staff, on a need still with the partners."""
    if kind not in SUPPORTER_EVENTS or actor.role != ActorRole.PARTNER or actor.user is None:
        return False
    if actor.user.role != Role.PARTNER or not need.status.is_with_partner:
        return False
    return is_co_handler(need, actor.user.organisation_id)


def is_co_handler(need: Need, organisation_id: int | None) -> bool:
    if need.id is None or organisation_id is None:
        return False
    return bool(
        db.session.scalar(
            sa.select(
                sa.select(CoHandler.id)
                .where(CoHandler.need_id == need.id, CoHandler.organisation_id == organisation_id)
                .exists()
            )
        )
    )


def open_assignment(need: Need, organisation_id: int | None) -> Assignment | None:
    """The partner's pending or accepted assignment for this need, if any."""
    if need.id is None or organisation_id is None:
        return None
    return db.session.scalar(
        sa.select(Assignment)
        .where(
            Assignment.need_id == need.id,
            Assignment.organisation_id == organisation_id,
            Assignment.state.in_(OPEN_ASSIGNMENT_STATES),
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )


def transition(
    need: Need,
    move_name: str,
    actor: Actor,
    *,
    text: str = "",
    internal: bool = False,
    duplicate_of: Need | None = None,
    organisation: Organisation | None = None,
    due_at: datetime | None = None,
) -> TimelineEvent:
    """Make one move of the response loop, or raise WorkflowError."""
    move = MOVES.get(move_name)
    if move is None:
        raise WorkflowError(_("Unknown action."))
    current = None if move_name == "submit" else need.status
    if current not in move.sources:
        raise WorkflowError(
            _(
                "This need cannot be changed that way now (it is “%(status)s”).",
                status=current.label if current else "—",
            )
        )
    if actor.role not in move.roles or not _actor_may_act(need, actor, move_name):
        raise WorkflowError(_("You are not allowed to do that."))
    text = (text or "").strip()
    if move.needs_text and not text:
        raise WorkflowError(_("Please give a reason or an answer."))
    if "duplicate_of" in move.extra:
        if duplicate_of is None or duplicate_of.id == need.id:
            raise WorkflowError(_("Choose the need this one duplicates."))
        if not (duplicate_of.status.is_listed or duplicate_of.status.in_triage):
            raise WorkflowError(_("A need can only be merged into an active need."))
        need.duplicate_of = duplicate_of
    if "organisation" in move.extra and (organisation is None or not organisation.is_active):
        raise WorkflowError(_("Choose an active partner organisation."))
    ctx = MoveContext(need, actor, utcnow(), text, organisation, due_at)
    move.check(ctx)

    now = ctx.now
    if current is not None:
        _claim(need, current, move.target)
    event_organisation_id = move.effect(ctx)
    token = _in_transition.set(True)
    try:
        need.status = move.target
    finally:
        _in_transition.reset(token)
    need.updated_at = now
    if move.outcome is not None:
        need.outcome = move.outcome
    elif move.target != S.CLOSED:
        need.outcome = None
    need.ended_at = now if move.target.is_terminal else None
    need.is_listed = need.status.is_listed and need.visibility == Visibility.PUBLIC

    event = TimelineEvent(
        need=need,
        move=move_name,
        from_status=current,
        to_status=move.target,
        actor=actor.user,
        actor_role=actor.role.value,
        organisation_id=event_organisation_id,
        text=text,
        internal=internal,
        created_at=now,
    )
    db.session.add(event)
    if actor.role in (ActorRole.ADMIN, ActorRole.PARTNER) and move_name != "submit":
        # (Staff intake writes its own audit row once the need has its reference.)
        record(
            actor.user,
            f"need.{move_name}",
            need,
            before={"status": current.value if current else None},
            after={"status": move.target.value, "organisation_id": event_organisation_id},
        )
    # Subscribers (notify) add their outbox rows to this same transaction.
    need_moved.send(
        need, event=event, move=move, actor=actor, notify=move.notifies and not internal
    )
    return event


def _claim(need: Need, current: S, target: S) -> None:
    """Move the row first, on the condition that it still has the status this
    move was checked against: of two requests moving the same need at once the
    database lets exactly one through (the other waits for its lock, then finds
    the status changed and updates no row)."""
    claimed = db.session.execute(
        sa.update(Need)
        .where(Need.id == need.id, Need.status == current)
        .values(status=target)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise ChangedMeanwhile(
            _("This need was changed by someone else meanwhile. Please look again and retry.")
        )


#: Steps on the timeline that do not change the status.
EVENT_LABELS = {
    "update": _l("Progress update"),
    "note": _l("Internal note"),
    "extension_requested": _l("More time requested"),
    "extension_granted": _l("More time granted"),
    "extension_refused": _l("More time refused"),
    "transfer_requested": _l("Transfer to another partner requested"),
    "transfer_refused": _l("Transfer refused"),
    "feedback": _l("Feedback"),
    "title_corrected": _l("Title corrected"),
    "category_changed": _l("Category changed"),
    "reminder": _l("Reminder sent to the partner"),
    "escalated": _l("Escalated to the administrators"),
    "co_handler_added": _l("Supporting partner joined"),
    "input_requested": _l("Input asked of a supporting partner"),
    "input_given": _l("Input from a supporting partner"),
}


def label_of(name: str) -> object | None:
    """The (lazy) timeline label of a move or of a step that is not a move."""
    move = MOVES.get(name)
    return move.label if move is not None else EVENT_LABELS.get(name)


#: Who may record which kind of step.
EVENT_ROLES = {
    "update": {R.PARTNER, R.ADMIN},
    "note": {R.PARTNER, R.ADMIN},
    "extension_requested": {R.PARTNER},
    "extension_granted": {R.ADMIN},
    "extension_refused": {R.ADMIN},
    "transfer_requested": {R.PARTNER},
    "transfer_refused": {R.ADMIN},
    "feedback": {R.SUBMITTER, R.PUBLIC},
    "title_corrected": {R.ADMIN},
    "category_changed": {R.ADMIN},
    "reminder": {R.SYSTEM},
    "escalated": {R.SYSTEM},
    "co_handler_added": {R.ADMIN},
    "input_requested": {R.ADMIN, R.PARTNER},
    "input_given": {R.PARTNER},
}
INTERNAL_EVENTS = frozenset({"note", "reminder", "escalated", "input_requested", "input_given"})
#: The steps a supporting partner (协办) may record on a need it supports.
SUPPORTER_EVENTS = frozenset({"update", "note", "input_given"})
#: Steps the submitter and the followers hear of (the others stay on the timeline).
ANNOUNCED_EVENTS = frozenset({"update", "extension_granted", "extension_refused"})


def record_event(
    need: Need,
    kind: str,
    actor: Actor,
    *,
    text: str = "",
    organisation_id: int | None = None,
    notify: bool = True,
) -> TimelineEvent:
    """A step on the timeline that does not move the status (an update, a
    note, a request and its answer, feedback, a correction). With
    `notify=False` it is announced as not news for the submitter and followers."""
    roles = EVENT_ROLES.get(kind)
    if roles is None:
        raise WorkflowError(_("Unknown action."))
    if actor.role not in roles or not (_actor_may_act(need, actor) or _supports(need, actor, kind)):
        raise WorkflowError(_("You are not allowed to do that."))
    text = (text or "").strip()
    if kind in ("update", "note") and not text:
        raise WorkflowError(_("Please write something."))
    internal = kind in INTERNAL_EVENTS
    if organisation_id is None and actor.role == ActorRole.PARTNER:
        organisation_id = actor.user.organisation_id
    event = TimelineEvent(
        need=need,
        move=kind,
        from_status=need.status,
        to_status=need.status,
        actor=actor.user,
        actor_role=actor.role.value,
        organisation_id=organisation_id,
        text=text,
        internal=internal,
        created_at=utcnow(),
    )
    db.session.add(event)
    if actor.role in (ActorRole.ADMIN, ActorRole.PARTNER):
        record(actor.user, f"need.{kind}", need, after={"text": text[:200]})
    need_event_recorded.send(
        need,
        event=event,
        kind=kind,
        actor=actor,
        notify=notify and not internal and kind in ANNOUNCED_EVENTS,
    )
    return event
