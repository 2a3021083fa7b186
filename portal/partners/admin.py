"""The admin pages of the partner organisations (/admin/partners): their
details, categories and place in the hierarchy, the resources they offer, the
invitation of their staff and who among them manages the organisation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.areas import served
from portal.areas.forms import ServedAreaForm, chose_next_level
from portal.auth.decorators import admin_required
from portal.categories.services import all_categories
from portal.core.paging import bounded_page
from portal.extensions import db
from portal.forms import require_token, submit_form
from portal.htmx import redirect_after_post, render, render_invalid
from portal.partners import admin_services as services
from portal.partners import hierarchy
from portal.partners.forms import OrganisationForm
from portal.partners.models import Organisation, OrganisationKind
from portal.partners.sections import STAFF, Sections, section_context

bp = Blueprint("partner_admin", __name__, url_prefix="/admin/partners")


def _kind_arg(value: str | None) -> OrganisationKind | None:
    try:
        return OrganisationKind(value) if value else None
    except ValueError:
        return None


@bp.get("")
@admin_required
def index():
    kind = _kind_arg(request.args.get("kind"))
    page = services.partners_page(kind, bounded_page(request.args.get("page")))
    return render(
        "partners/admin/index.html",
        "partners/admin/_list.html",
        context={"page": page, "kind": kind, "kinds": list(OrganisationKind)},
    )


def _org_or_404(org_id: int) -> Organisation:
    org = services.get_organisation(org_id)
    if org is None:
        abort(404)
    return org


def _org_form_data(org: Organisation) -> dict:
    return {
        "name_zh": org.name_zh,
        "name_en": org.name_en,
        "kind": org.kind.value,
        "description_zh": org.description_zh,
        "description_en": org.description_en,
        "contact_email": org.contact_email,
        "contact_phone": org.contact_phone,
        "is_active": org.is_active,
        "categories": [c.id for c in org.categories],
        "parent": org.parent_id,
    }


def _org_values(form: OrganisationForm) -> dict:
    return {
        "name_zh": form.name_zh.data,
        "name_en": form.name_en.data or "",
        "kind": OrganisationKind(form.kind.data),
        "description_zh": form.description_zh.data or "",
        "description_en": form.description_en.data or "",
        "contact_email": form.contact_email.data or "",
        "contact_phone": form.contact_phone.data or "",
        "is_active": bool(form.is_active.data),
    }


def _form(org: Organisation | None = None, **kw) -> OrganisationForm:
    return OrganisationForm(
        categories=all_categories(), parents=hierarchy.parent_choices(org), **kw
    )


def _partner_context(org: Organisation, **overrides) -> dict:
    if "form" not in overrides:
        overrides["form"] = _form(org, formdata=None, data=_org_form_data(org))
    overrides.setdefault("area_form", ServedAreaForm(formdata=None))
    overrides["served"] = served.served_areas(org)
    return section_context(org, SECTIONS, may_set_managers=True, **overrides)


SECTIONS = Sections(
    page="partners/admin/edit.html",
    blueprint="partner_admin",
    page_view="edit",
    context=_partner_context,
    url_args=lambda org: {"org_id": org.id},
)


@bp.route("/new", methods=["GET", "POST"])
@admin_required
def new():
    form = _form()
    if request.method == "GET":
        return render("partners/admin/new.html", context={"form": form, "org": None})

    def apply():
        return services.create_organisation(
            _org_values(form), form.categories.data, current_user, form.parent.data
        )

    def done(org):
        flash(_("The partner “%(name)s” is created.", name=org.name), "success")
        return redirect_after_post(url_for("partner_admin.edit", org_id=org.id))

    def again(form):
        return render_invalid(
            "partners/admin/new.html",
            "partners/admin/_form.html",
            context={"form": form, "org": None},
        )

    return submit_form(form, apply, done=done, again=again)


@bp.route("/<int:org_id>", methods=["GET", "POST"])
@admin_required
def edit(org_id: int):
    org = _org_or_404(org_id)
    if request.method == "GET":
        return render("partners/admin/edit.html", context=_partner_context(org))
    form = _form(org)

    def apply():
        return services.update_organisation(
            org, _org_values(form), form.categories.data, current_user, form.parent.data
        )

    def done(changed):
        if changed:
            flash(_("The partner is saved."), "success")
        else:
            flash(_("Nothing changed."), "info")
        return redirect_after_post(url_for("partner_admin.edit", org_id=org.id))

    def again(form):
        return render_invalid(
            "partners/admin/edit.html",
            "partners/admin/_form.html",
            context=_partner_context(org, form=form),
        )

    return submit_form(form, apply, done=done, again=again)


@bp.post("/<int:org_id>/resources")
@admin_required
def add_resource(org_id: int):
    return SECTIONS.add_resource(_org_or_404(org_id))


@bp.post("/<int:org_id>/resources/<int:resource_id>")
@admin_required
def update_resource(org_id: int, resource_id: int):
    return SECTIONS.update_resource(_org_or_404(org_id), resource_id)


@bp.post("/<int:org_id>/resources/<int:resource_id>/remove")
@admin_required
def remove_resource(org_id: int, resource_id: int):
    return SECTIONS.remove_resource(_org_or_404(org_id), resource_id)


@bp.post("/<int:org_id>/areas")
@admin_required
def add_area(org_id: int):
    """An area the organisation serves (without JavaScript, "Choose" shows the
    next level of the choice and saves nothing)."""
    org = _org_or_404(org_id)
    form = ServedAreaForm()
    if chose_next_level():
        form.validate()
        return render("partners/admin/edit.html", context=_partner_context(org, area_form=form))

    def done(_result):
        flash(_("The area is added."), "success")
        return redirect_after_post(url_for("partner_admin.edit", org_id=org.id) + "#areas")

    return submit_form(
        form,
        lambda: served.add_served_area(org, form.area.data, current_user),
        done=done,
        again=lambda form: render_invalid(
            "partners/admin/edit.html", context=_partner_context(org, area_form=form)
        ),
    )


@bp.post("/<int:org_id>/areas/<int:area_id>/remove")
@admin_required
def remove_area(org_id: int, area_id: int):
    org = _org_or_404(org_id)
    require_token()
    area = next((a for a in served.served_areas(org) if a.id == area_id), None)
    if area is None:
        abort(404)
    served.remove_served_area(org, area, current_user)
    db.session.commit()
    flash(_("The area is removed."), "success")
    return redirect_after_post(url_for("partner_admin.edit", org_id=org.id) + "#areas")


@bp.post("/<int:org_id>/staff")
@admin_required
def invite_staff(org_id: int):
    return SECTIONS.invite_staff(_org_or_404(org_id))


def _staff_member_or_404(org: Organisation, user_id: int):
    user = services.staff_member(org, user_id)
    if user is None:
        abort(404)
    return user


@bp.post("/<int:org_id>/staff/<int:user_id>/manager")
@admin_required
def set_manager(org_id: int, user_id: int):
    """Let a staff member manage the organisation (its invitations and
    resources, on /partner/organisation), or no longer."""
    org = _org_or_404(org_id)
    user = _staff_member_or_404(org, user_id)
    require_token()
    manages = request.form.get("manages") == "1"
    changed = services.set_manager(org, user, manages, current_user)
    db.session.commit()
    if not changed:
        message = _("Nothing changed.")
    elif manages:
        message = _(
            "%(name)s now manages the organisation's staff and resources.", name=user.display_name
        )
    else:
        message = _("%(name)s no longer manages the organisation.", name=user.display_name)
    return SECTIONS.saved(org, STAFF, "#staff", message)
