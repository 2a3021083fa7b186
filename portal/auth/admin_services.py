"""The rules of the users' admin page: find accounts, change their role and
organisation, deactivate them, reset their two-factor sign-in. Every change
flushes and writes one audit row; nothing here commits (the view commits once)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.audit.services import record
from portal.auth import two_factor
from portal.auth.models import Role, User
from portal.core.paging import Page, paged
from portal.domain import DomainError
from portal.extensions import db
from portal.partners.models import Organisation


class UserAdminError(DomainError):
    """A rule of the users' admin page refused the change."""


def users_page(q: str, page: int) -> Page:
    stmt = sa.select(User).options(joinedload(User.organisation))
    for term in q.split()[:3]:
        stmt = stmt.where(
            sa.or_(
                User.email.icontains(term, autoescape=True),
                User.display_name.icontains(term, autoescape=True),
            )
        )
    result = paged(stmt.order_by(User.email), page)
    result.items = [row[0] for row in result.items]
    return result


def get_user(user_id: int) -> User | None:
    return db.session.get(User, user_id, options=[joinedload(User.organisation)])


def change_role(user: User, role: Role, organisation: Organisation | None, actor: User) -> bool:
    """Changing what an account may do logs it out everywhere."""
    if user.id == actor.id and role != Role.ADMIN:
        raise UserAdminError(_("You cannot remove your own admin role."), "role")
    if role == Role.PARTNER and organisation is None:
        raise UserAdminError(_("Partner staff must belong to an organisation."), "organisation")
    organisation = organisation if role == Role.PARTNER else None
    new_org_id = organisation.id if organisation is not None else None
    if user.role == role and user.organisation_id == new_org_id:
        return False
    before = {"role": user.role.value, "organisation_id": user.organisation_id}
    after = {"role": role.value, "organisation_id": new_org_id}
    if user.manages_organisation:
        # Managing one organisation does not carry over to another role or organisation.
        before["manages_organisation"], after["manages_organisation"] = True, False
        user.manages_organisation = False
    user.role = role
    user.organisation = organisation
    user.end_all_sessions()
    db.session.flush()
    record(actor, "user.role_change", user, before=before, after=after)
    return True


def set_active(user: User, active: bool, actor: User) -> bool:
    if user.id == actor.id and not active:
        raise UserAdminError(_("You cannot deactivate your own account."), "active")
    if user.active == active:
        return False
    user.active = active
    if not active:
        user.end_all_sessions()
    db.session.flush()
    record(
        actor,
        "user.activate" if active else "user.deactivate",
        user,
        before={"active": not active},
        after={"active": active},
    )
    return True


def reset_two_factor(user: User, actor: User) -> bool:
    """For a lost phone without recovery codes; audited by auth.two_factor.reset."""
    if user.id == actor.id:
        raise UserAdminError(_("You cannot reset your own two-factor sign-in: another admin can."))
    return two_factor.reset(user, actor)
