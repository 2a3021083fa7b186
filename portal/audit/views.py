"""The audit log (/admin/audit) and the quality checks (/admin/checks)."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.audit import checks as services
from portal.audit.forms import CheckOutcomeForm, SampleForm
from portal.audit.log import AuditFilters, audit_page, changes
from portal.audit.models import CHECK_OUTCOMES
from portal.auth.decorators import admin_required
from portal.core.paging import bounded_page
from portal.core.params import arg_int, arg_text
from portal.extensions import db
from portal.forms import EmptyForm, show_domain_error
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.workdays.services import local_today

bp = Blueprint("audit", __name__, url_prefix="/admin")


# --- the audit log -----------------------------------------------------------------


@bp.get("/audit")
@admin_required
def log():
    filters = AuditFilters.from_args(request.args)
    page = audit_page(filters, before=arg_int("before"), after=arg_int("after"))
    return render(
        "audit/log.html",
        "audit/_log_results.html",
        context={
            "page": page,
            "filters": filters,
            "changes": changes,
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
                "audit/checks.html", "audit/_sample_form.html", context=_checks_context(form)
            )

        if not form.validate():
            return invalid()
        try:
            sample, drawn = services.draw_sample(
                form.size.data, form.date_from.data, form.date_to.data, current_user
            )
        except services.QualityCheckError as error:
            db.session.rollback()
            show_domain_error(form, error)
            return invalid()
        db.session.commit()
        flash(
            _("Sample %(sample)s: %(count)d needs drawn.", sample=sample, count=len(drawn)),
            "success",
        )
        return redirect_after_post(url_for("audit.checks", sample=sample))
    only = arg_text("sample", 40) or None
    return render("audit/checks.html", context=_checks_context(only_sample=only))


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
        except services.QualityCheckError as refused:
            db.session.rollback()
            error = str(refused)
    if error is not None:
        values = (form.outcome.data or "", form.notes.data or "")
        if is_fragment_request():
            return _check_row_answer(
                check.id, check_errors={check.id: str(error)}, check_values={check.id: values}
            )
        return render_invalid(
            "audit/checks.html",
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
    return redirect_after_post(url_for("audit.checks", sample=check.sample) + f"#check-{check.id}")


def _check_row_answer(check_id: int, **extra):
    context = {
        "outcomes": CHECK_OUTCOMES,
        "check_errors": {},
        "check_values": {},
        "check_notices": {},
        "button_form": EmptyForm(formdata=None),
    }
    context.update(extra)
    return render("audit/_check_row.html", context={"row": services.check_row(check_id), **context})
