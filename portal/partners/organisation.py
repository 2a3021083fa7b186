"""A partner admin's page of their own organisation (/partner/organisation):
invite its staff and keep the resources it offers, as the portal admins do on
/admin/partners/<id> (the same sections, services and audit rows). Always the
signed-in staff member's own organisation: the URLs name none, and another
organisation's resource answers 404."""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user

from portal.auth.decorators import partner_admin_required
from portal.htmx import render
from portal.partners import admin_services as services
from portal.partners import hierarchy
from portal.partners.models import Organisation
from portal.partners.sections import Sections, section_context

bp = Blueprint("partner_org", __name__, url_prefix="/partner/organisation")

PAGE = "partners/organisation.html"


def _own() -> Organisation:
    return services.get_organisation(current_user.organisation_id)


def _context(org: Organisation, **overrides) -> dict:
    return section_context(org, SECTIONS, **overrides)


SECTIONS = Sections(
    page=PAGE,
    blueprint="partner_org",
    page_view="index",
    context=_context,
    url_args=lambda org: {},
)


@bp.get("")
@partner_admin_required
def index():
    org = _own()
    return render(
        PAGE,
        context=_context(org, parent=org.parent, below=hierarchy.organisations_below(org)),
    )


@bp.post("/resources")
@partner_admin_required
def add_resource():
    return SECTIONS.add_resource(_own())


@bp.post("/resources/<int:resource_id>")
@partner_admin_required
def update_resource(resource_id: int):
    return SECTIONS.update_resource(_own(), resource_id)


@bp.post("/resources/<int:resource_id>/remove")
@partner_admin_required
def remove_resource(resource_id: int):
    return SECTIONS.remove_resource(_own(), resource_id)


@bp.post("/staff")
@partner_admin_required
def invite_staff():
    return SECTIONS.invite_staff(_own())
