"""Feedback on an answer, and closing answered needs.

The submitter's "not resolved" reopens the need for the same partner; their
"resolved" closes it. Followers' answers count in the satisfaction numbers but
do not move the need. A resolved need without negative feedback closes after
14 days."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.auth.models import User
from portal.extensions import db
from portal.feedback.models import Feedback, Resolved
from portal.models_base import insert_if_absent, utcnow
from portal.needs.models import Need, NeedStatus
from portal.notify.models import Follow
from portal.workflow.services import Actor, WorkflowError, record_event, transition

CLOSE_AFTER_DAYS = 14


def respondent_key(user: User | None, via_token: bool) -> str:
    return "token" if via_token else f"user:{user.id}"


def _follows(need: Need, user: User) -> bool:
    return user.is_authenticated and (
        db.session.scalar(
            sa.select(Follow.id).where(Follow.need_id == need.id, Follow.user_id == user.id)
        )
        is not None
    )


def can_give_feedback(need: Need, user: User | None, via_token: bool) -> bool:
    """Whether to offer the form: resolved, allowed, and not yet answered."""
    if need.status != NeedStatus.RESOLVED:
        return False
    if not via_token and (user is None or not _follows(need, user)):
        return False
    return (
        db.session.scalar(
            sa.select(Feedback.id).where(
                Feedback.need_id == need.id,
                Feedback.cycle == need.resolution_count,
                Feedback.respondent == respondent_key(user, via_token),
            )
        )
        is None
    )


def give_feedback(
    need: Need,
    *,
    resolved: Resolved,
    satisfaction: int,
    comment: str,
    user: User | None = None,
    via_token: bool = False,
) -> bool:
    """Record one answer per person and resolution; False if already answered."""
    if need.status != NeedStatus.RESOLVED:
        raise WorkflowError(_("Feedback is possible once the need is resolved."))
    if not via_token and (user is None or not _follows(need, user)):
        raise WorkflowError(_("Only the submitter and the need's followers can give feedback."))
    is_submitter = via_token or (user is not None and need.submitter_id == user.id)
    added = insert_if_absent(
        Feedback,
        need_id=need.id,
        cycle=need.resolution_count,
        respondent=respondent_key(user, via_token),
        user_id=user.id if user is not None else None,
        is_submitter=is_submitter,
        resolved=resolved.value,
        satisfaction=satisfaction,
        comment=comment or "",
        created_at=utcnow(),
    )
    if not added:
        return False
    who = _("the submitter") if is_submitter else _("a follower")
    summary = _(
        "%(answer)s, satisfaction %(score)d/5 (from %(who)s)",
        answer=resolved.label,
        score=satisfaction,
        who=who,
    )
    actor = Actor.submitter(user, token_verified=via_token) if is_submitter else Actor.public(user)
    record_event(need, "feedback", actor, text=summary)
    if is_submitter and resolved == Resolved.NO:
        transition(need, "reopen", actor, text=comment or _("Not resolved, says the submitter."))
    elif is_submitter and resolved == Resolved.YES:
        transition(need, "close", actor)
    return True


def close_stale(now: datetime | None = None, batch: int = 200) -> int:
    """Close needs resolved more than 14 days ago without a "not resolved"
    answer. Safe to run at any frequency: closed needs are no longer resolved."""
    now = now or utcnow()
    cutoff = now - timedelta(days=CLOSE_AFTER_DAYS)
    negative = (
        sa.select(Feedback.id)
        .where(
            Feedback.need_id == Need.id,
            Feedback.cycle == Need.resolution_count,
            Feedback.resolved == Resolved.NO.value,
        )
        .exists()
    )
    closed = 0
    last_id = 0
    while True:
        needs = list(
            db.session.scalars(
                sa.select(Need)
                .where(
                    Need.status == NeedStatus.RESOLVED,
                    Need.resolved_at <= cutoff,
                    Need.id > last_id,
                    ~negative,
                )
                .order_by(Need.id)
                .limit(batch)
            )
        )
        if not needs:
            return closed
        for need in needs:
            last_id = need.id
            transition(need, "close", Actor.system())
            closed += 1
        db.session.commit()
