"""The admin pages of the partner organisations (/admin/partners): their
details, categories and place in the hierarchy, the resources they offer, and
the invitation of their staff."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth.decorators import admin_required
from portal.auth.models import ROLE_LABELS
from portal.categories.services import all_categories
from portal.core.paging import bounded_page
from portal.extensions import db
from portal.forms import EmptyForm, require_token, show_domain_error, submit_form
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.i18n import current_locale_code
from portal.partners import admin_services as services
from portal.partners import hierarchy
from portal.partners.forms import InviteStaffForm, OrganisationForm, ResourceForm
from portal.partners.models import Organisation, OrganisationKind, ResourceKind

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


def _resource_form(resource) -> ResourceForm:
    return ResourceForm(
        formdata=None, data={"kind": resource.kind.value, "description": resource.description}
    )


def _form(org: Organisation | None = None, **kw) -> OrganisationForm:
    return OrganisationForm(
        categories=all_categories(), parents=hierarchy.parent_choices(org), **kw
    )


def _partner_context(org: Organisation, **overrides) -> dict:
    context = {
        "org": org,
        "form": _form(org, formdata=None, data=_org_form_data(org))
        if "form" not in overrides
        else overrides["form"],
        "resource_forms": {r.id: _resource_form(r) for r in org.resources},
        "new_resource_form": ResourceForm(formdata=None),
        "invite_form": InviteStaffForm(formdata=None),
        "button_form": EmptyForm(formdata=None),
        "staff": services.staff_of(org),
        "role_labels": ROLE_LABELS,
        "notice": None,
    }
    if "resource_forms" in overrides:
        context["resource_forms"].update(overrides.pop("resource_forms"))
    context.update(overrides)
    return context


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


def _section_saved(org: Organisation, fragment: str, anchor: str, message: str):
    """htmx swaps the fresh section in place; a plain request goes back to the page."""
    if is_fragment_request():
        return render(fragment, context=_partner_context(org, notice=message))
    flash(message, "success")
    return redirect_after_post(url_for("partner_admin.edit", org_id=org.id) + anchor)


def _resources_invalid(org: Organisation, **overrides):
    return render_invalid(
        "partners/admin/edit.html",
        "partners/admin/_resources.html",
        context=_partner_context(org, **overrides),
    )


@bp.post("/<int:org_id>/resources")
@admin_required
def add_resource(org_id: int):
    org = _org_or_404(org_id)
    form = ResourceForm()
    if not form.validate():
        return _resources_invalid(org, new_resource_form=form)
    services.add_resource(org, ResourceKind(form.kind.data), form.description.data, current_user)
    db.session.commit()
    return _section_saved(
        org, "partners/admin/_resources.html", "#resources", _("The resource is added.")
    )


def _resource_or_404(org: Organisation, resource_id: int):
    resource = services.get_resource(org, resource_id)
    if resource is None:
        abort(404)
    return resource


@bp.post("/<int:org_id>/resources/<int:resource_id>")
@admin_required
def update_resource(org_id: int, resource_id: int):
    org = _org_or_404(org_id)
    resource = _resource_or_404(org, resource_id)
    form = ResourceForm()
    if not form.validate():
        return _resources_invalid(org, resource_forms={resource.id: form})
    changed = services.update_resource(
        org, resource, ResourceKind(form.kind.data), form.description.data, current_user
    )
    db.session.commit()
    message = _("The resource is saved.") if changed else _("Nothing changed.")
    return _section_saved(org, "partners/admin/_resources.html", "#resources", message)


@bp.post("/<int:org_id>/resources/<int:resource_id>/remove")
@admin_required
def remove_resource(org_id: int, resource_id: int):
    org = _org_or_404(org_id)
    resource = _resource_or_404(org, resource_id)
    require_token()
    services.remove_resource(org, resource, current_user)
    db.session.commit()
    return _section_saved(
        org, "partners/admin/_resources.html", "#resources", _("The resource is removed.")
    )


@bp.post("/<int:org_id>/staff")
@admin_required
def invite_staff(org_id: int):
    org = _org_or_404(org_id)
    form = InviteStaffForm()

    def invalid():
        return render_invalid(
            "partners/admin/edit.html",
            "partners/admin/_staff.html",
            context=_partner_context(org, invite_form=form),
        )

    if not form.validate():
        return invalid()
    try:
        user = services.invite_staff(
            org, form.email.data, form.display_name.data, current_user, current_locale_code()
        )
        db.session.commit()
    except (services.PartnerAdminError, IntegrityError) as error:
        db.session.rollback()
        if not isinstance(error, services.PartnerAdminError):
            error = services.PartnerAdminError(
                _("An account with this e-mail address already exists."), "email"
            )
        show_domain_error(form, error)
        return invalid()
    return _section_saved(
        org,
        "partners/admin/_staff.html",
        "#staff",
        _("An invitation is on its way to %(email)s.", email=user.email),
    )
