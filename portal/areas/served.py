"""The areas an organisation serves: kept by the portal admins on the
partner's admin page, shown on its public page, and the directory's filter
(/partners?area=CODE: the organisations serving that area, whether they serve
it from above, a whole city, or within it, one of its streets)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from portal.areas.models import Area, lineage, organisation_areas, subtree
from portal.audit.services import record
from portal.domain import DomainError
from portal.extensions import db
from portal.partners.models import Organisation

#: An organisation serving more areas than this serves a larger one.
MAX_SERVED = 50


class ServedAreaError(DomainError):
    """An area that cannot be added to an organisation that way."""


def served_areas(organisation: Organisation) -> list[Area]:
    """Its areas, each after its parent (one query)."""
    return list(
        db.session.scalars(
            sa.select(Area)
            .join(organisation_areas, organisation_areas.c.area_id == Area.id)
            .where(organisation_areas.c.organisation_id == organisation.id)
            .order_by(Area.path)
        )
    )


def add_served_area(organisation: Organisation, area: Area | None, actor) -> None:
    if area is None:
        raise ServedAreaError(_("Choose an area."), "area")
    present = served_areas(organisation)
    if any(a.id == area.id for a in present):
        raise ServedAreaError(_("This organisation serves that area already."), "area")
    if len(present) >= MAX_SERVED:
        raise ServedAreaError(_("This organisation serves too many areas already."), "area")
    db.session.execute(
        organisation_areas.insert().values(organisation_id=organisation.id, area_id=area.id)
    )
    record(actor, "partner.area_add", organisation, after={"area": area.code})


def remove_served_area(organisation: Organisation, area: Area, actor) -> bool:
    removed = db.session.execute(
        organisation_areas.delete().where(
            organisation_areas.c.organisation_id == organisation.id,
            organisation_areas.c.area_id == area.id,
        )
    )
    if removed.rowcount:
        record(actor, "partner.area_remove", organisation, before={"area": area.code})
    return bool(removed.rowcount)


def serving(area: Area) -> sa.Select:
    """The ids of the organisations serving the area: from one of its
    ancestors (or itself), or from an area within it."""
    return (
        sa.select(organisation_areas.c.organisation_id)
        .join(Area, Area.id == organisation_areas.c.area_id)
        .where(sa.or_(Area.id.in_(lineage(area.path)), subtree(area.path)))
    )
