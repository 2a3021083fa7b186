from __future__ import annotations

from flask import Blueprint, abort, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core.params import bounded_int
from portal.extensions import db
from portal.feedback import services
from portal.feedback.forms import FeedbackForm
from portal.feedback.models import Resolved
from portal.htmx import redirect_after_post
from portal.needs import services as needs_services
from portal.workflow.services import WorkflowError

bp = Blueprint("feedback", __name__)


def _save(need, form: FeedbackForm, *, user=None, via_token=False) -> bool:
    if not form.validate():
        for errors in form.errors.values():
            flash(errors[0], "error")
        return False
    try:
        saved = services.give_feedback(
            need,
            resolved=Resolved(form.resolved.data),
            satisfaction=bounded_int(form.satisfaction.data, 1, 5),
            comment=form.comment.data or "",
            user=user,
            via_token=via_token,
        )
    except WorkflowError as error:
        db.session.rollback()
        flash(str(error), "error")
        return False
    db.session.commit()
    if not saved:
        flash(_("You have already given feedback on this answer."), "info")
    else:
        flash(_("Thank you for your feedback."), "success")
    return True


@bp.post("/track/<token>/feedback")
def by_submitter(token: str):
    need = needs_services.need_by_tracking_token(token)
    if need is None:
        abort(404)
    _save(need, FeedbackForm(), via_token=True)
    return redirect_after_post(url_for("needs.track", token=token) + "#feedback")


@bp.post("/needs/<ref>/feedback")
@login_required
def by_follower(ref: str):
    need = needs_services.listed_need(ref)
    if need is None:
        abort(404)
    _save(need, FeedbackForm(), user=current_user)
    return redirect_after_post(url_for("needs.show", ref=ref) + "#feedback")
