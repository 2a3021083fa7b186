"""Admin triage: the queue, the admin page of a need, staff intake, and the
decisions on partners' requests (shown on the dashboard, portal/admin)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.areas.forms import chose_next_level
from portal.auth.decorators import admin_required, role_required
from portal.auth.models import Role
from portal.categories.questions import ask_questions
from portal.core.moves import add_move_routes
from portal.core.params import arg_int, arg_text
from portal.core.views import safe_next
from portal.extensions import db
from portal.forms import bind_form_key, new_form_key, submit_form
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.models_base import utcnow
from portal.moderation.services import need_flags
from portal.needs import services as needs_services
from portal.needs import submission
from portal.needs.location import exact_point
from portal.needs.models import Channel
from portal.needs.tokens import tracking_token_for
from portal.partners import cohandlers
from portal.partners import services as partner_services
from portal.partners.models import AssignmentRequest
from portal.photos.forms import HidePhotoForm
from portal.photos.services import photos_for_need, receive_form_photos
from portal.photos.views import accepts_photos
from portal.routing import services as routing
from portal.triage import offers, services
from portal.triage.forms import (
    ASSIGNMENT_LABELS,
    CHANNEL_LABELS,
    BulkForm,
    DecisionForm,
    IntakeForm,
    PositionForm,
)
from portal.workflow.services import Actor, WorkflowError, allowed_moves

bp = Blueprint("triage", __name__)

JUST_ENTERED = "staff_just_entered"


# --- shared context ---------------------------------------------------------------


def _forms_for(page: dict):
    """`form_for(need, name, origin, next_url, failed)` for the templates: the
    form shown again after a refused post, or a new one with the need's defaults."""

    def form_for(need, name, origin, next_url, failed=None):
        if failed and failed["action"] == name and failed["need_id"] == need.id:
            return failed["form"]
        return offers.build_form(need, name, origin, next_url, bound=False, page=page)

    return form_for


def _row_context(needs) -> dict:
    """What every queue row needs, loaded once for the whole page."""
    slas = {n.category.resolution_sla_days for n in needs if n.category}
    page = {
        "categories": services.categories(),
        "organisations": services.active_organisations(),
        "due_defaults": services.default_due_dates(slas),
        "suggestions": routing.suggestions(needs),
    }
    return {
        **page,
        "declines": services.last_declines([n.id for n in needs]),
        "now": utcnow(),
        "admin_actor": Actor.staff(current_user),
        "channel_labels": CHANNEL_LABELS,
        "queue_statuses": services.QUEUE_STATUSES,
        "allowed_moves": allowed_moves,
        "flags": need_flags(needs),
        "offers": offers,
        "form_for": _forms_for(page),
    }


def _need_context(need) -> dict:
    sla = need.category.resolution_sla_days
    page = {
        "categories": services.categories(),
        "organisations": services.active_organisations(),
        "due_defaults": services.default_due_dates({sla}),
        "co_handlers": cohandlers.co_handlers_of(need),
        "suggestions": routing.suggestions([need]),
    }
    return {
        **page,
        "need": need,
        "moves": allowed_moves(need, Actor.staff(current_user)),
        "events": services.full_timeline(need),
        "assignments": services.need_assignments(need),
        "requests": services.need_requests(need),
        "now": utcnow(),
        "channel_labels": CHANNEL_LABELS,
        "assignment_labels": ASSIGNMENT_LABELS,
        "next_url": url_for("triage.need", ref=need.ref),
        "photos": photos_for_need(need, include_hidden=True),
        "hide_photo_form": HidePhotoForm(formdata=None),
        "flagged": need_flags([need]).get(need.id),
        "offers": offers,
        "form_for": _forms_for(page),
        "exact_point": exact_point(need),
        "position_form": PositionForm(formdata=None, data={"lat": need.lat, "lon": need.lon}),
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


def _respond(need, action: str, *, form=None, notice=""):
    """One answer for every need action: the queue row or the need page for
    htmx, a 303 for plain posts, and the need page with the errors (422) when
    something was wrong (`form`: the refused form, errors in place)."""
    failed = None
    if form is not None:
        failed = {
            "action": action,
            "need_id": need.id,
            "form": form,
            "message": form.form_errors[0] if form.form_errors else "",
            "field_errors": any(name is not None for name in form.errors),
        }
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


def _act(ref: str, action: str):
    """Validate the offer's form, apply its one service call, commit once; or
    show what was wrong with nothing saved."""
    need = _need_or_404(ref)
    found = offers.offer(action)
    if found is None:
        abort(404)
    page = {}
    if action in ("route", "transfer", "add_supporters"):
        page["organisations"] = services.active_organisations()
    elif action == "ask_input":
        page["co_handlers"] = cohandlers.co_handlers_of(need)
    elif action == "category":
        page["categories"] = services.categories()
    form = offers.build_form(need, action, _origin(), "", bound=True, page=page)

    def apply():
        return str(found.apply(need, form) or found.told)

    return submit_form(
        form,
        apply,
        done=lambda notice: _respond(need, action, notice=notice),
        again=lambda form: _respond(need, action, form=form),
    )


# --- requests from partners ---------------------------------------------------


@bp.post("/admin/requests/<int:request_id>", endpoint="decide_request")
@admin_required
def decide(request_id: int):
    item = db.session.get(AssignmentRequest, request_id)
    if item is None:
        abort(404)
    form = DecisionForm()
    if not form.validate():
        abort(400)
    default = url_for("admin.dashboard")
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
    return _act(ref, "category")


@bp.post("/admin/needs/<ref>/position")
@admin_required
def position(ref: str):
    """Place, move or remove the need's pin: a form of its own on the page
    (templates/needs/_location.html), since it comes with a map."""
    need = _need_or_404(ref)
    form = PositionForm()

    def apply() -> str:
        services.correct_position(need, current_user, form.point)
        return _("Position saved.") if form.point else _("Position removed.")

    return submit_form(
        form,
        apply,
        done=lambda notice: _respond(need, "position", notice=notice),
        again=lambda form: _respond(need, "position", form=form),
    )


@bp.post("/admin/needs/<ref>/title")
@admin_required
def title(ref: str):
    return _act(ref, "title")


@admin_required
def move(ref: str, move: str):
    """Every workflow move of the admin pages, through one view (the moves
    are described in `portal.triage.offers.OFFERS`)."""
    if not offers.is_admin_move(move):
        abort(404)
    return _act(ref, move)


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


@bp.post("/admin/needs/<ref>/supporters")
@admin_required
def add_supporters(ref: str):
    return _act(ref, "add_supporters")


@bp.post("/admin/needs/<ref>/input-requests")
@admin_required
def ask_input(ref: str):
    return _act(ref, "ask_input")


@bp.post("/admin/needs/<ref>/note")
@admin_required
def note(ref: str):
    return _act(ref, "note")


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
