"""The rules of the partners' admin pages: organisations, the categories they
handle, their place in the hierarchy, their resources, the invitation of their
staff and who among them manages the organisation. Every change flushes and
writes one audit row with the fields that changed; nothing here commits (the
view commits once). The resources and invitations serve the partner admins'
own page too (`portal/partners/organisation.py`)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from portal.audit.services import apply_changes, record
from portal.auth import tokens
from portal.auth.models import Role, User
from portal.categories.models import Category
from portal.core.paging import Page, paged
from portal.domain import DomainError
from portal.extensions import db
from portal.notify.services import public_url, queue_email
from portal.partners import hierarchy
from portal.partners.models import (
    Organisation,
    OrganisationKind,
    OrganisationResource,
    ResourceKind,
)


class PartnerAdminError(DomainError):
    """A rule of the partners' admin pages refused the change."""


def partners_page(kind: OrganisationKind | None, page: int) -> Page:
    """Rows of (organisation, number of staff accounts); categories eagerly."""
    staff_count = (
        sa.select(sa.func.count(User.id))
        .where(User.organisation_id == Organisation.id)
        .correlate(Organisation)
        .scalar_subquery()
    )
    stmt = sa.select(Organisation, staff_count.label("staff_count")).options(
        selectinload(Organisation.categories)
    )
    if kind is not None:
        stmt = stmt.where(Organisation.kind == kind)
    return paged(stmt.order_by(Organisation.name_zh, Organisation.id), page)


def all_organisations() -> list[Organisation]:
    return list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name_zh)))


def get_organisation(org_id: int) -> Organisation | None:
    return db.session.get(
        Organisation,
        org_id,
        options=[selectinload(Organisation.resources), selectinload(Organisation.categories)],
    )


def staff_member(org: Organisation, user_id: int) -> User | None:
    """One of the organisation's partner staff accounts (none of another's)."""
    return db.session.scalar(
        sa.select(User).where(
            User.id == user_id, User.organisation_id == org.id, User.role == Role.PARTNER
        )
    )


def set_manager(org: Organisation, user: User, manages: bool, actor: User) -> bool:
    """Let a staff member manage the organisation's staff invitations and
    resources, or no longer. False when nothing changes."""
    if user.organisation_id != org.id or user.role != Role.PARTNER:
        raise PartnerAdminError(_("Only this organisation's staff can manage it."))
    if user.manages_organisation == manages:
        return False
    user.manages_organisation = manages
    db.session.flush()
    record(
        actor,
        "user.manages_organisation",
        user,
        before={"manages_organisation": not manages, "organisation_id": org.id},
        after={"manages_organisation": manages, "organisation_id": org.id},
    )
    return True


def staff_of(org: Organisation) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.organisation_id == org.id).order_by(User.display_name)
        )
    )


def _codes(categories) -> str:
    return ", ".join(sorted(c.code for c in categories))


def _set_categories(org: Organisation, category_ids: list[int]) -> tuple[str, str] | None:
    wanted = set(category_ids)
    if wanted == {c.id for c in org.categories}:
        return None
    before = _codes(org.categories)
    chosen = (
        list(db.session.scalars(sa.select(Category).where(Category.id.in_(wanted))))
        if wanted
        else []
    )
    org.categories = chosen
    return before, _codes(chosen)


def _parent(parent_id: int | None) -> Organisation | None:
    if not parent_id:
        return None
    parent = db.session.get(Organisation, parent_id)
    if parent is None:
        raise PartnerAdminError(_("Choose an organisation from the list."), "parent")
    return parent


def _place(org: Organisation, parent_id: int | None) -> tuple[int | None, int | None] | None:
    """Put the organisation under another one (None: at the top); the parent's
    id before and after, or None when it stays where it is."""
    before = org.parent_id
    if not hierarchy.move_organisation(org, _parent(parent_id)):
        return None
    return before, org.parent_id


def create_organisation(
    values: dict, category_ids: list[int], actor: User, parent_id: int | None = None
) -> Organisation:
    org = Organisation(**values)
    db.session.add(org)
    org.categories = []
    _set_categories(org, category_ids)
    db.session.flush()  # its id, for its path
    _place(org, parent_id)
    after = {k: v for k, v in values.items() if v not in ("", None)}
    if org.categories:
        after["categories"] = _codes(org.categories)
    if org.parent_id is not None:
        after["parent_id"] = org.parent_id
    record(actor, "organisation.create", org, after=after)
    return org


def update_organisation(
    org: Organisation,
    values: dict,
    category_ids: list[int],
    actor: User,
    parent_id: int | None = None,
) -> bool:
    """False when nothing changed (and nothing is audited)."""
    before, after = apply_changes(org, values)
    changed = _set_categories(org, category_ids)
    if changed is not None:
        before["categories"], after["categories"] = changed
    moved = _place(org, parent_id)
    if moved is not None:
        before["parent_id"], after["parent_id"] = moved
    if not after:
        return False
    db.session.flush()
    record(actor, "organisation.update", org, before=before, after=after)
    return True


def get_resource(org: Organisation, resource_id: int) -> OrganisationResource | None:
    return next((r for r in org.resources if r.id == resource_id), None)


def add_resource(
    org: Organisation, kind: ResourceKind, description: str, actor: User
) -> OrganisationResource:
    resource = OrganisationResource(kind=kind, description=description)
    org.resources.append(resource)
    db.session.flush()
    record(
        actor,
        "organisation.resource_add",
        org,
        after={"resource_id": resource.id, "kind": kind.value, "description": description},
    )
    return resource


def update_resource(
    org: Organisation,
    resource: OrganisationResource,
    kind: ResourceKind,
    description: str,
    actor: User,
) -> bool:
    before, after = apply_changes(resource, {"kind": kind, "description": description})
    if not after:
        return False
    db.session.flush()
    record(
        actor,
        "organisation.resource_update",
        org,
        before={"resource_id": resource.id, **before},
        after={"resource_id": resource.id, **after},
    )
    return True


def remove_resource(org: Organisation, resource: OrganisationResource, actor: User) -> None:
    record(
        actor,
        "organisation.resource_remove",
        org,
        before={
            "resource_id": resource.id,
            "kind": resource.kind.value,
            "description": resource.description,
        },
    )
    org.resources.remove(resource)
    db.session.flush()


def _email_taken(email: str) -> bool:
    return (
        db.session.scalar(
            sa.select(User.id).where(sa.func.lower(User.email) == email.strip().lower())
        )
        is not None
    )


def invite_staff(
    org: Organisation, email: str, display_name: str, actor: User, locale: str
) -> User:
    """A partner account without a password; the e-mailed link (a password
    reset token) lets its owner choose one, which also confirms the address."""
    email = email.strip().lower()
    if _email_taken(email):
        if not actor.is_admin:  # a partner admin: the Users page is not theirs
            raise PartnerAdminError(
                _("An account with this e-mail address already exists."), "email"
            )
        raise PartnerAdminError(
            _(
                "An account with this e-mail address already exists. "
                "Change its role on the Users page instead."
            ),
            "email",
        )
    user = User(
        email=email,
        display_name=display_name,
        role=Role.PARTNER,
        organisation=org,
        email_verified_at=None,
        password_hash="",
    )
    db.session.add(user)
    db.session.flush()
    queue_email(
        user.email,
        "staff_invitation",
        locale,
        user=user,
        organisation=org,
        inviter=actor,
        reset_url=public_url("auth.reset", token=tokens.make_token(user, tokens.INVITE)),
    )
    record(
        actor,
        "user.invite",
        user,
        after={"email": email, "role": Role.PARTNER.value, "organisation_id": org.id},
    )
    return user
