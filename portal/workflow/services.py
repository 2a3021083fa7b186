"""The state machine of DESIGN.md as a table of allowed moves and who may make them.

Every move goes through `transition()`: it checks the table, changes the need,
appends a timeline event and queues the notifications in the caller's
transaction. Views and other services never assign `need.status` themselves.
"""

from __future__ import annotations

import enum
from contextvars import ContextVar
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.auth.models import Role, User
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import (
    ACTIVE_STATUSES,
    PUBLIC_STATUSES,
    Need,
    NeedStatus,
    Outcome,
    Visibility,
)
from portal.partners.models import Organisation
from portal.workflow.models import TimelineEvent

S = NeedStatus


class ActorRole(enum.StrEnum):
    PUBLIC = "public"  # anyone, with or without an account, before a need exists
    SUBMITTER = "submitter"  # the person who asked: by account or tracking token
    PARTNER = "partner"  # staff of the organisation the need is routed to
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
class Move:
    name: str
    sources: frozenset[NeedStatus | None]
    target: NeedStatus
    roles: frozenset[ActorRole]
    label: object  # a lazy string shown on the timeline
    needs_text: bool = False
    outcome: Outcome | None = None
    extra: tuple[str, ...] = field(default=())


def _move(name, sources, target, roles, label, **kw) -> Move:
    return Move(name, frozenset(sources), target, frozenset(roles), label, **kw)


R = ActorRole
MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        _move("submit", {None}, S.SUBMITTED, {R.PUBLIC, R.ADMIN, R.PARTNER}, _l("Submitted")),
        _move("publish", {S.SUBMITTED}, S.OPEN, {R.ADMIN}, _l("Published")),
        _move("reject", {S.SUBMITTED}, S.REJECTED, {R.ADMIN}, _l("Rejected"), needs_text=True),
        _move(
            "mark_duplicate",
            {S.SUBMITTED, S.OPEN},
            S.DUPLICATE,
            {R.ADMIN},
            _l("Merged into another need"),
            extra=("duplicate_of",),
        ),
        _move(
            "route",
            {S.OPEN},
            S.ROUTED,
            {R.ADMIN},
            _l("Sent to a partner"),
            extra=("organisation",),
        ),
        _move(
            "transfer",
            {S.ROUTED},
            S.ROUTED,
            {R.ADMIN},
            _l("Transferred to another partner"),
            needs_text=True,
            extra=("organisation",),
        ),
        _move("accept", {S.ROUTED}, S.ACCEPTED, {R.PARTNER}, _l("Accepted by the partner")),
        _move(
            "decline",
            {S.ROUTED},
            S.OPEN,
            {R.PARTNER},
            _l("Declined by the partner, back to triage"),
            needs_text=True,
        ),
        _move("start", {S.ACCEPTED}, S.IN_PROGRESS, {R.PARTNER}, _l("Work started")),
        _move(
            "resolve",
            {S.ACCEPTED, S.IN_PROGRESS},
            S.RESOLVED,
            {R.PARTNER},
            _l("Resolved"),
            needs_text=True,
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
        ),
        _move(
            "close_unresolved",
            {S.OPEN, S.ROUTED, S.ACCEPTED, S.IN_PROGRESS},
            S.CLOSED,
            {R.ADMIN},
            _l("Closed without resolution"),
            needs_text=True,
            outcome=Outcome.NOT_RESOLVED,
        ),
        _move("withdraw", ACTIVE_STATUSES, S.WITHDRAWN, {R.SUBMITTER}, _l("Withdrawn")),
    )
}

MOVE_LABELS = {name: move.label for name, move in MOVES.items()}


class WorkflowError(Exception):
    """A move that the table does not allow; the message is translated."""


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
        if current in m.sources and actor.role in m.roles and _actor_may_act(need, actor)
    ]


def _actor_may_act(need: Need, actor: Actor) -> bool:
    if actor.role == ActorRole.SUBMITTER:
        if actor.token_verified:
            return True
        return actor.user is not None and (
            need.submitter is actor.user or need.submitter_id == actor.user.id
        )
    if actor.role == ActorRole.PARTNER:
        return (
            actor.user is not None
            and actor.user.role == Role.PARTNER
            and actor.user.organisation_id is not None
            and actor.user.organisation_id == need.assigned_organisation_id
        )
    if actor.role == ActorRole.ADMIN:
        return actor.user is not None and actor.user.role == Role.ADMIN
    return True


def transition(
    need: Need,
    move_name: str,
    actor: Actor,
    *,
    text: str = "",
    internal: bool = False,
    duplicate_of: Need | None = None,
    organisation: Organisation | None = None,
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
    if actor.role not in move.roles or not _actor_may_act(need, actor):
        raise WorkflowError(_("You are not allowed to do that."))
    text = (text or "").strip()
    if move.needs_text and not text:
        raise WorkflowError(_("Please give a reason or an answer."))
    if "duplicate_of" in move.extra:
        if duplicate_of is None or duplicate_of.id == need.id:
            raise WorkflowError(_("Choose the need this one duplicates."))
        if duplicate_of.status not in PUBLIC_STATUSES | {S.SUBMITTED}:
            raise WorkflowError(_("A need can only be merged into an active need."))
        need.duplicate_of = duplicate_of
    if "organisation" in move.extra:
        if organisation is None or not organisation.is_active:
            raise WorkflowError(_("Choose an active partner organisation."))
        if move_name == "transfer" and organisation.id == need.assigned_organisation_id:
            raise WorkflowError(_("The need is already with this partner."))
        need.assigned_organisation_id = organisation.id
    if move_name == "decline":
        need.assigned_organisation_id = None

    now = utcnow()
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
    if move_name == "publish":
        need.published_at = now
    need.is_listed = need.status in PUBLIC_STATUSES and need.visibility == Visibility.PUBLIC

    event = TimelineEvent(
        need=need,
        move=move_name,
        from_status=current,
        to_status=move.target,
        actor=actor.user,
        actor_role=actor.role.value,
        text=text,
        internal=internal,
        created_at=now,
    )
    db.session.add(event)
    if not internal and move_name != "submit":
        from portal.notify.services import notify_followers, queue_status_update

        queue_status_update(need, event)
        notify_followers(need, event)
    return event
