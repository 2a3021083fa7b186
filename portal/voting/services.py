"""Supports and dot votes, exact under concurrency.

Every count moves in SQL (`n = n + 1`) in the same transaction as the row it
counts, and every limit is a constraint or a conditional UPDATE, so
simultaneous requests can neither duplicate a support nor exceed a vote limit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload, selectinload

from portal.audit import services as audit
from portal.auth.models import Role, User
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import insert_if_absent, utcnow
from portal.needs.models import Need
from portal.voting.models import PriorityRound, RoundBallot, RoundItem, RoundVote, Support
from portal.workflow.statuses import with_trait

PRIORITIES_PER_PAGE = 20
PRIORITIES_MAX_PAGE = 25
TREND_DAYS = 7


class VotingError(DomainError):
    """A support or vote that is not allowed; the message is translated."""


# --- supports -------------------------------------------------------------


def _check_is_member(user: User) -> None:
    """Staff (partner staff and administrators) act for their organisation, not
    as voters: supports and votes count members only, as turnout does."""
    if user.role != Role.MEMBER:
        raise VotingError(
            _("Staff accounts act for their organisation; they do not support needs or vote.")
        )


def support_need(need: Need, user: User) -> bool:
    """Add the member's support; False when they already support it."""
    _check_is_member(user)
    if not need.is_listed or not need.status.is_supportable:
        raise VotingError(_("This need can no longer be supported."))
    if not insert_if_absent(Support, user_id=user.id, need_id=need.id, created_at=utcnow()):
        return False
    db.session.execute(
        sa.update(Need).where(Need.id == need.id).values(support_count=Need.support_count + 1)
    )
    return True


def withdraw_support(need: Need, user: User) -> bool:
    removed = db.session.execute(
        sa.delete(Support)
        .where(Support.need_id == need.id, Support.user_id == user.id)
        .returning(Support.id)
    ).first()
    if removed is None:
        return False
    db.session.execute(
        sa.update(Need).where(Need.id == need.id).values(support_count=Need.support_count - 1)
    )
    return True


def current_support_count(need: Need) -> int:
    return db.session.scalar(sa.select(Need.support_count).where(Need.id == need.id)) or 0


def supported_need_ids(user: User | None, need_ids: list[int]) -> set[int]:
    if user is None or not user.is_authenticated or not need_ids:
        return set()
    return set(
        db.session.scalars(
            sa.select(Support.need_id).where(
                Support.user_id == user.id, Support.need_id.in_(need_ids)
            )
        )
    )


@dataclass
class PrioritiesPage:
    needs: list[Need]
    trend: dict[int, int]
    page: int
    has_next: bool


def priorities_page(category_id: int | None, page: int) -> PrioritiesPage:
    """Published, unresolved needs ranked by support (bounded pages)."""
    page = max(1, min(page, PRIORITIES_MAX_PAGE))
    stmt = (
        sa.select(Need)
        .options(joinedload(Need.category))
        .where(Need.is_listed, Need.status.in_(with_trait("supportable")))
        .order_by(Need.support_count.desc(), Need.id.desc())
        .offset((page - 1) * PRIORITIES_PER_PAGE)
        .limit(PRIORITIES_PER_PAGE + 1)
    )
    if category_id:
        stmt = stmt.where(Need.category_id == category_id)
    rows = list(db.session.scalars(stmt))
    needs = rows[:PRIORITIES_PER_PAGE]
    return PrioritiesPage(
        needs=needs,
        trend=recent_supports([n.id for n in needs]),
        page=page,
        has_next=len(rows) > PRIORITIES_PER_PAGE and page < PRIORITIES_MAX_PAGE,
    )


def recent_supports(need_ids: list[int], days: int = TREND_DAYS) -> dict[int, int]:
    if not need_ids:
        return {}
    since = utcnow() - timedelta(days=days)
    rows = db.session.execute(
        sa.select(Support.need_id, sa.func.count())
        .where(Support.need_id.in_(need_ids), Support.created_at >= since)
        .group_by(Support.need_id)
    )
    return {need_id: count for need_id, count in rows}


# --- priority rounds --------------------------------------------------------


def create_round(
    *,
    title: str,
    description: str,
    needs: list[Need],
    votes_per_member: int,
    starts_at: datetime,
    ends_at: datetime,
    show_live_counts: bool,
    actor: User,
) -> PriorityRound:
    if ends_at <= starts_at:
        raise VotingError(_("The round must end after it starts."))
    if len(needs) < 2:
        raise VotingError(_("A round needs at least two needs on its shortlist."))
    if votes_per_member > len(needs):
        raise VotingError(_("Members cannot have more votes than there are needs."))
    round_ = PriorityRound(
        title=title,
        description=description,
        votes_per_member=votes_per_member,
        starts_at=starts_at,
        ends_at=ends_at,
        show_live_counts=show_live_counts,
        created_by_id=actor.id,
    )
    round_.items = [RoundItem(need=need, position=i) for i, need in enumerate(needs)]
    db.session.add(round_)
    db.session.flush()
    audit.record(
        actor,
        "round.create",
        round_,
        after={
            "title": title,
            "needs": " ".join(need.ref for need in needs),
            "votes_per_member": votes_per_member,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "show_live_counts": show_live_counts,
        },
    )
    return round_


def get_round(round_id: int) -> PriorityRound | None:
    return db.session.scalar(
        sa.select(PriorityRound)
        .options(
            selectinload(PriorityRound.items).joinedload(RoundItem.need).joinedload(Need.category)
        )
        .where(PriorityRound.id == round_id)
    )


def current_rounds(now: datetime | None = None) -> list[PriorityRound]:
    now = now or utcnow()
    return list(
        db.session.scalars(
            sa.select(PriorityRound)
            .where(PriorityRound.starts_at <= now, PriorityRound.ends_at > now)
            .order_by(PriorityRound.ends_at)
            .limit(5)
        )
    )


def recent_rounds(limit: int = 20) -> list[PriorityRound]:
    return list(
        db.session.scalars(
            sa.select(PriorityRound).order_by(PriorityRound.starts_at.desc()).limit(limit)
        )
    )


def _check_can_vote(round_: PriorityRound, user: User) -> None:
    _check_is_member(user)
    if not round_.is_open():
        raise VotingError(_("This round is not open for voting."))
    if not user.is_verified:
        raise VotingError(_("Please confirm your e-mail address to vote."))


def cast_vote(round_: PriorityRound, item: RoundItem, user: User) -> None:
    """Give one of the member's N votes to this need. Raises VotingError when
    the votes are used up or the need already has this member's vote; the
    caller rolls back then, so nothing is half-counted."""
    _check_can_vote(round_, user)
    insert_if_absent(
        RoundBallot, round_id=round_.id, user_id=user.id, votes_used=0, created_at=utcnow()
    )
    used = db.session.scalar(
        sa.update(RoundBallot)
        .where(
            RoundBallot.round_id == round_.id,
            RoundBallot.user_id == user.id,
            RoundBallot.votes_used < round_.votes_per_member,
        )
        .values(votes_used=RoundBallot.votes_used + 1)
        .returning(RoundBallot.votes_used)
    )
    if used is None:
        raise VotingError(
            _("You have used all your %(n)d votes in this round.", n=round_.votes_per_member)
        )
    added = insert_if_absent(
        RoundVote, round_id=round_.id, item_id=item.id, user_id=user.id, created_at=utcnow()
    )
    if not added:
        raise VotingError(_("You have already voted for this need."))
    db.session.execute(
        sa.update(RoundItem)
        .where(RoundItem.id == item.id)
        .values(vote_count=RoundItem.vote_count + 1)
    )
    if used == 1:
        db.session.execute(
            sa.update(PriorityRound)
            .where(PriorityRound.id == round_.id)
            .values(voter_count=PriorityRound.voter_count + 1)
        )


def retract_vote(round_: PriorityRound, item: RoundItem, user: User) -> bool:
    if not round_.is_open():
        raise VotingError(_("This round is not open for voting."))
    removed = db.session.execute(
        sa.delete(RoundVote)
        .where(RoundVote.item_id == item.id, RoundVote.user_id == user.id)
        .returning(RoundVote.id)
    ).first()
    if removed is None:
        return False
    used = db.session.scalar(
        sa.update(RoundBallot)
        .where(RoundBallot.round_id == round_.id, RoundBallot.user_id == user.id)
        .values(votes_used=RoundBallot.votes_used - 1)
        .returning(RoundBallot.votes_used)
    )
    db.session.execute(
        sa.update(RoundItem)
        .where(RoundItem.id == item.id)
        .values(vote_count=RoundItem.vote_count - 1)
    )
    if used == 0:
        db.session.execute(
            sa.update(PriorityRound)
            .where(PriorityRound.id == round_.id)
            .values(voter_count=PriorityRound.voter_count - 1)
        )
    return True


def my_votes(round_: PriorityRound, user: User | None) -> set[int]:
    """Ids of the round items this member voted for."""
    if user is None or not user.is_authenticated:
        return set()
    return set(
        db.session.scalars(
            sa.select(RoundVote.item_id).where(
                RoundVote.round_id == round_.id, RoundVote.user_id == user.id
            )
        )
    )


def eligible_members_query(ends_at, now) -> sa.Select:
    """The turnout rule in one place: members with a confirmed address who had
    an account before the round ended (`ends_at` may be a column, so the
    dashboard counts every round in one query)."""
    return sa.select(sa.func.count(User.id)).where(
        User.role == Role.MEMBER,
        User.active,
        User.email_verified_at.is_not(None),
        User.created_at <= ends_at,
        User.created_at <= now,
    )


def eligible_members(round_: PriorityRound) -> int:
    return db.session.scalar(eligible_members_query(round_.ends_at, utcnow())) or 0


def ranked_items(round_: PriorityRound) -> list[RoundItem]:
    return sorted(round_.items, key=lambda item: (-item.vote_count, item.position))


def votes_of_member(user: User, limit: int = 50) -> list[RoundVote]:
    return list(
        db.session.scalars(
            sa.select(RoundVote)
            .options(joinedload(RoundVote.item).joinedload(RoundItem.need))
            .where(RoundVote.user_id == user.id)
            .order_by(RoundVote.id.desc())
            .limit(limit)
        )
    )


def supports_of_member(user: User, limit: int = 50) -> list[Support]:
    return list(
        db.session.scalars(
            sa.select(Support)
            .options(joinedload(Support.need))
            .where(Support.user_id == user.id)
            .order_by(Support.id.desc())
            .limit(limit)
        )
    )
