from __future__ import annotations

from flask import Blueprint, Response, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import services as auth_services
from portal.auth.forms import ChangePasswordForm, NotificationSettingsForm
from portal.auth.models import Delivery
from portal.extensions import db, limiter
from portal.htmx import redirect_after_post, render, render_invalid
from portal.me import services
from portal.me.forms import DeleteAccountForm
from portal.models_base import utcnow
from portal.notify import services as notify_services
from portal.privacy import export as privacy_export
from portal.privacy import services as privacy
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
    context = {
        "submissions": services.submissions_of(current_user),
        "supports": voting_services.supports_of_member(current_user),
        "votes": voting_services.votes_of_member(current_user),
        "follows": notify_services.followed_needs(current_user),
        "updates": notify_services.updates_for(current_user),
        "settings_form": settings,
        "password_form": password,
        "deletion_refusal": privacy.deletion_refusal(current_user),
    }
    return page("me/index.html", context=context)


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


def _per_account() -> str:
    """Count per account: many phones share one address behind carrier NAT."""
    if current_user.is_authenticated:
        return f"account:{current_user.id}"
    return get_remote_address()


@bp.get("/me/export")
@login_required
@limiter.limit(lambda: current_app.config["DATA_EXPORT_RATE_LIMIT"], key_func=_per_account)
def export():
    """A GET behind the login: it only reads, so a link (and the browser's own
    download) does; another site can make a browser ask for it but never read
    the answer. Rate limited per account, since it reads every photo."""
    data = privacy_export.member_export(current_user)
    filename = f"huiju-my-data-{utcnow():%Y%m%d}.zip"
    return Response(
        privacy_export.zip_stream(data),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/me/delete", methods=["GET", "POST"])
@login_required
@limiter.limit(_login_limit, key_func=_per_account, methods=["POST"])
def delete_account():
    user = current_user._get_current_object()
    form = DeleteAccountForm()
    refusal = privacy.deletion_refusal(user)
    if request.method == "GET" or refusal:
        status = 200 if request.method == "GET" else 403
        return render("me/delete.html", context={"form": form, "refusal": refusal}, status=status)
    if not form.validate():
        return render_invalid("me/delete.html", context={"form": form, "refusal": None})
    try:
        privacy.delete_account(user, form.password.data)
    except privacy.PrivacyError as error:
        db.session.rollback()
        if error.field == "password":
            form.password.errors.append(str(error))
            return render_invalid("me/delete.html", context={"form": form, "refusal": None})
        return render("me/delete.html", context={"form": form, "refusal": str(error)}, status=403)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Your account is deleted. Thank you for taking part."), "success")
    return redirect_after_post(url_for("core.home"))
