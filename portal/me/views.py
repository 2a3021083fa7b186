from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user

from portal.auth import services as auth_services
from portal.auth.forms import ChangePasswordForm, NotificationSettingsForm
from portal.auth.models import Delivery
from portal.extensions import db
from portal.htmx import redirect_after_post, render, render_invalid
from portal.me import services
from portal.notify import services as notify_services
from portal.voting import services as voting_services

bp = Blueprint("me", __name__)


def _page(status: int = 200, **forms):
    settings = forms.get("settings") or NotificationSettingsForm(
        notify_own=current_user.notify_own.value,
        notify_followed=current_user.notify_followed.value,
        formdata=None,
    )
    password = forms.get("password") or ChangePasswordForm(email=current_user.email, formdata=None)
    page = render_invalid if status == 422 else render
    return page(
        "me/index.html",
        submissions=services.submissions_of(current_user),
        supports=voting_services.supports_of_member(current_user),
        votes=voting_services.votes_of_member(current_user),
        follows=notify_services.followed_needs(current_user),
        updates=notify_services.updates_for(current_user),
        settings_form=settings,
        password_form=password,
    )


@bp.get("/me")
@login_required
def index():
    return _page()


@bp.post("/me/notifications")
@login_required
def notifications():
    form = NotificationSettingsForm()
    if not form.validate():
        return _page(422, settings=form)
    current_user.notify_own = Delivery(form.notify_own.data)
    current_user.notify_followed = Delivery(form.notify_followed.data)
    db.session.commit()
    flash(_("Your notification settings are saved."), "success")
    return redirect_after_post(url_for("me.index") + "#notifications")


@bp.post("/me/password")
@login_required
def change_password():
    form = ChangePasswordForm(email=current_user.email)
    if not form.validate():
        return _page(422, password=form)
    if not current_user.check_password(form.current.data):
        form.current.errors.append(_("The current password is wrong."))
        return _page(422, password=form)
    user = current_user._get_current_object()
    auth_services.set_password(user, form.password.data)
    db.session.commit()
    # Every other session ends; this one continues with the new version.
    login_user(user, remember=bool(request.cookies.get("remember_token")))
    flash(_("Your password is changed. Other devices have been logged out."), "success")
    return redirect_after_post(url_for("me.index"))
