from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import services
from portal.auth.forms import EmailOnlyForm, LoginForm, RegisterForm, ResetPasswordForm
from portal.auth.models import User
from portal.auth.tokens import read_password_token
from portal.core.params import bounded_int
from portal.core.views import safe_next
from portal.extensions import db, limiter, login_manager
from portal.forms import EmptyForm
from portal.htmx import redirect_after_post, render, render_invalid
from portal.i18n import current_locale_code
from portal.models_base import utcnow

bp = Blueprint("auth", __name__, url_prefix="/auth")


@login_manager.user_loader
def load_user(user_id: str):
    """Loads the account named in the session, if its session version still
    matches: logout and password changes raise the version."""
    account, _sep, version = user_id.partition(":")
    user_id_number = bounded_int(account)
    version_number = bounded_int(version, 0)
    if user_id_number is None or version_number is None:
        return None
    user = db.session.get(User, user_id_number)
    if user is None or user.session_version != version_number or not user.active:
        return None
    return user


def _limit(name: str):
    return lambda: current_app.config[name]


def _failed(response) -> bool:
    return response.status_code >= 400


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_limit("ACCOUNT_RATE_LIMIT"), methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("me.index"))
    form = RegisterForm()
    if request.method == "POST":
        if not form.validate():
            return render_invalid("auth/register.html", form=form)
        services.register(
            form.display_name.data, form.email.data, form.password.data, current_locale_code()
        )
        db.session.commit()
        session["registered_email"] = form.email.data
        return redirect_after_post(url_for("auth.check_email"))
    return render("auth/register.html", form=form)


@bp.get("/register/check-email")
def check_email():
    return render("auth/check_email.html", email=session.get("registered_email", ""))


@bp.get("/verify/<token>")
def verify(token: str):
    user = services.verify_email(token)
    if user is None:
        return render("auth/link_invalid.html", form=EmailOnlyForm(), status=400)
    db.session.commit()
    flash(_("Thank you, your e-mail address is confirmed. You can log in now."), "success")
    return redirect(url_for("auth.login"))


@bp.post("/verify/resend")
@limiter.limit(_limit("ACCOUNT_RATE_LIMIT"))
def resend_verification():
    form = EmailOnlyForm()
    if form.validate():
        user = services.user_by_email(form.email.data)
        if user is not None and not user.is_verified:
            services.send_verification(user)
            db.session.commit()
    flash(_("If that address has an unconfirmed account, we have sent a new link."), "info")
    return redirect_after_post(url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"], deduct_when=_failed)
def login():
    next_url = safe_next(request.values.get("next"), default=url_for("me.index"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    if request.method == "POST":
        if not form.validate():
            return render_invalid("auth/login.html", form=form, next_url=next_url)
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            form.password.errors.append(_("The e-mail address or the password is wrong."))
            return render_invalid("auth/login.html", form=form, next_url=next_url)
        if not user.is_verified:
            form.email.errors.append(
                _("Please confirm your e-mail address first: follow the link we sent you.")
            )
            return render_invalid(
                "auth/login.html", form=form, next_url=next_url, resend=EmailOnlyForm()
            )
        session.clear()  # a fresh session: nothing from before the login carries over
        login_user(user, remember=form.remember.data)
        flash(_("Welcome, %(name)s.", name=user.display_name), "success")
        return redirect(next_url, code=303)
    return render("auth/login.html", form=form, next_url=next_url)


@bp.post("/logout")
@login_required
def logout():
    form = EmptyForm()
    if form.validate():
        current_user.end_all_sessions()
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("You are logged out."), "info")
    return redirect(url_for("core.home"), code=303)


@bp.route("/reset", methods=["GET", "POST"])
@limiter.limit(_limit("ACCOUNT_RATE_LIMIT"), methods=["POST"])
def reset_request():
    form = EmailOnlyForm()
    if request.method == "POST":
        if not form.validate():
            return render_invalid("auth/reset_request.html", form=form)
        services.request_password_reset(form.email.data, current_locale_code())
        db.session.commit()
        return render("auth/reset_sent.html", email=form.email.data)
    return render("auth/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("ACCOUNT_RATE_LIMIT"), methods=["POST"])
def reset(token: str):
    user = read_password_token(token)
    if user is None:
        return render("auth/link_invalid.html", form=EmailOnlyForm(), status=400)
    form = ResetPasswordForm(email=user.email)
    if request.method == "POST":
        if not form.validate():
            return render_invalid("auth/reset.html", form=form)
        services.set_password(user, form.password.data)
        if not user.is_verified:
            user.email_verified_at = utcnow()  # the link proved the address
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your password is changed. Please log in with the new one."), "success")
        return redirect(url_for("auth.login"), code=303)
    return render("auth/reset.html", form=form)
