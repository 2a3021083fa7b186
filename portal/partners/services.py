"""Partner requests (more time, another partner) and the admin's decisions.

Each request and decision is a public step on the need's timeline and an audit
row; a confirmed transfer goes through the workflow's `transfer` move."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.audit.services import record
from portal.auth.models import User
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need
from portal.partners.models import (
    OPEN_ASSIGNMENT_STATES,
    Assignment,
    AssignmentRequest,
    Organisation,
    RequestKind,
    RequestState,
)
from portal.workflow.services import Actor, WorkflowError, open_assignment, record_event, transition


def _my_assignment(need: Need, staff: User) -> Assignment:
    assignment = open_assignment(need, staff.organisation_id)
    if assignment is None:
        raise WorkflowError(_("This need is not with your organisation."))
    return assignment


def _pending(assignment: Assignment, kind: RequestKind) -> AssignmentRequest | None:
    return db.session.scalar(
        sa.select(AssignmentRequest).where(
            AssignmentRequest.assignment_id == assignment.id,
            AssignmentRequest.kind == kind,
            AssignmentRequest.state == RequestState.PENDING,
        )
    )


def request_extension(
    need: Need, staff: User, new_due_at: datetime, reason: str
) -> AssignmentRequest:
    assignment = _my_assignment(need, staff)
    if not reason.strip():
        raise WorkflowError(_("Please give a reason."))
    if new_due_at <= assignment.due_at:
        raise WorkflowError(_("The new due date must be later than the current one."))
    if _pending(assignment, RequestKind.EXTENSION) is not None:
        raise WorkflowError(_("A request for more time is already waiting for an answer."))
    request = AssignmentRequest(
        assignment=assignment,
        kind=RequestKind.EXTENSION,
        reason=reason.strip(),
        requested_due_at=new_due_at,
        requested_by_id=staff.id,
    )
    db.session.add(request)
    record_event(need, "extension_requested", Actor.staff(staff), text=reason)
    return request


def request_transfer(
    need: Need, staff: User, to_organisation: Organisation, reason: str
) -> AssignmentRequest:
    assignment = _my_assignment(need, staff)
    if not reason.strip():
        raise WorkflowError(_("Please give a reason."))
    if to_organisation.id == staff.organisation_id or not to_organisation.is_active:
        raise WorkflowError(_("Choose another, active partner organisation."))
    if _pending(assignment, RequestKind.TRANSFER) is not None:
        raise WorkflowError(_("A transfer request is already waiting for an answer."))
    request = AssignmentRequest(
        assignment=assignment,
        kind=RequestKind.TRANSFER,
        reason=reason.strip(),
        to_organisation=to_organisation,
        requested_by_id=staff.id,
    )
    db.session.add(request)
    record_event(need, "transfer_requested", Actor.staff(staff), text=reason)
    return request


def pending_requests(limit: int = 100) -> list[AssignmentRequest]:
    return list(
        db.session.scalars(
            sa.select(AssignmentRequest)
            .options(
                joinedload(AssignmentRequest.assignment).joinedload(Assignment.organisation),
                joinedload(AssignmentRequest.to_organisation),
            )
            .where(AssignmentRequest.state == RequestState.PENDING)
            .order_by(AssignmentRequest.created_at)
            .limit(limit)
        )
    )


def decide_request(request: AssignmentRequest, admin: User, grant: bool, note: str = "") -> None:
    """Grant or refuse a partner's request; both answers are public steps."""
    if request.state != RequestState.PENDING:
        raise WorkflowError(_("This request has already been answered."))
    need = db.session.get(Need, request.assignment.need_id)
    actor = Actor.staff(admin)
    request.state = RequestState.GRANTED if grant else RequestState.REFUSED
    request.decided_by_id = admin.id
    request.decided_at = utcnow()
    if request.kind == RequestKind.EXTENSION:
        if grant:
            before = request.assignment.due_at
            request.assignment.due_at = request.requested_due_at
            # A new deadline earns a new reminder if it is missed as well.
            request.assignment.reminded_at = None
            request.assignment.escalated_at = None
            record(
                admin,
                "assignment.extend",
                request.assignment,
                before={"due_at": before},
                after={"due_at": request.requested_due_at},
            )
        record_event(
            need,
            "extension_granted" if grant else "extension_refused",
            actor,
            text=note,
            organisation_id=request.assignment.organisation_id,
        )
        return
    if grant:
        transition(
            need, "transfer", actor, text=request.reason, organisation=request.to_organisation
        )
    else:
        record_event(
            need,
            "transfer_refused",
            actor,
            text=note,
            organisation_id=request.assignment.organisation_id,
        )


def current_assignment(need: Need) -> Assignment | None:
    """The assignment of the partner answerable now (one query, always, so
    pages showing it keep a constant query count)."""
    return db.session.scalar(
        sa.select(Assignment)
        .options(joinedload(Assignment.organisation))
        .where(
            Assignment.need_id == need.id,
            Assignment.organisation_id == need.assigned_organisation_id,
            Assignment.state.in_(OPEN_ASSIGNMENT_STATES),
        )
        .order_by(Assignment.id.desc())
        .limit(1)
    )
