"""The admin pages of the accounts: the users (/admin/users: roles,
deactivation, two-factor reset) and the two-factor requirement for staff
(/admin/settings/two-factor)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth import admin_services as services
from portal.auth import two_factor
from portal.auth.decorators import admin_required
from portal.auth.forms import RoleForm, TwoFactorPolicyForm
from portal.auth.models import ROLE_LABELS, Role
from portal.core.paging import Page, bounded_page
from portal.core.params import arg_text, bounded_text
from portal.extensions import db
from portal.forms import EmptyForm, require_token
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.partners.admin_services import all_organisations
from portal.partners.models import Organisation

bp = Blueprint("users", __name__, url_prefix="/admin")


def _users_context(q: str, page, **extra) -> dict:
    return {
        "page": page,
        "q": q,
        "organisations": all_organisations(),
        "role_labels": ROLE_LABELS,
        "button_form": EmptyForm(formdata=None),
        "row_errors": {},
        "row_notices": {},
        "row_values": {},
        **extra,
    }


@bp.get("/users")
@admin_required
def index():
    q = arg_text("q", 100)
    page = services.users_page(q, bounded_page(request.args.get("page")))
    return render(
        "auth/admin/users.html", "auth/admin/_users_list.html", context=_users_context(q, page)
    )


def _user_or_404(user_id: int):
    user = services.get_user(user_id)
    if user is None:
        abort(404)
    return user


def _user_answer(user, *, error: str | None = None, notice: str | None = None, values=None):
    """The user's row for htmx; for a plain request a redirect back to the list,
    or (on error) the list showing just this account with the message."""
    q = bounded_text(request.form.get("q"), 100)
    page_number = bounded_page(request.form.get("page"))
    extra = {
        "row_errors": {user.id: error} if error else {},
        "row_notices": {user.id: notice} if notice else {},
        "row_values": {user.id: values} if values else {},
    }
    if is_fragment_request():
        context = _users_context(q, Page([], page_number, False), **extra)
        return render("auth/admin/_user_row.html", context={"user": user, **context})
    if error:
        page = Page(items=[user], page=1, has_next=False)
        return render("auth/admin/users.html", context=_users_context(q, page, **extra), status=422)
    flash(notice or "", "success")
    return redirect_after_post(url_for("users.index", q=q or None, page=page_number))


@bp.post("/users/<int:user_id>/role")
@admin_required
def change_role(user_id: int):
    user = _user_or_404(user_id)
    form = RoleForm()
    chosen = (form.role.data or "", form.organisation.data or 0)
    if not form.validate():
        errors = [e for f in (form.role, form.organisation, form.csrf_token) for e in f.errors]
        return _user_answer(user, error=str(errors[0]), values=chosen)
    organisation = None
    if form.organisation.data:
        organisation = db.session.get(Organisation, form.organisation.data)
        if organisation is None:
            return _user_answer(user, error=_("Please choose an organisation."), values=chosen)
    try:
        changed = services.change_role(user, Role(form.role.data), organisation, current_user)
    except services.UserAdminError as error:
        db.session.rollback()
        return _user_answer(user, error=str(error), values=chosen)
    db.session.commit()
    if changed:
        notice = _(
            "%(name)s is now: %(role)s. They must log in again.",
            name=user.display_name,
            role=ROLE_LABELS[user.role],
        )
    else:
        notice = _("Nothing changed.")
    return _user_answer(user, notice=notice)


@bp.post("/users/<int:user_id>/active")
@admin_required
def set_active(user_id: int):
    user = _user_or_404(user_id)
    require_token()
    active = request.form.get("active") == "1"
    try:
        changed = services.set_active(user, active, current_user)
    except services.UserAdminError as error:
        db.session.rollback()
        return _user_answer(user, error=str(error))
    db.session.commit()
    if not changed:
        notice = _("Nothing changed.")
    elif active:
        notice = _("%(name)s can log in again.", name=user.display_name)
    else:
        notice = _("%(name)s is deactivated and logged out.", name=user.display_name)
    return _user_answer(user, notice=notice)


@bp.post("/users/<int:user_id>/two-factor")
@admin_required
def reset_two_factor(user_id: int):
    user = _user_or_404(user_id)
    require_token()
    try:
        changed = services.reset_two_factor(user, current_user)
    except services.UserAdminError as error:
        db.session.rollback()
        return _user_answer(user, error=str(error))
    db.session.commit()
    if changed:
        notice = _(
            "The two-factor sign-in of %(name)s is reset; they are logged out and set it "
            "up again at their next login.",
            name=user.display_name,
        )
    else:
        notice = _("Nothing changed.")
    return _user_answer(user, notice=notice)


@bp.route("/settings/two-factor", methods=["GET", "POST"])
@admin_required
def two_factor_policy():
    """From when staff must use two-factor sign-in (the grace period before it)."""
    enrolled, staff = two_factor.staff_counts()
    context = {"enrolled": enrolled, "staff": staff}
    if request.method == "POST":
        form = TwoFactorPolicyForm()
        if not form.validate():
            return render_invalid(
                "auth/admin/two_factor_policy.html", context={"form": form, **context}
            )
        changed = two_factor.set_required_from(form.required_from.data, current_user)
        db.session.commit()
        flash(_("The settings are saved.") if changed else _("Nothing changed."), "success")
        return redirect_after_post(url_for("users.two_factor_policy"))
    form = TwoFactorPolicyForm(formdata=None, data={"required_from": two_factor.required_from()})
    return render("auth/admin/two_factor_policy.html", context={"form": form, **context})
