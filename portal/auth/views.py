from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from portal.auth import lockout, services, sessions
from portal.auth import two_factor as tfa
from portal.auth.forms import (
    EmailOnlyForm,
    LoginForm,
    RegisterForm,
    ResetPasswordForm,
    SecondFactorForm,
    TwoFactorSetupForm,
)
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
bp.before_app_request(sessions.check_staff_session)


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
            return render_invalid("auth/register.html", context={"form": form})
        services.register(
            form.display_name.data, form.email.data, form.password.data, current_locale_code()
        )
        db.session.commit()
        session["registered_email"] = form.email.data
        return redirect_after_post(url_for("auth.check_email"))
    return render("auth/register.html", context={"form": form})


@bp.get("/register/check-email")
def check_email():
    return render("auth/check_email.html", context={"email": session.get("registered_email", "")})


@bp.get("/verify/<token>")
def verify(token: str):
    user = services.verify_email(token)
    if user is None:
        return render("auth/link_invalid.html", context={"form": EmailOnlyForm()}, status=400)
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
            return render_invalid("auth/login.html", context={"form": form, "next_url": next_url})
        # A locked account refuses every login without looking at the password
        # (see portal/auth/lockout.py), known address or not.
        until = lockout.locked_until(form.email.data)
        if until is not None:
            return _locked(form, next_url, until)
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            until = lockout.record_failure(form.email.data)
            db.session.commit()
            if until is not None:
                return _locked(form, next_url, until)
            form.password.errors.append(_("The e-mail address or the password is wrong."))
            return render_invalid("auth/login.html", context={"form": form, "next_url": next_url})
        if not user.is_verified:
            form.email.errors.append(
                _("Please confirm your e-mail address first: follow the link we sent you.")
            )
            return render_invalid(
                "auth/login.html",
                context={"form": form, "next_url": next_url, "resend": EmailOnlyForm()},
            )
        lockout.clear(user.email)
        db.session.commit()
        if user.is_staff and (user.has_two_factor or tfa.must_set_up(user)):
            # Staff: the password alone logs nobody in.
            sessions.start_pending(user, next_url, set_up=not user.has_two_factor)
            endpoint = "auth.two_factor_setup" if not user.has_two_factor else "auth.two_factor"
            return redirect(url_for(endpoint), code=303)
        return _log_in(user, next_url, remember=bool(form.remember.data))
    return render("auth/login.html", context={"form": form, "next_url": next_url})


def _log_in(user: User, next_url: str, *, remember: bool = False):
    session.clear()  # a fresh session: nothing from before the login carries over
    login_user(user, remember=remember and not user.is_staff)
    flash(_("Welcome, %(name)s.", name=user.display_name), "success")
    return redirect(next_url, code=303)


def _no_pending_login(had_one: bool):
    if had_one:
        flash(_("Your login took too long. Please log in again."), "info")
    return redirect(url_for("auth.login"), code=303 if request.method == "POST" else 302)


def _locked_during_second_step(pending: sessions.Pending, until):
    """The lock also ends the pending login: back to the login page, saying why."""
    sessions.clear_pending()
    return _locked(LoginForm(formdata=None, email=pending.user.email), pending.next_url, until)


@bp.route("/two-factor", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"], deduct_when=_failed)
def two_factor():
    """The second step of a staff login: a code from the app or a recovery code.
    Wrong codes count towards the account's lock like wrong passwords."""
    had_one = sessions.PENDING in session
    pending = sessions.pending()
    if pending is None or pending.set_up:
        return _no_pending_login(had_one)
    user = pending.user
    form = SecondFactorForm()
    if request.method == "POST":
        if not form.validate():
            return render_invalid("auth/two_factor.html", context={"form": form})
        until = lockout.locked_until(user.email)
        if until is not None:
            return _locked_during_second_step(pending, until)
        method = tfa.check_second_factor(user, form.code.data)
        if method is None:
            until = lockout.record_failure(user.email)
            db.session.commit()
            if until is not None:
                return _locked_during_second_step(pending, until)
            form.code.errors.append(
                _("This code is wrong or was used already. Please type the newest code.")
            )
            form.code.data = ""
            return render_invalid("auth/two_factor.html", context={"form": form})
        lockout.clear(user.email)
        left = tfa.recovery_codes_left(user) if method == tfa.RECOVERY else None
        db.session.commit()
        response = _log_in(user, pending.next_url)
        if left is not None:
            flash(
                ngettext(
                    "You used a recovery code; %(num)d is left. Each works only once.",
                    "You used a recovery code; %(num)d are left. Each works only once.",
                    left,
                ),
                "info",
            )
        return response
    return render("auth/two_factor.html", context={"form": form})


def _setup_user():
    """Who sets up two-factor sign-in here: a logged-in staff member, or one whose
    login is waiting for it (the password was right, the admins require it)."""
    if current_user.is_authenticated:
        if not current_user.is_staff:
            abort(403)
        return current_user._get_current_object(), None
    pending = sessions.pending()
    if pending is None or not pending.set_up:
        return None, None
    return pending.user, pending


#: The session key of the secret being set up (shown on the page anyway).
SETUP_KEY = "two_factor_setup"


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@limiter.limit(_limit("LOGIN_RATE_LIMIT"), methods=["POST"], deduct_when=_failed)
def two_factor_setup():
    """Scan the QR code (or type the secret), confirm with a code, and see the
    recovery codes, once. The secret waits in the session until confirmed."""
    had_one = sessions.PENDING in session
    user, pending = _setup_user()
    if user is None:
        return _no_pending_login(True) if had_one else login_manager.unauthorized()
    if user.has_two_factor:
        return _no_store(
            render(
                "auth/two_factor_status.html",
                context={"user": user, "codes_left": tfa.recovery_codes_left(user)},
            )
        )
    secret = session.get(SETUP_KEY)
    if not isinstance(secret, str) or len(secret) != 32:
        secret = session[SETUP_KEY] = tfa.new_secret()
    form = TwoFactorSetupForm()
    if request.method == "POST":
        if not form.validate():
            return _setup_page(user, secret, form, pending, invalid=True)
        step = tfa.matching_step(secret, form.code.data)
        if step is None:
            form.code.errors.append(
                _(
                    "This code does not match. Check that the time on your phone is right "
                    "and type the newest code."
                )
            )
            form.code.data = ""
            return _setup_page(user, secret, form, pending, invalid=True)
        codes = tfa.enable(user, secret, step)
        db.session.commit()
        session.pop(SETUP_KEY, None)
        next_url = url_for("me.index")
        if pending is not None:
            next_url = pending.next_url
            session.clear()
            login_user(user)
        return _no_store(
            render("auth/two_factor_codes.html", context={"codes": codes, "next_url": next_url})
        )
    return _setup_page(user, secret, form, pending)


def _setup_page(user: User, secret: str, form, pending, *, invalid: bool = False):
    uri = tfa.provisioning_uri(user, secret)
    context = {
        "form": form,
        "qr": tfa.qr_data_uri(uri),
        "secret": tfa.grouped(secret),
        "required_from": tfa.required_from(),
        "during_login": pending is not None,
    }
    page = "auth/two_factor_setup.html"
    return _no_store(
        render_invalid(page, context=context) if invalid else render(page, context=context)
    )


def _no_store(response):
    """Secrets and recovery codes stay out of every cache."""
    response.headers["Cache-Control"] = "no-store"
    return response


def _locked(form: LoginForm, next_url: str, until):
    """The login page with the lock's message; the password field stays empty."""
    form.password.data = ""
    return render_invalid(
        "auth/login.html",
        context={"form": form, "next_url": next_url, "locked_minutes": lockout.minutes_left(until)},
    )


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
            return render_invalid("auth/reset_request.html", context={"form": form})
        services.request_password_reset(form.email.data, current_locale_code())
        db.session.commit()
        return render("auth/reset_sent.html", context={"email": form.email.data})
    return render("auth/reset_request.html", context={"form": form})


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(_limit("ACCOUNT_RATE_LIMIT"), methods=["POST"])
def reset(token: str):
    user = read_password_token(token)
    if user is None:
        return render("auth/link_invalid.html", context={"form": EmailOnlyForm()}, status=400)
    form = ResetPasswordForm(email=user.email)
    if request.method == "POST":
        if not form.validate():
            return render_invalid("auth/reset.html", context={"form": form})
        services.set_password(user, form.password.data)
        if not user.is_verified:
            user.email_verified_at = utcnow()  # the link proved the address
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        flash(_("Your password is changed. Please log in with the new one."), "success")
        return redirect(url_for("auth.login"), code=303)
    return render("auth/reset.html", context={"form": form})
