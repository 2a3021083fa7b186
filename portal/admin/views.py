"""Admin management: users, settings, audit log, quality checks."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.admin import services
from portal.admin.forms import (
    CHECK_OUTCOMES,
    ROLE_LABELS,
    CheckOutcomeForm,
    RoleForm,
    SampleForm,
    SettingsForm,
    TwoFactorPolicyForm,
)
from portal.admin.services import AdminError
from portal.auth.decorators import admin_required
from portal.auth.models import Role
from portal.core.paging import Page, bounded_page
from portal.core.params import arg_int, arg_text, bounded_text
from portal.extensions import db
from portal.forms import EmptyForm, require_token, show_domain_error
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.partners.admin_services import all_organisations
from portal.partners.models import Organisation
from portal.workdays.services import local_today

bp = Blueprint("admin", __name__, url_prefix="/admin")


# --- users -----------------------------------------------------------------------


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
def users():
    q = arg_text("q", 100)
    page = services.users_page(q, bounded_page(request.args.get("page")))
    return render("admin/users.html", "admin/_users_list.html", context=_users_context(q, page))


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
        return render("admin/_user_row.html", context={"user": user, **context})
    if error:
        page = Page(items=[user], page=1, has_next=False)
        return render("admin/users.html", context=_users_context(q, page, **extra), status=422)
    flash(notice or "", "success")
    return redirect_after_post(url_for("admin.users", q=q or None, page=page_number))


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
    except AdminError as error:
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
    except AdminError as error:
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
    except AdminError as error:
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


# --- settings --------------------------------------------------------------------


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def settings():
    if request.method == "POST":
        form = SettingsForm()
        if not form.validate():
            return render_invalid(
                "admin/settings.html", "admin/_settings_form.html", context={"form": form}
            )
        try:
            changed = services.save_settings(
                bool(form.route_on_publish.data),
                form.escalate_after_days.data,
                current_user,
                comment_premoderation=bool(form.comment_premoderation.data),
                links_per_text=form.links_per_text.data,
                links_min_contributions=form.links_min_contributions.data,
            )
        except AdminError as error:
            db.session.rollback()
            show_domain_error(form, error)
            return render_invalid(
                "admin/settings.html", "admin/_settings_form.html", context={"form": form}
            )
        db.session.commit()
        flash(_("The settings are saved.") if changed else _("Nothing changed."), "success")
        return redirect_after_post(url_for("admin.settings"))
    form = SettingsForm(formdata=None, data=services.current_settings())
    return render("admin/settings.html", context={"form": form})


@bp.route("/settings/two-factor", methods=["GET", "POST"])
@admin_required
def two_factor_policy():
    """From when staff must use two-factor sign-in (the grace period before it)."""
    from portal.auth.two_factor import required_from

    enrolled, staff = services.two_factor_counts()
    context = {"enrolled": enrolled, "staff": staff}
    if request.method == "POST":
        form = TwoFactorPolicyForm()
        if not form.validate():
            return render_invalid("admin/two_factor_policy.html", context={"form": form, **context})
        changed = services.save_two_factor_policy(form.required_from.data, current_user)
        db.session.commit()
        flash(_("The settings are saved.") if changed else _("Nothing changed."), "success")
        return redirect_after_post(url_for("admin.two_factor_policy"))
    form = TwoFactorPolicyForm(formdata=None, data={"required_from": required_from()})
    return render("admin/two_factor_policy.html", context={"form": form, **context})


# --- the audit log -----------------------------------------------------------------


@bp.get("/audit")
@admin_required
def audit():
    filters = services.AuditFilters.from_args(request.args)
    page = services.audit_page(filters, before=arg_int("before"), after=arg_int("after"))
    return render(
        "admin/audit.html",
        "admin/_audit_results.html",
        context={
            "page": page,
            "filters": filters,
            "changes": services.changes,
            "zone": current_app.config["BABEL_DEFAULT_TIMEZONE"],
        },
    )


# --- quality checks --------------------------------------------------------------


def _checks_context(form: SampleForm | None = None, only_sample: str | None = None, **extra):
    page_number = bounded_page(request.args.get("page"))
    samples, has_next = services.samples_page(page_number, only_sample=only_sample)
    if form is None:
        today = local_today()
        form = SampleForm(
            formdata=None,
            data={"size": 10, "date_from": today - timedelta(days=30), "date_to": today},
        )
    return {
        "form": form,
        "samples": samples,
        "page_number": page_number,
        "has_next": has_next,
        "only_sample": only_sample,
        "outcomes": CHECK_OUTCOMES,
        "check_errors": {},
        "check_values": {},
        "check_notices": {},
        "button_form": EmptyForm(formdata=None),
        **extra,
    }


@bp.route("/checks", methods=["GET", "POST"])
@admin_required
def checks():
    if request.method == "POST":
        form = SampleForm()

        def invalid():
            return render_invalid(
                "admin/checks.html", "admin/_sample_form.html", context=_checks_context(form)
            )

        if not form.validate():
            return invalid()
        try:
            sample, drawn = services.draw_sample(
                form.size.data, form.date_from.data, form.date_to.data, current_user
            )
        except AdminError as error:
            db.session.rollback()
            show_domain_error(form, error)
            return invalid()
        db.session.commit()
        flash(
            _("Sample %(sample)s: %(count)d needs drawn.", sample=sample, count=len(drawn)),
            "success",
        )
        return redirect_after_post(url_for("admin.checks", sample=sample))
    only = arg_text("sample", 40) or None
    return render("admin/checks.html", context=_checks_context(only_sample=only))


@bp.post("/checks/<int:check_id>")
@admin_required
def record_check(check_id: int):
    check = services.get_check(check_id)
    if check is None:
        abort(404)
    form = CheckOutcomeForm()
    error = None
    if not form.validate():
        errors = (e for f in (form.outcome, form.notes, form.csrf_token) for e in f.errors)
        error = next(errors, _("Please choose an outcome."))
    else:
        try:
            changed = services.record_check_outcome(
                check, form.outcome.data, form.notes.data or "", current_user
            )
            db.session.commit()
        except AdminError as refused:
            db.session.rollback()
            error = str(refused)
    if error is not None:
        values = (form.outcome.data or "", form.notes.data or "")
        if is_fragment_request():
            return _check_row_answer(
                check.id, check_errors={check.id: str(error)}, check_values={check.id: values}
            )
        return render_invalid(
            "admin/checks.html",
            context=_checks_context(
                only_sample=check.sample,
                check_errors={check.id: str(error)},
                check_values={check.id: values},
            ),
        )
    notice = _("The outcome is recorded.") if changed else _("Nothing changed.")
    if is_fragment_request():
        return _check_row_answer(check.id, check_notices={check.id: notice})
    flash(notice, "success")
    return redirect_after_post(url_for("admin.checks", sample=check.sample) + f"#check-{check.id}")


def _check_row_answer(check_id: int, **extra):
    context = {
        "outcomes": CHECK_OUTCOMES,
        "check_errors": {},
        "check_values": {},
        "check_notices": {},
        "button_form": EmptyForm(formdata=None),
    }
    context.update(extra)
    return render("admin/_check_row.html", context={"row": services.check_row(check_id), **context})
