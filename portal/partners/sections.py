"""The resources and staff sections of an organisation's page, shared by the
portal admins' page of a partner (/admin/partners/<id>) and the partner
admins' page of their own organisation (/partner/organisation).

Each page names its templates, its endpoints and its context; the sections'
views (add, change and remove a resource, invite staff) are the same: parse
the form, call the one service of `admin_services` (which audits), commit
once, then the fresh section for htmx or a 303 back to the page."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from portal.auth.models import ROLE_LABELS
from portal.extensions import db
from portal.forms import EmptyForm, require_token, show_domain_error
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.i18n import current_locale_code
from portal.partners import admin_services as services
from portal.partners.forms import InviteStaffForm, ResourceForm
from portal.partners.models import Organisation, OrganisationResource, ResourceKind

RESOURCES = "partners/admin/_resources.html"
STAFF = "partners/admin/_staff.html"


def _resource_form(resource: OrganisationResource) -> ResourceForm:
    return ResourceForm(
        formdata=None, data={"kind": resource.kind.value, "description": resource.description}
    )


def section_context(org: Organisation, sections: Sections, **overrides) -> dict:
    """What the two sections show: the resources with a form each, the staff,
    the empty forms to add a resource and invite someone (or those posted)."""
    context = {
        "org": org,
        "sections": sections,
        "resource_forms": {r.id: _resource_form(r) for r in org.resources},
        "new_resource_form": ResourceForm(formdata=None),
        "invite_form": InviteStaffForm(formdata=None),
        "button_form": EmptyForm(formdata=None),
        "staff": services.staff_of(org),
        "role_labels": ROLE_LABELS,
        "notice": None,
        "may_set_managers": False,
    }
    if "resource_forms" in overrides:
        context["resource_forms"].update(overrides.pop("resource_forms"))
    context.update(overrides)
    return context


@dataclass(frozen=True)
class Sections:
    #: The full page the sections are part of.
    page: str
    #: The blueprint whose views are `page_view`, `add_resource`, `update_resource`,
    #: `remove_resource` and `invite_staff`.
    blueprint: str
    page_view: str
    #: The page's context for an organisation, with overrides (forms with errors, a notice).
    context: Callable[..., dict]
    #: The URL arguments that name the organisation (none on the partner's own page).
    url_args: Callable[[Organisation], dict]

    def url(self, view: str, org: Organisation, **kw) -> str:
        return url_for(f"{self.blueprint}.{view}", **self.url_args(org), **kw)

    def saved(self, org: Organisation, fragment: str, anchor: str, message: str):
        """htmx swaps the fresh section in place; a plain request goes back to the page."""
        if is_fragment_request():
            return render(fragment, context=self.context(org, notice=message))
        flash(message, "success")
        return redirect_after_post(self.url(self.page_view, org) + anchor)

    def _invalid(self, org: Organisation, fragment: str, **overrides):
        return render_invalid(self.page, fragment, context=self.context(org, **overrides))

    def _resource_or_404(self, org: Organisation, resource_id: int) -> OrganisationResource:
        resource = services.get_resource(org, resource_id)
        if resource is None:
            abort(404)
        return resource

    def add_resource(self, org: Organisation):
        form = ResourceForm()
        if not form.validate():
            return self._invalid(org, RESOURCES, new_resource_form=form)
        services.add_resource(
            org, ResourceKind(form.kind.data), form.description.data, current_user
        )
        db.session.commit()
        return self.saved(org, RESOURCES, "#resources", _("The resource is added."))

    def update_resource(self, org: Organisation, resource_id: int):
        resource = self._resource_or_404(org, resource_id)
        form = ResourceForm()
        if not form.validate():
            return self._invalid(org, RESOURCES, resource_forms={resource.id: form})
        changed = services.update_resource(
            org, resource, ResourceKind(form.kind.data), form.description.data, current_user
        )
        db.session.commit()
        message = _("The resource is saved.") if changed else _("Nothing changed.")
        return self.saved(org, RESOURCES, "#resources", message)

    def remove_resource(self, org: Organisation, resource_id: int):
        resource = self._resource_or_404(org, resource_id)
        require_token()
        services.remove_resource(org, resource, current_user)
        db.session.commit()
        return self.saved(org, RESOURCES, "#resources", _("The resource is removed."))

    def invite_staff(self, org: Organisation):
        form = InviteStaffForm()
        if not form.validate():
            return self._invalid(org, STAFF, invite_form=form)
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
            return self._invalid(org, STAFF, invite_form=form)
        return self.saved(
            org, STAFF, "#staff", _("An invitation is on its way to %(email)s.", email=user.email)
        )
