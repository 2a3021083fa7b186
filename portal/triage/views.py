"""Admin triage: the dashboard, the queue, the admin page of a need, staff intake."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from portal.areas.forms import chose_next_level
from portal.auth.decorators import admin_required, role_required
from portal.auth.models import Role
from portal.core.params import arg_int, arg_text
from portal.core.routes import add_move_routes
from portal.core.views import safe_next
from portal.extensions import db
from portal.forms import bind_form_key, new_form_key, submit_form
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.models_base import utcnow
from portal.moderation.services import need_flags
from portal.needs import services as needs_services
from portal.needs import submission
from portal.needs.models import Channel
from portal.needs.tokens import tracking_token_for
from portal.open311.questions import ask_questions
from portal.partners import services as partner_services
from portal.partners.models import AssignmentRequest
from portal.photos.forms import HidePhotoForm
from portal.photos.services import photos_for_need, receive_form_photos
from portal.photos.views import accepts_photos
from portal.triage import services
from portal.triage.forms import (
    ASSIGNMENT_LABELS,
    CHANNEL_LABELS,
    ActionForm,
    BulkForm,
    CategoryForm,
    DecisionForm,
    DuplicateForm,
    IntakeForm,
    NoteForm,
    ReasonForm,
    RouteForm,
    TitleForm,
    TransferForm,
)
from portal.workflow.services import Actor, WorkflowError, allowed_moves

bp = Blueprint("triage", __name__)

JUST_ENTERED = "staff_just_entered"


# --- shared context ---------------------------------------------------------------


def _row_context(needs) -> dict:
    """What every queue row needs, loaded once for the whole page."""
    slas = {n.category.resolution_sla_days for n in needs if n.category}
    return {
        "categories": services.categories(),
        "organisations": services.active_organisations(),
        "due_defaults": services.default_due_dates(slas),
        "declines": services.last_declines([n.id for n in needs]),
        "now": utcnow(),
        "admin_actor": Actor.staff(current_user),
        "channel_labels": CHANNEL_LABELS,
        "queue_statuses": services.QUEUE_STATUSES,
        "allowed_moves": allowed_moves,
        "flags": need_flags(needs),
    }


def _need_context(need) -> dict:
    sla = need.category.resolution_sla_days
    return {
        "need": need,
        "moves": allowed_moves(need, Actor.staff(current_user)),
        "editable": need.status.is_editable,
        "events": services.full_timeline(need),
        "assignments": services.need_assignments(need),
        "requests": services.need_requests(need),
        "categories": services.categories(),
        "organisations": services.active_organisations(),
        "due_default": services.default_due_dates({sla}).get(sla),
        "now": utcnow(),
        "channel_labels": CHANNEL_LABELS,
        "assignment_labels": ASSIGNMENT_LABELS,
        "next_url": url_for("triage.need", ref=need.ref),
        "photos": photos_for_need(need, include_hidden=True),
        "hide_photo_form": HidePhotoForm(formdata=None),
        "flagged": need_flags([need]).get(need.id),
    }


def _need_or_404(ref: str):
    need = services.admin_need(ref)
    if need is None:
        abort(404)
    return need


def _origin() -> str:
    return "row" if request.form.get("origin") == "row" else "page"


def _back(need) -> str:
    if _origin() == "row":
        default = url_for("triage.queue")
    else:
        default = url_for("triage.need", ref=need.ref)
    target = safe_next(request.form.get("next"), default)
    return target if target.startswith("/admin") else default


def _respond(
    need, action: str, *, form=None, message: str = "", field: str | None = None, notice=""
):
    """One answer for every need action: the queue row or the need page for
    htmx, a 303 for plain posts, and the need page with the errors (422) when
    something was wrong."""
    failed = None
    if form is not None or message:
        errors = form.errors if form is not None else {}
        failed = {
            "action": action,
            "errors": {name: found for name, found in errors.items() if name is not None},
            "message": "" if field else message,
            "values": request.form,
        }
        if field:
            failed["errors"][field] = [message]
    if is_fragment_request():
        if _origin() == "row":
            need = services.admin_need(need.ref)
            return render(
                "triage/_queue_row.html",
                context={
                    **_row_context([need]),
                    "need": need,
                    "failed": failed,
                    "notice": notice,
                    "next_url": _back(need),
                },
            )
        context = _need_context(services.admin_need(need.ref))
        return render(
            "triage/need.html",
            "triage/_need_admin.html",
            context={**context, "failed": failed, "notice": notice},
        )
    if failed is not None:
        return render_invalid("triage/need.html", context={**_need_context(need), "failed": failed})
    flash(notice, "success")
    return redirect(_back(need), code=303)


def _act(ref: str, action: str, form, apply):
    """Validate, apply one service call, commit once; or show what was wrong
    with nothing saved."""
    need = _need_or_404(ref)

    def again(form):
        general = form.form_errors[0] if form.form_errors else ""
        return _respond(need, action, form=form, message=general)

    return submit_form(
        form,
        lambda: apply(need, form),
        done=lambda notice: _respond(need, action, notice=notice),
        again=again,
    )


# --- dashboard ----------------------------------------------------------------


@bp.get("/admin")
@admin_required
def dashboard():
    from datetime import timedelta

    from portal.metrics.services import compute

    counts = services.state_counts()
    requests = partner_services.pending_requests(limit=50)
    now = utcnow()
    return render(
        "triage/dashboard.html",
        context={
            "metrics": compute(start=now - timedelta(days=90), end=now, now=now),
            "counts": counts,
            "waiting": sum(counts[s] for s in services.QUEUE_STATUSES),
            "overdue": services.overdue_assignments(),
            "escalated": services.escalated_assignments(),
            "requests": requests,
            "request_needs": services.needs_by_id(r.assignment.need_id for r in requests),
            "oldest": services.oldest_waiting(),
            "now": utcnow(),
            "next_url": url_for("triage.dashboard"),
        },
    )


@bp.post("/admin/requests/<int:request_id>", endpoint="decide_request")
@admin_required
def decide(request_id: int):
    item = db.session.get(AssignmentRequest, request_id)
    if item is None:
        abort(404)
    form = DecisionForm()
    if not form.validate():
        abort(400)
    default = url_for("triage.dashboard")
    target = safe_next(form.next.data, default)
    target = target if target.startswith("/admin") else default
    try:
        partner_services.decide_request(
            item, current_user, form.decision.data == "grant", form.note.data or ""
        )
    except WorkflowError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect_after_post(target)
    db.session.commit()
    flash(
        _("The request was granted.")
        if form.decision.data == "grant"
        else _("The request was refused."),
        "success",
    )
    return redirect_after_post(target)


# --- the queue --------------------------------------------------------------------


@bp.get("/admin/triage")
@admin_required
def queue():
    filters = services.QueueFilters.from_args(request.args)
    page = services.queue_page(filters, after=arg_int("after"))
    context = _row_context(page.needs)
    return render(
        "triage/queue.html",
        "triage/_queue_results.html",
        context={
            "page": page,
            "filters": filters,
            "channels": list(Channel),
            "bulk_form": BulkForm(formdata=None, organisations=context["organisations"]),
            "next_url": request.full_path.rstrip("?"),
            "failed": None,
            "notice": "",
            **context,
        },
    )


@bp.post("/admin/triage/bulk")
@admin_required
def bulk():
    form = BulkForm(organisations=services.active_organisations())
    refs = list(dict.fromkeys(r.strip().upper() for r in request.form.getlist("need") if r))[:200]
    target = safe_next(form.next.data, url_for("triage.queue"))
    target = target if target.startswith("/admin/triage") else url_for("triage.queue")
    problems = []
    if not form.validate():
        if "csrf_token" in form.errors:
            abort(400)
        problems = [e for errors in form.errors.values() for e in errors]
    if not refs:
        problems.append(_("Select at least one need."))
    due_at = None
    if not problems:
        try:
            due_at = services.check_due_date(form.due_date.data)
        except WorkflowError as error:
            problems.append(str(error))
    if problems:
        for problem in problems:
            flash(problem, "error")
        filters = services.QueueFilters.from_args(request.args)
        page = services.queue_page(filters)
        context = _row_context(page.needs)
        return render_invalid(
            "triage/queue.html",
            context={
                "page": page,
                "filters": filters,
                "channels": list(Channel),
                "bulk_form": form,
                "next_url": target,
                "failed": None,
                "notice": "",
                "selected": set(refs),
                **context,
            },
        )
    try:
        result = services.bulk_apply(
            form.action.data,
            refs,
            current_user,
            organisation=form.chosen(),
            due_at=due_at,
            note=form.note.data or "",
        )
    except WorkflowError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect_after_post(target)
    db.session.commit()
    if result.done:
        flash(
            _(
                "%(n)d of %(total)d needs done: %(refs)s.",
                n=len(result.done),
                total=len(refs),
                refs=", ".join(result.done),
            ),
            "success",
        )
    for ref, reason in result.failed:
        flash(_("%(ref)s was not changed: %(reason)s", ref=ref, reason=reason), "error")
    return redirect_after_post(target)


# --- the admin page of a need ------------------------------------------------------


@bp.get("/admin/needs/<ref>")
@admin_required
def need(ref: str):
    item = _need_or_404(ref)
    return render("triage/need.html", context={**_need_context(item), "failed": None, "notice": ""})


@bp.get("/admin/needs/<ref>/duplicates")
@admin_required
def duplicates(ref: str):
    """Suggestions of the need to keep: a page of its own, or the list under
    the reference field for htmx."""
    item = _need_or_404(ref)
    q = arg_text("q", 100) or arg_text("duplicate_of", 100)
    origin = "row" if request.args.get("origin") == "row" else "page"
    return render(
        "triage/duplicates.html",
        "triage/_duplicate_suggestions.html",
        context={
            "need": item,
            "q": q,
            "origin": origin,
            "candidates": services.duplicate_candidates(item, q),
            "next_url": url_for("triage.queue")
            if origin == "row"
            else url_for("triage.need", ref=ref),
        },
    )


@bp.post("/admin/needs/<ref>/category")
@admin_required
def category(ref: str):
    def apply(need, form):
        services.change_category(need, current_user, form.chosen())
        return _("Category changed.")

    return _act(ref, "category", CategoryForm(categories=services.categories()), apply)


@bp.post("/admin/needs/<ref>/title")
@admin_required
def title(ref: str):
    def apply(need, form):
        services.correct_title(need, current_user, form.title.data)
        return _("Title corrected.")

    return _act(ref, "title", TitleForm(), apply)


def _publish(need, form) -> str:
    partner = services.publish_need(need, current_user)
    if partner is not None:
        return _("Published and sent to %(partner)s.", partner=partner.name)
    return _("Published.")


def _reject(need, form) -> str:
    services.reject_need(need, current_user, form.reason.data)
    return _("Rejected. The submitter sees the reason.")


def _close(need, form) -> str:
    services.close_unresolved(need, current_user, form.reason.data)
    return _("Closed without resolution.")


def _merge(need, form) -> str:
    kept = services.need_by_ref(form.duplicate_of.data)
    services.merge_duplicate(need, kept, current_user)
    return _("Merged into %(ref)s.", ref=kept.ref)


def _route_notice(need, partner, due_at) -> str:
    if due_at is None:
        return _("Sent to %(partner)s.", partner=partner.name)
    return _("Sent to %(partner)s, due %(date)s.", partner=partner.name, date=format_date(due_at))


def _route(need, form) -> str:
    due_at = services.check_due_date(form.due_date.data)
    partner = form.chosen()
    services.route_need(need, current_user, partner, due_at=due_at, note=form.note.data or "")
    return _route_notice(need, partner, due_at)


def _transfer(need, form) -> str:
    due_at = services.check_due_date(form.due_date.data)
    partner = form.chosen()
    services.transfer_need(need, current_user, partner, reason=form.note.data, due_at=due_at)
    return _route_notice(need, partner, due_at)


#: The workflow moves an admin makes on a need's page or queue row: the name of
#: the form on the page (its errors are shown there), the form, and the triage
#: service call. A move admins make is one row here; its URL is
#: /admin/needs/<ref>/moves/<move>.
ADMIN_MOVES = {
    "publish": ("publish", ActionForm, _publish),
    "reject": ("reject", ReasonForm, _reject),
    "close_unresolved": ("close", ReasonForm, _close),
    "mark_duplicate": ("duplicate", DuplicateForm, _merge),
    "route": ("route", lambda: RouteForm(organisations=services.active_organisations()), _route),
    "transfer": (
        "transfer",
        lambda: TransferForm(organisations=services.active_organisations()),
        _transfer,
    ),
}


@admin_required
def move(ref: str, move: str):
    """Every workflow move of the admin pages, through one view."""
    if move not in ADMIN_MOVES:
        abort(404)
    action, make_form, apply = ADMIN_MOVES[move]
    return _act(ref, action, make_form(), apply)


add_move_routes(
    bp,
    "/admin/needs/<ref>",
    move,
    {
        "publish": "publish",
        "reject": "reject",
        "close_unresolved": "close",
        "mark_duplicate": "duplicate",
        "route": "route",
        "transfer": "transfer",
    },
)


@bp.post("/admin/needs/<ref>/note")
@admin_required
def note(ref: str):
    def apply(need, form):
        services.add_note(need, current_user, form.text.data)
        return _("Internal note added.")

    return _act(ref, "note", NoteForm(), apply)


# --- staff-assisted intake -------------------------------------------------------------

staff_required = role_required(Role.ADMIN, Role.PARTNER)


def _intake_q(asked) -> dict:
    return {"asked": asked, "questions_url": url_for("triage.intake")}


@bp.route("/staff/needs/new", methods=["GET", "POST"])
@accepts_photos
@staff_required
def intake():
    categories = needs_services.active_categories()
    form = IntakeForm(categories=categories)
    if request.method == "GET":
        form.idempotency_key.data = new_form_key()
        form.channel.data = Channel.PHONE.value
        wanted = request.args.get("category", "")
        form.category.data = next((c.id for c in categories if str(c.id) == wanted), 0)
        # htmx asks for the questions of the category just chosen (#category-questions).
        asked = ask_questions(form.category.data)
        return render(
            "triage/intake.html",
            "needs/_questions.html",
            context={"form": form, **_intake_q(asked)},
        )
    if chose_next_level():  # without JavaScript: the area's next level, nothing saved
        photos = receive_form_photos(form)
        photos.keep()
        asked = ask_questions(form.category.data, request.form, check=False)
        return render(
            "triage/intake.html",
            "triage/_intake_form.html",
            context={"form": form, "photos": photos, **_intake_q(asked)},
        )
    valid = form.validate()
    asked = ask_questions(form.category.data, request.form)
    photos = receive_form_photos(form)
    if not (valid and asked.ok and photos.ok):
        photos.keep()  # the accepted ones wait for the corrected form
        return render_invalid(
            "triage/intake.html",
            "triage/_intake_form.html",
            context={"form": form, "photos": photos, **_intake_q(asked)},
            error_status=photos.error_status,
        )
    key = bind_form_key(form.idempotency_key.data)
    data = form.submission(
        key, locale=services.intake_locale(), answers=asked.answers, photos=photos
    )
    try:
        submission.submit(data, Actor.staff(current_user))  # commits once
    except (WorkflowError, submission.SubmissionError) as error:
        db.session.rollback()
        form.channel.errors = [*form.channel.errors, str(error)]
        photos.keep()
        return render_invalid(
            "triage/intake.html",
            "triage/_intake_form.html",
            context={"form": form, "photos": photos, **_intake_q(asked)},
        )
    session[JUST_ENTERED] = key
    return redirect_after_post(url_for("triage.intake_done"))


@bp.get("/staff/needs/submitted")
@staff_required
def intake_done():
    """The reference and tracking link, for staff to read out."""
    key = session.get(JUST_ENTERED)
    need = needs_services.need_by_idempotency_key(key) if key else None
    if need is None:
        return redirect(url_for("triage.intake"))
    response = render(
        "triage/intake_done.html",
        context={
            "need": need,
            "token": tracking_token_for(need),
            "channel_labels": CHANNEL_LABELS,
        },
    )
    response.headers["Cache-Control"] = "no-store"
    return response
