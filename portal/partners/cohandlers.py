"""Lead and supporting partners on one need (主办/协办).

The lead holds the need's Assignment: it accepts, answers and resolves, and
its times are the ones the response metrics count. Supporting partners
(`CoHandler` rows) see the need in their inbox as "supporting", post progress
updates and internal notes, and may be asked for their input by a due date;
an input given by then counts in the supporter's own figures, and a missed
one is reminded like a lead's deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.auth.models import Role, User
from portal.domain import DomainError
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need
from portal.notify.services import public_url, queue_email
from portal.partners.models import CoHandler, Organisation
from portal.workdays.services import end_of_local_day, local_today, start_of_local_day
from portal.workflow.services import Actor, ActorRole, open_assignment, record_event
from portal.workflow.statuses import with_trait

#: More than a few supporters is a meeting, not a need.
MAX_CO_HANDLERS = 5
SUPPORTED_PER_PAGE = 20


class CoHandlerError(DomainError):
    """A supporting partner cannot be added or asked that way."""


def co_handlers_of(need: Need) -> list[CoHandler]:
    """The need's supporting partners, in the order they joined (one query)."""
    if need.id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(CoHandler)
            .options(joinedload(CoHandler.organisation))
            .where(CoHandler.need_id == need.id)
            .order_by(CoHandler.id)
        )
    )


def co_handler(need: Need, organisation_id: int | None) -> CoHandler | None:
    if need.id is None or organisation_id is None:
        return None
    return db.session.scalar(
        sa.select(CoHandler).where(
            CoHandler.need_id == need.id, CoHandler.organisation_id == organisation_id
        )
    )


def add_co_handlers(need: Need, organisations: list[Organisation], admin: User) -> int:
    """Add supporting partners to a need that is with a lead partner. The lead
    and partners already supporting are left out; returns how many joined."""
    if not organisations:
        return 0
    if not need.status.is_with_partner or need.assigned_organisation_id is None:
        raise CoHandlerError(
            _("Supporting partners join a need once it is sent to a lead partner."), "supporters"
        )
    present = {c.organisation_id for c in co_handlers_of(need)}
    new = [
        o
        for o in dict.fromkeys(organisations)
        if o.id not in present and o.id != need.assigned_organisation_id
    ]
    if any(not o.is_active for o in new):
        raise CoHandlerError(_("Choose active partner organisations."), "supporters")
    if len(present) + len(new) > MAX_CO_HANDLERS:
        raise CoHandlerError(
            _("At most %(n)d supporting partners per need.", n=MAX_CO_HANDLERS), "supporters"
        )
    for organisation in new:
        db.session.add(
            CoHandler(need_id=need.id, organisation_id=organisation.id, added_by_id=admin.id)
        )
        record_event(need, "co_handler_added", Actor.staff(admin), organisation_id=organisation.id)
    return len(new)


def may_ask_for_input(need: Need, user: User) -> bool:
    """Administrators and the lead partner's staff, while the need is with the partners."""
    if not need.status.is_with_partner:
        return False
    if user.role == Role.ADMIN:
        return True
    return (
        user.role == Role.PARTNER
        and user.organisation_id == need.assigned_organisation_id
        and open_assignment(need, user.organisation_id) is not None
    )


def ask_for_input(
    need: Need, organisation_id: int | None, user: User, question: str, due_day: date
) -> CoHandler:
    """Ask one supporting partner for its input by the end of `due_day`
    (local time); its staff are e-mailed. A new request replaces the last one."""
    if not may_ask_for_input(need, user):
        raise CoHandlerError(_("You cannot ask for input on this need now."))
    supporter = co_handler(need, organisation_id)
    if supporter is None:
        raise CoHandlerError(_("Choose one of the supporting partners."), "supporter")
    if due_day <= local_today():
        raise CoHandlerError(_("The due date must be in the future."), "due_date")
    now = utcnow()
    supporter.input_question = question
    supporter.input_asked_at = now
    supporter.input_due_at = end_of_local_day(due_day)
    supporter.input_given_at = None
    supporter.reminded_at = None
    record_event(
        need,
        "input_requested",
        Actor.staff(user),
        text=question,
        organisation_id=supporter.organisation_id,
    )
    _email_staff(need, supporter, "input_requested")
    return supporter


def give_input(need: Need, staff: User, text: str):
    """The supporter's answer: internal (the lead, the admins and itself read
    it); it settles the request it answers."""
    supporter = co_handler(need, staff.organisation_id)
    if supporter is None:
        raise CoHandlerError(_("Your organisation does not support this need."))
    event = record_event(need, "input_given", Actor.staff(staff), text=text)
    if supporter.input_awaited:
        supporter.input_given_at = event.created_at
    return event


def _email_staff(need: Need, supporter: CoHandler, template: str) -> None:
    link = public_url("partner.need", ref=need.ref)
    staff = db.session.scalars(
        sa.select(User)
        .where(
            User.organisation_id == supporter.organisation_id,
            User.role == Role.PARTNER,
            User.active,
        )
        .order_by(User.id)
    )
    for user in staff:
        queue_email(
            user.email,
            template,
            user.locale or current_app.config["BABEL_DEFAULT_LOCALE"],
            need=need,
            organisation=supporter.organisation,
            question=supporter.input_question,
            due_at=supporter.input_due_at,
            need_url=link,
        )


# --- the supporter's inbox and figures --------------------------------------------


@dataclass
class Supported:
    co_handler: CoHandler
    need: Need
    overdue: bool


def supported_needs(organisation_id: int, now: datetime | None = None) -> list[Supported]:
    """The needs this organisation supports that are still with the partners:
    awaited inputs first, the earliest due first, then the newest. One query."""
    now = now or utcnow()
    awaited = sa.and_(CoHandler.input_asked_at.is_not(None), CoHandler.input_given_at.is_(None))
    rows = db.session.execute(
        sa.select(CoHandler, Need)
        .join(Need, Need.id == CoHandler.need_id)
        .options(joinedload(Need.category), joinedload(Need.assigned_organisation))
        .where(
            CoHandler.organisation_id == organisation_id,
            Need.status.in_(with_trait("with_partner")),
        )
        .order_by(
            sa.case((awaited, 0), else_=1),
            CoHandler.input_due_at.asc(),
            CoHandler.id.desc(),
        )
        .limit(SUPPORTED_PER_PAGE)
    ).all()
    return [Supported(c, need, c.input_overdue(now)) for c, need in rows]


@dataclass(frozen=True)
class SupportFigures:
    asked: int = 0
    on_time: int = 0
    late: int = 0
    awaited: int = 0

    @property
    def on_time_rate(self) -> float | None:
        answered = self.on_time + self.late
        return self.on_time / answered if answered else None


def support_figures(
    organisation_id: int, start: datetime | None = None, end: datetime | None = None
) -> SupportFigures:
    """How this organisation answered the requests for its input asked in the
    period: on time, late, still awaited. One grouped query."""
    on_time = sa.and_(
        CoHandler.input_given_at.is_not(None), CoHandler.input_given_at <= CoHandler.input_due_at
    )
    late = sa.and_(
        CoHandler.input_given_at.is_not(None), CoHandler.input_given_at > CoHandler.input_due_at
    )
    stmt = sa.select(
        sa.func.count(CoHandler.id),
        sa.func.sum(sa.case((on_time, 1), else_=0)),
        sa.func.sum(sa.case((late, 1), else_=0)),
        sa.func.sum(sa.case((CoHandler.input_given_at.is_(None), 1), else_=0)),
    ).where(CoHandler.organisation_id == organisation_id, CoHandler.input_asked_at.is_not(None))
    if start is not None:
        stmt = stmt.where(CoHandler.input_asked_at >= start)
    if end is not None:
        stmt = stmt.where(CoHandler.input_asked_at < end)
    asked, ok, late_count, waiting = db.session.execute(stmt).one()
    return SupportFigures(asked or 0, int(ok or 0), int(late_count or 0), int(waiting or 0))


# --- reminders -------------------------------------------------------------------------


def remind_inputs(now: datetime | None = None, batch: int = 100) -> int:
    """Remind a supporter's staff once, from the day after a missed input due
    date, as a lead's deadline is reminded. Safe to run at any frequency: the
    database lets one run claim each row. Commits after every batch."""
    now = now or utcnow()
    cutoff = start_of_local_day(now)
    reminded = 0
    last_id = 0
    while True:
        rows = list(
            db.session.scalars(
                sa.select(CoHandler)
                .options(joinedload(CoHandler.organisation))
                .where(
                    CoHandler.id > last_id,
                    CoHandler.input_given_at.is_(None),
                    CoHandler.input_due_at < cutoff,
                    CoHandler.reminded_at.is_(None),
                )
                .order_by(CoHandler.id)
                .limit(batch)
            )
        )
        if not rows:
            return reminded
        last_id = rows[-1].id
        needs = {
            n.id: n
            for n in db.session.scalars(
                sa.select(Need).where(Need.id.in_({c.need_id for c in rows}))
            )
        }
        for supporter in rows:
            need = needs[supporter.need_id]
            if not need.status.is_with_partner or not _claim(supporter.id, now):
                continue
            _email_staff(need, supporter, "input_reminder")
            record_event(
                need, "reminder", Actor(ActorRole.SYSTEM), organisation_id=supporter.organisation_id
            )
            reminded += 1
        db.session.commit()


def _claim(co_handler_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        sa.update(CoHandler)
        .where(CoHandler.id == co_handler_id, CoHandler.reminded_at.is_(None))
        .values(reminded_at=now)
        .execution_options(synchronize_session=False)
    )
    return claimed.rowcount == 1
