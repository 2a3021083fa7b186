"""The organisations' hierarchy: a city federation above its district unions,
above their street unions.

Each organisation keeps a materialised path of its ancestors' ids and its own
(`/1/7/12/`, see `Organisation.path`). Two ways of reading it:

- the subtree of an organisation whose path is known: one range of paths,
  which the path's index serves (`subtree`, `subtree_ids`): the inbox of the
  needs below an organisation, the choices of a reassignment;
- whether the few organisations of one need (its assignments, its supporters)
  lie under a given one: their own path names that one's id (`within`), no
  need to read the given one's path first.

Staff of an organisation read what the organisations below it handle and may
reassign a need within their subtree (the workflow's `reassign` move); a child
never reads its parent's or its siblings' needs. Nothing here commits."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.domain import DomainError
from portal.extensions import db
from portal.partners.models import Organisation

#: How deep the tree may go (a city, its districts, streets, communities and a
#: spare): it bounds the path's length.
MAX_DEPTH = 6


class HierarchyError(DomainError):
    """An organisation cannot be placed there."""


def path_range(path: str) -> tuple[str, str]:
    """The half-open range [low, high) of the paths of an organisation's subtree
    (itself included): every path that starts with `path`. The range is what
    `LIKE '/1/7/%'` means, written so that an index scans it (a LIKE needs a
    special operator class on PostgreSQL): "/" sorts just before "0", so
    "/1/7" + "0" bounds exactly the paths under "/1/7/"."""
    return path, path[:-1] + "0"


def subtree(path: str, *, strict: bool = False) -> sa.ColumnElement[bool]:
    """`Organisation.path` within the subtree of the organisation with this
    path; `strict` leaves that organisation out."""
    low, high = path_range(path)
    above_low = Organisation.path > low if strict else Organisation.path >= low
    return sa.and_(above_low, Organisation.path < high)


def subtree_ids(path: str, *, strict: bool = False) -> sa.Select:
    """The ids of an organisation's subtree, as a subquery for `….in_()`."""
    return sa.select(Organisation.id).where(subtree(path, strict=strict))


def within(organisation_id: int) -> sa.ColumnElement[bool]:
    """`Organisation` is this organisation or lies under it: its own path names
    the id. For filtering the few organisations of one need; listing a subtree
    uses `subtree()`, an indexed range."""
    return Organisation.path.contains(f"/{int(organisation_id)}/")


def has_organisations_below(organisation: Organisation) -> bool:
    """Whether any organisation lies under this one (one indexed probe)."""
    return bool(
        db.session.scalar(sa.select(sa.exists().where(subtree(organisation.path, strict=True))))
    )


def organisations_below(organisation: Organisation) -> list[tuple[int, str]]:
    """Every organisation under this one, labelled with the way down to it."""
    below = list(
        db.session.scalars(sa.select(Organisation).where(subtree(organisation.path, strict=True)))
    )
    return choices([organisation, *below], leave_out={organisation.id})


def subtree_organisations(organisation: Organisation) -> list[Organisation]:
    """The organisation and every active one under it, in the tree's order."""
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(subtree(organisation.path), Organisation.is_active)
            .order_by(Organisation.path)
        )
    )


def choices(organisations: list[Organisation], leave_out=()) -> list[tuple[int, str]]:
    """(id, "City federation › District union") for a select, by that label:
    each organisation named with those of its ancestors that are in the list."""
    names = {o.id: o.name for o in organisations}
    labelled = [
        (o.id, " › ".join(names[i] for i in o.lineage_ids if i in names))
        for o in organisations
        if o.id not in leave_out
    ]
    return sorted(labelled, key=lambda choice: choice[1])


def parent_choices(organisation: Organisation | None) -> list[tuple[int, str]]:
    """Every organisation an admin may place this one under: all of them but
    itself and those under it."""
    every = list(db.session.scalars(sa.select(Organisation)))
    below = {o.id for o in every if organisation is not None and o.is_within(organisation.id)}
    return choices(every, leave_out=below)


def _height(organisation: Organisation) -> int:
    """How many levels the subtree has (1: the organisation alone)."""
    slashes = sa.func.length(Organisation.path) - sa.func.length(
        sa.func.replace(Organisation.path, "/", "")
    )
    deepest = db.session.scalar(sa.select(sa.func.max(slashes)).where(subtree(organisation.path)))
    # A path of n levels has n + 1 slashes.
    return (deepest or 0) - 1 - len(organisation.lineage_ids) + 1


def move_organisation(organisation: Organisation, parent: Organisation | None) -> bool:
    """Place the organisation (and everything under it) under `parent`, or at
    the top with None. Its subtree's paths change in one UPDATE. False when
    nothing changes. The caller audits."""
    if (parent.id if parent is not None else None) == organisation.parent_id:
        return False
    if parent is not None and parent.is_within(organisation.id):
        raise HierarchyError(
            _("An organisation cannot be placed under itself or an organisation under it."),
            "parent",
        )
    new_depth = (len(parent.lineage_ids) if parent is not None else 0) + _height(organisation)
    if new_depth > MAX_DEPTH:
        raise HierarchyError(
            _("The organisations may be at most %(n)d levels deep.", n=MAX_DEPTH), "parent"
        )
    old_path = organisation.path
    new_path = f"{parent.path if parent is not None else '/'}{organisation.id}/"
    low, high = path_range(old_path)
    db.session.execute(
        sa.update(Organisation)
        .where(Organisation.path >= low, Organisation.path < high)
        .values(
            path=sa.literal(new_path, Organisation.path.type).concat(
                sa.func.substr(Organisation.path, len(old_path) + 1)
            )
        )
        .execution_options(synchronize_session=False)
    )
    organisation.parent_id = parent.id if parent is not None else None
    organisation.parent = parent
    # The rows changed behind the session's back: read their paths again.
    for obj in db.session.identity_map.values():
        if isinstance(obj, Organisation) and obj.path.startswith(old_path):
            db.session.expire(obj, ["path"])
    return True
