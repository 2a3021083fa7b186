"""Small factories: each makes one thing the way the application would."""

from __future__ import annotations

import itertools

from portal.areas.models import Area
from portal.areas.services import AreaValues, create_area
from portal.auth.models import Role, User
from portal.categories.models import Category
from portal.extensions import db
from portal.models_base import utcnow
from portal.needs.models import Need, NeedStatus
from portal.needs.services import Submission, new_idempotency_key, submit_need
from portal.partners.models import Organisation, OrganisationKind
from portal.workflow.services import PATH_TO, Actor, transition

_seq = itertools.count(1)


def make_organisation(**kw) -> Organisation:
    n = next(_seq)
    org = Organisation(
        name_zh=kw.pop("name_zh", f"伙伴组织{n}"),
        name_en=kw.pop("name_en", f"Partner {n}"),
        kind=kw.pop("kind", OrganisationKind.NGO),
        **kw,
    )
    db.session.add(org)
    db.session.flush()
    return org


def make_category(**kw) -> Category:
    n = next(_seq)
    category = Category(
        code=kw.pop("code", f"cat{n}"),
        name_zh=kw.pop("name_zh", f"类别{n}"),
        name_en=kw.pop("name_en", f"Category {n}"),
        **kw,
    )
    db.session.add(category)
    db.session.flush()
    return category


def make_area(code: str | None = None, parent: Area | None = None, **kw) -> Area:
    """An area created as an admin would (its audit row says "system")."""
    n = next(_seq)
    values = AreaValues(
        code=code or f"A{n}",
        name_zh=kw.pop("name_zh", f"区域{n}"),
        name_en=kw.pop("name_en", f"Area {n}"),
        **kw,
    )
    return create_area(values, parent, None)


def make_user(
    role: Role = Role.MEMBER,
    organisation: Organisation | None = None,
    *,
    verified: bool = True,
    password: str | None = None,
) -> User:
    n = next(_seq)
    if role == Role.PARTNER and organisation is None:
        organisation = make_organisation()
    user = User(
        email=f"user{n}@example.org",
        display_name=f"User {n}",
        role=role,
        organisation=organisation,
        email_verified_at=utcnow() if verified else None,
    )
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def make_need(
    status: NeedStatus = NeedStatus.OPEN,
    *,
    category: Category | None = None,
    title: str | None = None,
    body: str = "A description that is long enough.",
    email: str = "",
    partner: Organisation | None = None,
    area: Area | None = None,
) -> tuple[Need, str]:
    """A need moved through the workflow to `status`; returns it and its token."""
    category = category or make_category()
    need, token = submit_need(
        Submission(
            title=title or f"Need number {next(_seq)}",
            body=body,
            category_id=category.id,
            place="",
            area_id=area.id if area is not None else None,
            email=email,
            idempotency_key=new_idempotency_key(),
            locale="en",
        ),
        Actor.public(),
    )
    admin = None
    partner = partner or make_organisation()
    staff = None
    for move in PATH_TO[status]:
        if move in ("accept", "start", "resolve"):
            staff = staff or make_user(Role.PARTNER, partner)
            actor = Actor.staff(staff)
        elif move in ("close", "withdraw"):
            actor = Actor.submitter(token_verified=True)
        else:
            admin = admin or make_user(Role.ADMIN)
            actor = Actor.staff(admin)
        kwargs = {}
        if move == "route":
            kwargs["organisation"] = partner
        if move == "mark_duplicate":
            kwargs["duplicate_of"] = make_need(NeedStatus.OPEN, category=category)[0]
        transition(
            need, move, actor, text="Because." if move in ("reject", "resolve") else "", **kwargs
        )
    db.session.flush()
    return need, token


def make_project(**kw):
    """A project led by a new organisation (for pages and comments about it)."""
    from portal.projects.models import Project

    values = {
        "title": "Training 200 workers",
        "goal": "Skills",
        "target": "200 workers",
        "lead_organisation_id": make_organisation().id,
    }
    project = Project(**(values | kw))
    db.session.add(project)
    db.session.flush()
    return project
