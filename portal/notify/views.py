from __future__ import annotations

from flask import Blueprint, abort, request, url_for
from flask_login import current_user, login_required

from portal.extensions import db
from portal.forms import EmptyForm
from portal.htmx import is_fragment_request, redirect_after_post, render
from portal.needs import services as needs_services
from portal.notify import services

bp = Blueprint("notify", __name__)


@bp.post("/needs/<ref>/follow")
@login_required
def follow(ref: str):
    need = needs_services.listed_need(ref)
    if need is None:
        abort(404)
    if not EmptyForm().validate():
        abort(400)
    if request.form.get("action") == "remove":
        services.unfollow(need, current_user)
    else:
        services.follow(need, current_user)
    db.session.commit()
    if is_fragment_request():
        return render(
            "notify/_follow.html",
            context={
                "need": need,
                "following": services.is_following(need, current_user),
                "follow_form": EmptyForm(),
            },
        )
    return redirect_after_post(url_for("needs.show", ref=need.ref) + "#follow")
