"""/partners and /partners/<id>: the public directory and a page per partner.
Only active partners are shown; nothing here names a staff member or shows a
person's contact details (the organisation's own e-mail and phone are public)."""

from __future__ import annotations

from flask import Blueprint, abort, request

from portal.areas.served import served_areas
from portal.areas.tree import choice_for, resolve
from portal.htmx import render
from portal.partners import public as services
from portal.partners.cohandlers import support_figures
from portal.partners.models import OrganisationKind
from portal.transparency.services import Filters

bp = Blueprint("directory", __name__)


@bp.get("/partners")
def index():
    value = request.args.get("kind", "")
    kind = OrganisationKind(value) if value in set(OrganisationKind) else None
    area = resolve(request.args.getlist("area")).area
    return render(
        "partners/directory.html",
        context={
            "groups": services.directory(kind, area),
            "area": area,
            "area_choice": choice_for(area),
            "counts": services.kind_counts(),
            "kind": kind,
            "kinds": list(OrganisationKind),
        },
    )


@bp.get("/partners/<int:organisation_id>")
def show(organisation_id: int):
    organisation = services.public_partner(organisation_id)
    if organisation is None:
        abort(404)
    filters = Filters.from_args(request.args)
    return render(
        "partners/public.html",
        "partners/_public_metrics.html",
        context={
            "organisation": organisation,
            "projects": services.partner_projects(organisation),
            "served": served_areas(organisation),
            "metrics": services.partner_metrics(organisation, filters.period),
            "support": support_figures(organisation.id, filters.period.start, filters.period.end),
            "open_now": services.open_assignments(organisation),
            "filters": filters,
        },
    )
