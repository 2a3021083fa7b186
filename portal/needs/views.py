from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.areas.forms import chose_next_level
from portal.areas.services import open_needs_in_area
from portal.areas.tree import ancestors, choice_for, resolve
from portal.categories.questions import ask_questions
from portal.comments.services import thread_for
from portal.core.params import arg_int, bounded_float
from portal.extensions import db, limiter
from portal.feedback.forms import FeedbackForm
from portal.feedback.services import can_give_feedback
from portal.forms import EmptyForm, bind_form_key, new_form_key
from portal.htmx import is_fragment_request, redirect_after_post, render, render_invalid
from portal.i18n import current_locale_code
from portal.models_base import utcnow
from portal.needs import rules, services, submission
from portal.needs.forms import NeedForm
from portal.needs.location import point_or_none, public_point, suggest_area
from portal.needs.models import NeedStatus
from portal.needs.tokens import tracking_token_for
from portal.notify.services import is_following
from portal.partners.cohandlers import co_handlers_of
from portal.partners.services import current_assignment
from portal.photos.services import photos_for_need, receive_form_photos
from portal.photos.views import accepts_photos
from portal.privacy import services as privacy
from portal.projects.services import projects_for_need
from portal.voting.services import supported_need_ids
from portal.workflow.services import Actor, WorkflowError, allowed_moves, transition
from portal.workflow.statuses import in_order, with_trait

#: How many open needs the hint lists near the pin or in the area.
NEARBY_LIMIT = 5

bp = Blueprint("needs", __name__)

JUST_SUBMITTED = "just_submitted"


@bp.get("/needs")
def index():
    filters = services.NeedFilters.from_args(request.args)
    page = services.public_needs_page(filters, before=arg_int("before"), after=arg_int("after"))
    return render(
        "needs/index.html",
        "needs/_results.html",
        context={
            "page": page,
            "filters": filters,
            "categories": services.active_categories(),
            "statuses": in_order(with_trait("listed")),
            "area_choice": choice_for(filters.area),
        },
    )


def _submit_rate_limit() -> str:
    return current_app.config["SUBMIT_RATE_LIMIT"]


def _only_validating() -> bool:
    return bool(request.form.get("_validate"))


def _saves_nothing() -> bool:
    """A live check, or the area's "Choose" button without photos: nothing is
    saved or processed, so the submission rate limit does not count it."""
    if _only_validating():
        return True
    return chose_next_level() and not any(f.filename for f in request.files.getlist("photos"))


def _touched(form: NeedForm) -> set[str]:
    """Fields whose errors the live check shows: the ones filled in so far and the
    one just left, so an untouched field does not shout at the user."""
    filled = {
        name
        for name, f in form._fields.items()
        if any(v not in ("", "0") for v in (f.raw_data or []))
    }
    return filled | {request.htmx.trigger_name or ""}


def _q(asked) -> dict:
    return {"asked": asked, "questions_url": url_for("needs.new")}


@bp.route("/needs/new", methods=["GET", "POST"])
@accepts_photos
@limiter.limit(_submit_rate_limit, methods=["POST"], exempt_when=_saves_nothing)
def new():
    categories = services.active_categories()
    form = NeedForm(categories=categories)
    if request.method == "GET":
        form.idempotency_key.data = new_form_key()
        wanted = request.args.get("category", "")
        for category in categories:  # by id, or by code (QR posters link with the code)
            if wanted in (str(category.id), category.code):
                form.category.data = category.id
        form.place.data = (request.args.get("place") or "")[:200]
        # htmx asks for the questions of the category just chosen (#category-questions).
        asked = ask_questions(form.category.data)
        return render(
            "needs/new.html",
            "needs/_questions.html",
            context={"form": form, "touched": None, **_q(asked)},
        )

    valid = form.validate()
    choosing = chose_next_level()
    asked = ask_questions(
        form.category.data, request.form, check=not (_only_validating() or choosing)
    )
    if _only_validating():
        # htmx asks as the user leaves a field: answer with the form and its errors,
        # but show errors only for fields the user has already filled in.
        return render(
            "needs/new.html",
            "needs/_form.html",
            context={"form": form, "touched": _touched(form), **_q(asked)},
        )
    photos = receive_form_photos(form)
    if choosing:  # without JavaScript: the area's next level, nothing saved
        photos.keep()
        return render(
            "needs/new.html",
            "needs/_form.html",
            context={"form": form, "touched": set(), "photos": photos, **_q(asked)},
        )
    if not (valid and asked.ok and photos.ok):
        photos.keep()  # the accepted ones wait for the corrected form
        return render_invalid(
            "needs/new.html",
            "needs/_form.html",
            context={"form": form, "touched": None, "photos": photos, **_q(asked)},
            error_status=photos.error_status,
        )

    key = bind_form_key(form.idempotency_key.data)
    data = form.submission(key, locale=current_locale_code(), answers=asked.answers, photos=photos)
    user = current_user if current_user.is_authenticated else None
    need, _token = submission.submit(data, Actor.public(user), submitter=user)  # commits once
    session[JUST_SUBMITTED] = {"ref": need.ref, "key": key}
    return redirect_after_post(url_for("needs.submitted"))


@bp.get("/needs/submitted")
def submitted():
    """The confirmation, with the private tracking link shown this once."""
    info = session.pop(JUST_SUBMITTED, None)
    if not info:
        return redirect(url_for("needs.new"))
    need = services.need_by_idempotency_key(info["key"])
    if need is None:
        abort(404)
    token = tracking_token_for(need)
    # no-store: portal.privacy
    return render("needs/submitted.html", context={"need": need, "token": token})


@bp.get("/needs/similar")
def similar():
    """The hint of the need form: similar titles, and open needs near the pin
    or in the chosen area (at most NEARBY_LIMIT, the nearest first)."""
    title = (request.args.get("title") or "")[:120]
    point = point_or_none(
        bounded_float(request.args.get("lat"), rules.LATITUDE.min, rules.LATITUDE.max),
        bounded_float(request.args.get("lon"), rules.LONGITUDE.min, rules.LONGITUDE.max),
    )
    area = resolve(request.args.getlist("area")).area
    needs = services.similar_needs(title)
    shown = [n.id for n in needs]
    nearby = services.nearby_needs(point, exclude=shown) if point else []
    if area is not None and len(nearby) < NEARBY_LIMIT:
        # The same area's open needs too: "support this instead".
        shown += [n.id for n in nearby]
        nearby += [n for n in open_needs_in_area(area.id, limit=NEARBY_LIMIT) if n.id not in shown][
            : NEARBY_LIMIT - len(nearby)
        ]
    return render(
        "needs/similar.html",
        "needs/_similar.html",
        context={
            "title": title,
            "point": point,
            "needs": needs,
            "nearby": nearby,
            "suggested_area": suggest_area(point) if area is None else None,
            "oob": is_fragment_request(),
        },
    )


@bp.get("/needs/<ref>")
def show(ref: str):
    need = services.public_need(ref)
    if need is None:
        abort(404)
    if need.status == NeedStatus.DUPLICATE and need.duplicate_of is not None:
        if need.duplicate_of.is_listed:
            return redirect(url_for("needs.show", ref=need.duplicate_of.ref), code=301)
        abort(404)

    user = current_user if current_user.is_authenticated else None
    return render(
        "needs/show.html",
        context={
            "need": need,
            "events": services.timeline(need),
            "count": need.support_count,
            "supported": bool(supported_need_ids(current_user, [need.id])),
            "support_form": EmptyForm(),
            "following": is_following(need, current_user),
            "follow_form": EmptyForm(),
            "feedback_form": FeedbackForm(formdata=None)
            if can_give_feedback(need, user, False)
            else None,
            "assignment": current_assignment(need),
            "co_handlers": co_handlers_of(need),
            "projects": projects_for_need(need),
            "thread": thread_for(need=need, user=user),
            "photos": photos_for_need(need),
            "point": public_point(need),
            "area_trail": ancestors(need.area),
            "now": utcnow(),
        },
    )


def _tracked_need_or_404(token: str):
    need = services.need_by_tracking_token(token)
    if need is None:
        abort(404)
    return need


@bp.get("/track/<token>")
def track(token: str):
    need = _tracked_need_or_404(token)

    actor = Actor.submitter(token_verified=True)
    response = render(
        "needs/track.html",
        context={
            "need": need,
            "token": token,
            "events": services.timeline(need),
            "moves": allowed_moves(need, actor),
            "photos": photos_for_need(need),
            "form": EmptyForm(),
            "feedback_form": FeedbackForm(formdata=None)
            if can_give_feedback(need, None, True)
            else None,
            "contact_erased": privacy.contact_is_erased(need),
        },
    )
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.post("/track/<token>/withdraw")
def withdraw(token: str):
    need = _tracked_need_or_404(token)
    form = EmptyForm()
    if not form.validate():
        abort(400)
    try:
        transition(need, "withdraw", Actor.submitter(token_verified=True))
        db.session.commit()
        flash(_("Your need was withdrawn. Thank you for letting us know."), "success")
    except WorkflowError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect_after_post(url_for("needs.track", token=token))


def _confirm_erasure(token: str, need, *, withdraw: bool):
    response = render(
        "needs/track_erase.html",
        context={"need": need, "token": token, "withdraw": withdraw, "form": EmptyForm()},
    )
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@bp.route("/track/<token>/delete-contact", methods=["GET", "POST"])
def erase_contact(token: str):
    """The submitter's "delete my contact details": asked on a page of its own
    (works without JavaScript), done on its POST."""
    need = _tracked_need_or_404(token)
    if request.method == "GET":
        return _confirm_erasure(token, need, withdraw=False)
    if not EmptyForm().validate():
        abort(400)
    privacy.erase_contact(need)
    db.session.commit()
    flash(
        _("Your contact details are deleted. We will not e-mail you about this need again."),
        "success",
    )
    return redirect_after_post(url_for("needs.track", token=token))


@bp.route("/track/<token>/withdraw-and-delete", methods=["GET", "POST"])
def withdraw_and_erase(token: str):
    need = _tracked_need_or_404(token)
    if request.method == "GET":
        if not privacy.can_withdraw(need):
            return redirect(url_for("needs.track", token=token))
        return _confirm_erasure(token, need, withdraw=True)
    if not EmptyForm().validate():
        abort(400)
    try:
        privacy.withdraw_and_erase(need)
    except privacy.PrivacyError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect_after_post(url_for("needs.track", token=token))
    db.session.commit()
    flash(
        _(
            "Your need is withdrawn and your contact details are deleted. "
            "Thank you for letting us know."
        ),
        "success",
    )
    return redirect_after_post(url_for("needs.track", token=token))
